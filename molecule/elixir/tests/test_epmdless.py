"""No EPMD on the host; the node listens on its one fixed port on the private address."""


def test_no_epmd(host):
    assert host.check_output("ss -Hltn 'sport = :4369'") == ''
    for unit in ('epmd.socket', 'epmd.service'):
        assert host.check_output('systemctl is-enabled %s || true' % unit).strip() == 'masked'
    assert not host.process.filter(comm='epmd')


def test_fixed_port_on_the_private_address(host):
    lines = host.check_output("ss -Hltn 'sport = :9100'").splitlines()
    assert len(lines) == 1 and lines[0].split()[3].startswith('10.231.41.')
    vm_args = host.file('/etc/beamsec/app/vm.args').content_string
    assert '-start_epmd false' in vm_args and '-erl_epmd_port 9100' in vm_args


def test_firewall_has_no_epmd_port(host):
    ruleset = host.check_output('nft list table inet beamsec')
    assert 'dport 9100 accept' in ruleset.replace('{ ', '').replace(' }', '')
