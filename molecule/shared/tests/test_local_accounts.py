"""Local accounts: on a hardened host, only root and the node's own user reach EPMD and the node's
distribution port, on every local address; any other account (here `nobody`) gets nothing, not even
EPMD's names. Root and the node's user are the controls: the same probe, a different account."""

import pytest

# EPMD's NAMES_REQ; a distribution port answers nothing to it but takes the connection
PROBE = ("python3 -c 'import socket, sys; s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 3); "
         "s.sendall(bytes([0, 1, 110])); s.settimeout(1)\ntry: s.recv(64)\nexcept socket.timeout: pass' %s %d")


def targets(host):
    """(address, port) of every local listener on 4369 and 9100-9199."""
    found = set()
    for line in host.check_output("ss -Hltn '( sport = :4369 or ( sport >= :9100 and sport <= :9199 ) )'").splitlines():
        address, port = line.split()[3].rsplit(':', 1)
        found.add((address.strip('[]'), int(port)))
    return sorted(found)


def reaches(host, user, address, port):
    return host.run('runuser -u %s -- %s' % (user, PROBE % (address, port))).rc == 0


def test_only_root_and_the_node_user_reach_epmd_and_the_node(host):
    if host.run('nft list table inet beamsec').rc != 0:
        pytest.skip('no firewall table on this host')
    listening = targets(host)
    if not listening:
        pytest.skip('nothing listens for distribution on this host')
    node_user = host.check_output('ps -o user= -C beam.smp').split()[0]
    for address, port in listening:
        assert reaches(host, 'root', address, port), (address, port)
        assert reaches(host, node_user, address, port), (node_user, address, port)
        assert not reaches(host, 'nobody', address, port), ('nobody reached', address, port)
    counters = host.check_output('nft list chain inet beamsec output')
    assert 'reject with tcp reset' in counters and 'packets 0 ' not in counters
