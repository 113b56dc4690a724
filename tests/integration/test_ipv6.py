"""IPv6 distribution (-proto_dist inet6_tcp) on ::1: through EPMD and without it."""

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd as epmd_client, node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
from tests.support.otp import Epmd, Node, free_port

V6 = ['-proto_dist', 'inet6_tcp', '-kernel', 'inet_dist_use_interface', '{0,0,0,0,0,0,0,1}']


@pytest.fixture(scope='module')
def epmd6():
    daemon = Epmd('::1')
    yield daemon
    daemon.stop()


@pytest.fixture(scope='module')
def node6(epmd6, nodes):
    nodes.append(Node('six@::1', epmd6, args=V6))
    return nodes[-1]


def test_inet6_node_registers_and_authenticates(epmd6, node6):
    assert [name for name, _port in epmd_client.names('::1', epmd6.port, timeout=2)[1]] == ['six']
    report = node.probe(node=node6.name, cookie=node6.cookie.encode(), epmd_port=epmd6.port, timeout=5)
    assert report['outcome'] == 'accepted', report
    assert report['peer_name'] == 'six@::1'
    wrong = node.probe(node=node6.name, cookie=b'wrong', epmd_port=epmd6.port, timeout=5)
    assert wrong['outcome'] == 'rejected', wrong


def test_inet6_node_facts_show_the_v6_listen_socket(epmd6, node6):
    conn = node6.connect()
    try:
        facts = node_facts(conn)
    finally:
        conn.close()
    assert facts['listen'] == [{'address': '::1', 'port': node6.port, 'protocol': 'tcp', 'proto_dist': 'inet6_tcp'}]
    assert facts['proto_dist'] == 'inet6_tcp'


def test_epmdless_inet6_node_by_address_and_port(nodes):
    port = free_port()
    target = Node('six-noepmd@::1', None, register=False, args=V6 + ['-erl_epmd_port', str(port)])
    nodes.append(target)
    target.wait_listening(port)
    report = node.probe(host='::1', port=port, cookie=target.cookie.encode(), timeout=5)
    assert report['outcome'] == 'accepted', report
