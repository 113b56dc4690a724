"""cluster_verify asks EPMD once per host: every node there gets its port from that one NAMES answer,
and its probes share that answer's fate (an EPMD that says nothing costs each node one timeout, not one
per probe). The answer binds no name: the node at the port EPMD gives must prove the name in its handshake."""

import struct
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.cluster import specs, violations
from tests.support.hostile import HostilePeer

CHECKS = ('epmd', 'auth', 'wrong_cookie')


def names_epmd(lines):
    """An EPMD that answers one NAMES request (one connection only: a second request gets no answer)."""
    def answer(sock):
        sock.recv(64)
        sock.sendall(struct.pack('>I', 4369) + lines)
        sock.close()
    return HostilePeer(answer)


def short(member):
    return member.name.split('@')[0].encode()


def test_one_names_request_serves_every_node_on_the_host(cluster):
    peer = names_epmd(b''.join(b'name %s at port %d\n' % (short(m), m.listen) for m in cluster))
    spec = specs(cluster)
    for member in spec:
        member['epmd_port'] = peer.port
    try:
        findings, summary = verify(spec, cluster[0].cookie.encode(), checks=CHECKS, timeout=3)
    finally:
        peer.stop()
    assert violations(findings) == []
    assert summary['by_check']['auth'] == {'ok': 3, 'violation': 0}
    assert summary['by_check']['wrong_cookie'] == {'ok': 3, 'violation': 0}


def test_a_port_that_is_another_nodes_is_no_proof(cluster):
    """EPMD lists a's name on b's port: EPMD is answered for, the node there is not a."""
    a, b = cluster[:2]
    peer = names_epmd(b'name %s at port %d\n' % (short(a), b.listen))
    spec = specs([a])
    spec[0]['epmd_port'] = peer.port
    try:
        findings, dummy = verify(spec, a.cookie.encode(), checks=CHECKS, timeout=3)
    finally:
        peer.stop()
    by_check = dict((f['check'], f) for f in findings)
    assert by_check['epmd']['outcome'] == 'ok'
    assert (by_check['auth']['observed'], by_check['auth']['outcome']) == ('wrong_node', 'violation')


@pytest.mark.parametrize('lines, why', [
    (b'name a at port 9100\nname a at port 9101\n', 'with two ports'),
    (b'name a at port 70000\n', 'on port 70000'),
    (b'name a at port 0\n', 'on port 0'),
    (b'name b at port 9100\n', "no node named 'a'"),
])
def test_an_answer_no_probe_can_use_fails_them_all(lines, why):
    peer = names_epmd(lines)
    try:
        findings, dummy = verify([{'name': 'a@127.0.0.1', 'epmd_port': peer.port}], b'cookie', checks=CHECKS,
                                 timeout=3)
    finally:
        peer.stop()
    assert [f['check'] for f in violations(findings)] == list(CHECKS)
    assert all(why in f['detail'] for f in findings)


def test_an_epmd_that_says_nothing_costs_one_timeout():
    def silent(sock):
        sock.recv(64)
        sock.recv(64)  # until the client gives up
    peer = HostilePeer(silent)
    started = time.monotonic()
    try:
        findings, dummy = verify([{'name': 'a@127.0.0.1', 'epmd_port': peer.port}], b'cookie', checks=CHECKS,
                                 timeout=1.5)
    finally:
        peer.stop()
    assert time.monotonic() - started < 2 * 1.5  # the probes waited on EPMD's answer, not on their own
    assert [(f['check'], f['observed']) for f in findings] == [(check, 'timeout') for check in CHECKS]
