"""The hardened node, read on its host."""

import ipaddress


def private_address(host):
    """The host's address in the lab's private network."""
    for line in host.check_output('ip -o -4 addr show').splitlines():
        address = line.split()[3].split('/')[0]
        if ipaddress.ip_address(address) in ipaddress.ip_network('10.231.20.0/24'):
            return address
    raise AssertionError('no private address')


def listeners(host, port):
    return {line.split()[3] for line in host.check_output("ss -Hltn 'sport = :%d'" % port).splitlines()}


def test_epmd_only_on_loopback_and_the_private_address(host):
    assert listeners(host, 4369) == {'127.0.0.1:4369', '%s:4369' % private_address(host)}


def test_dist_port_on_the_private_address_inside_the_range(host):
    found = set()
    for port in range(9100, 9103):
        found |= listeners(host, port)
    assert len(found) == 1 and found.pop().startswith(private_address(host) + ':')


def test_cookie_file_and_argv(host):
    cookie = host.file('/var/lib/beam/.erlang.cookie')
    assert cookie.user == 'beam' and cookie.mode == 0o400
    # no process on the host carries a cookie in its argv
    # the bracket keeps this grep from matching its own command line
    assert host.run("grep -l -a -- '-setcooki[e]' /proc/[0-9]*/cmdline").stdout.strip() == ''
    assert '-setcookie' not in host.file('/etc/beamsec/app/vm.args').content_string


def test_nft_table(host):
    ruleset = host.check_output('nft list table inet beamsec')
    assert 'tcp dport { 4369, 9100-9102 } counter' in ruleset and 'drop' in ruleset
    assert host.service('beamsec-firewall.service').is_enabled
    assert host.file('/etc/beamsec/nftables.nft').exists


def test_unit_has_no_secret(host):
    unit = host.file('/etc/systemd/system/beam-app.service').content_string
    assert 'HOME=/var/lib/beam' in unit and '-args_file /etc/beamsec/app/vm.args' in unit
    assert 'cookie' not in unit.lower().replace('.erlang.cookie', '').replace('the cookie never', '')
