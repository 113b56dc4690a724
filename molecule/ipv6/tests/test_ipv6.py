"""inet6_tcp nodes on the private IPv6 prefix; beam3 without distribution."""

import pytest


def listeners(host, port):
    return {line.split()[3] for line in host.check_output("ss -Hltn 'sport = :%d'" % port).splitlines()}


def beam_pid(host):
    return host.check_output('systemctl show -P MainPID beam-app.service').strip()


def cmdline(host):
    return host.file('/proc/%s/cmdline' % beam_pid(host)).content.split(b'\0')


@pytest.fixture()
def index(host):
    return int(host.check_output('hostname').strip()[-1])


def test_epmd_and_dist_on_v6(host, index):
    if index == 3:
        pytest.skip('beam3 has no distribution')
    private6 = 'fd31:20::1%d' % index
    assert listeners(host, 4369) == {'127.0.0.1:4369', '[::1]:4369', '[%s]:4369' % private6}
    dist = listeners(host, 9100) | listeners(host, 9101)
    assert dist == {'[%s]:%s' % (private6, addr.rsplit(':', 1)[1]) for addr in dist} and len(dist) == 1
    assert b'inet6_tcp' in host.file('/etc/beamsec/app/vm.args').content


def test_node_without_distribution(host, index):
    if index != 3:
        pytest.skip('only beam3 runs without distribution')
    vm_args = host.file('/etc/beamsec/app/vm.args').content_string
    assert '-proto_dist none' in vm_args and '-name' not in vm_args
    assert host.service('beam-app.service').is_running
    # the node runs, but listens nowhere and has no EPMD
    assert host.check_output('ss -Hltnp | grep -c beam.smp || true').strip() == '0'
    assert host.check_output("ss -Hltn 'sport = :4369'") == ''
    assert host.check_output('systemctl is-enabled epmd.socket || true').strip() == 'masked'
    # the running VM got the carrier that does not exist, so net_kernel cannot start later
    argv = cmdline(host)
    assert argv[argv.index(b'-proto_dist') + 1] == b'none'
    ruleset = host.check_output('nft list table inet beamsec')
    assert 'saddr' not in ruleset and 'tcp dport { 4369, 9100-9101 } counter' in ruleset


def test_no_cookie_in_any_argv(host):
    # the bracket keeps this grep from matching its own command line
    assert host.run("grep -l -a -- '-setcooki[e]' /proc/[0-9]*/cmdline").stdout.strip() == ''


def test_the_partition_detector_hears_its_peer_over_v6(host, index):
    """The boot hook's heartbeat on the IPv6 private address: open (the record exists), admitted by the firewall from
    the peer's v6 address only, and nothing recorded in a whole mesh."""
    if index == 3:
        pytest.skip('beam3 has no distribution')
    peer = 'fd31:20::1%d' % (3 - index)
    assert host.check_output("/usr/local/sbin/beamsec-app eval 'persistent_term:get(beamsec_partition, none).'") == '#{}'
    assert '[fd31:20::1%d]:4370' % index in host.check_output("ss -Hlun 'sport = :4370'")
    admitted = [line for line in host.check_output('nft list table inet beamsec').splitlines() if 'udp dport 4370' in line]
    assert len(admitted) == 2 and peer in admitted[0] and admitted[0].strip().endswith('accept'), admitted
    assert admitted[1].strip().startswith('udp dport 4370') and admitted[1].strip().endswith('drop'), admitted
