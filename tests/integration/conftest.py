"""Real OTP 25 nodes on loopback, shared by the integration tests."""

import pytest

from tests.support.cluster import start_mesh
from tests.support.hostile_facts import fake_nodes
from tests.support.otp import Epmd, Node, free_port, hardened_args
from tests.support.pki import CA, ssl_dist_optfile


@pytest.fixture(scope='session')
def epmd():
    daemon = Epmd()
    yield daemon
    daemon.stop()


@pytest.fixture(scope='session')
def nodes():
    """Nodes started by a test, stopped at the end of the session."""
    started = []
    yield started
    for node in started:
        node.stop()


@pytest.fixture(scope='session')
def plain_node(epmd, nodes):
    nodes.append(Node('plain', epmd))
    return nodes[-1]


@pytest.fixture(scope='session')
def hardened_node(epmd, nodes, tmp_path_factory):
    port = free_port()
    nodes.append(Node('hardened', epmd, args=hardened_args(port) + ['-kernel', 'net_ticktime', '20']))
    return nodes[-1]


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    base = tmp_path_factory.mktemp('pki')
    ca = CA(base / 'ca')
    foreign = CA(base / 'foreign', 'foreign CA')
    return {
        'ca': ca.cert_path, 'foreign_ca': foreign.cert_path,
        'node': ca.issue('node'), 'client': ca.issue('client'),
        'intruder': foreign.issue('intruder'), 'expired': ca.issue('expired', expired=True),
        'dir': base, 'authority': ca,
    }


@pytest.fixture(scope='session')
def tls_node(epmd, nodes, pki):
    cert, key = pki['node']
    optfile = ssl_dist_optfile(pki['dir'] / 'ssl_dist.conf', cert, key, pki['ca'])
    nodes.append(Node('tls', epmd, args=['-proto_dist', 'inet_tls', '-ssl_dist_optfile', str(optfile)]))
    return nodes[-1]


@pytest.fixture(scope='session')
def epmdless_node(nodes):
    port = free_port()
    node = Node('noepmd', None, register=False, args=['-erl_epmd_port', str(port)])
    nodes.append(node)
    node.wait_listening(port)
    return node


@pytest.fixture()
def cluster(epmd):
    """A fresh 3-node mesh per test: the tests break it."""
    members = start_mesh(epmd)
    yield members
    for member in members:
        member.stop()


@pytest.fixture
def peers():
    """Fake nodes that know the cookie (tests/support/hostile_facts.py), stopped when the test ends."""
    make, stop_all = fake_nodes()
    yield make
    stop_all()


@pytest.fixture
def started():
    """Nodes and peers a test starts, stopped by PID when it ends."""
    things = []
    yield things
    for thing in things:
        thing.stop()
