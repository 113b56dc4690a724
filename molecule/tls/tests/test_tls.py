"""TLS files and flags on each host."""


def test_key_and_certificates(host):
    key = host.file('/etc/beamsec/cluster-tls/tls/node.key')
    assert key.user == 'beam' and key.mode == 0o400
    for name in ('ca.pem', 'node.pem'):
        assert host.file('/etc/beamsec/cluster-tls/tls/%s' % name).mode == 0o444
    assert host.file('/etc/beamsec/cluster-tls/tls').mode == 0o750


def test_optfile_demands_mutual_tls13(host):
    optfile = host.file('/etc/beamsec/cluster-tls/ssl_dist.conf').content_string
    assert optfile.count('{verify, verify_peer}') == 2
    assert '{fail_if_no_peer_cert, true}' in optfile
    assert optfile.count("{versions, ['tlsv1.3']}") == 2
    assert 'verify_none' not in optfile


def test_vm_args(host):
    vm_args = host.file('/etc/beamsec/cluster-tls/vm.args').content_string
    assert '-proto_dist inet_tls' in vm_args and '-ssl_dist_optfile /etc/beamsec/cluster-tls/ssl_dist.conf' in vm_args


def test_the_node_itself_reaches_its_peers_over_tls(host):
    """OTP's own TLS client on the node (not our probe) checks each peer's certificate for its host part."""
    me = int(host.check_output('hostname')[-1])
    for other in {1, 2, 3} - {me}:
        ping = 'net_adm:ping(list_to_atom("app@10.231.40.1%d")).' % other
        assert host.check_output("/usr/local/sbin/beamsec-app eval '%s'" % ping) == 'pong'
