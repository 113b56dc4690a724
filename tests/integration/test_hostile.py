"""Faults and hostile peers: a status within the deadline, bounded memory, no traceback."""

import socket
import time
import tracemalloc

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node, rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import ProtocolError, Timeout
from tests.support.hostile import HostilePeer, fake_handshake, recv_frame, send_frame
from tests.support.otp import LOOPBACK

COOKIE = b'hostile-test-cookie'


def probe_peer(peer, timeout=1.0, **kwargs):
    kwargs.setdefault('cookie', COOKIE)
    started = time.monotonic()
    report = node.probe(host=LOOPBACK, port=peer.port, timeout=timeout, **kwargs)
    return report, time.monotonic() - started


@pytest.fixture
def hostile():
    peers = []

    def make(behaviour, accept=True):
        peers.append(HostilePeer(behaviour, accept))
        return peers[-1]
    yield make
    for peer in peers:
        peer.stop()


def test_listener_that_never_accepts_times_out(hostile):
    peer = hostile(None, accept=False)
    report, took = probe_peer(peer, timeout=0.5)
    assert report['outcome'] == 'timeout'
    assert took < 1.0


def stall(sock):
    sock.recv(100)
    time.sleep(3)


def test_peer_that_stalls_after_our_name_times_out(hostile):
    report, took = probe_peer(hostile(stall), timeout=0.5)
    assert report['outcome'] == 'timeout'
    assert report['stage'] == 'recv_status'
    assert took < 1.0


def dribble(sock):
    """One byte every 0.2 s: each read returns data, only the deadline stops it."""
    sock.recv(100)
    sock.sendall(b'\x00\x40s')
    for dummy in range(20):
        sock.sendall(b'o')
        time.sleep(0.2)


def test_slow_dribble_cannot_extend_the_deadline(hostile):
    report, took = probe_peer(hostile(dribble), timeout=0.7)
    assert report['outcome'] == 'timeout'
    assert took < 1.2


def garbage(sock):
    sock.recv(100)
    sock.sendall(b'\x00\x05HELLO' + b'\x00' * 50)


def test_garbage_is_a_protocol_error(hostile):
    report, dummy = probe_peer(hostile(garbage))
    assert report['outcome'] == 'protocol_error'


def huge_handshake_frame(sock):
    sock.recv(100)
    sock.sendall(b'\xff\xff' + b'x' * 100)


def test_oversized_handshake_frame(hostile):
    report, dummy = probe_peer(hostile(huge_handshake_frame))
    assert report['outcome'] == 'protocol_error'
    assert 'exceeds' in report['msg']


def impostor(sock):
    fake_handshake(sock, COOKIE, know_cookie=False)


def test_peer_that_cannot_prove_the_cookie_is_never_accepted(hostile):
    report, dummy = probe_peer(hostile(impostor))
    assert report['outcome'] == 'accepts_any_cookie'
    assert 'cannot know' in report['msg']


def bad_flags(sock):
    recv_frame(sock)
    send_frame(sock, b'sok')
    send_frame(sock, b'N' + (0x4).to_bytes(8, 'big') + b'\x00\x00\x00\x01' * 2 + b'\x00\x01x')


def test_peer_without_mandatory_flags(hostile):
    report, dummy = probe_peer(hostile(bad_flags))
    assert report['outcome'] == 'protocol_error'
    assert 'mandatory flags' in report['msg']


def not_allowed(sock):
    recv_frame(sock)
    send_frame(sock, b'snot_allowed')


def test_status_not_allowed(hostile):
    assert probe_peer(hostile(not_allowed))[0]['outcome'] == 'not_allowed'


def test_v5_handshake_sends_complement_to_a_v6_challenge(hostile):
    seen = {}

    def record(sock):
        seen['first'], seen['complement'], seen['ok'] = fake_handshake(sock, COOKIE)
    peer = hostile(record)
    report, dummy = probe_peer(peer, version=5)
    assert report['outcome'] == 'accepted', report
    peer.thread.join(timeout=5)  # the peer records after its last send, which may be after our probe ends
    assert seen['first'][:3] == b'n\x00\x05'
    assert seen['complement'][:1] == b'c' and len(seen['complement']) == 9


def test_v5_handshake_with_an_old_challenge(hostile):
    def old(sock):
        fake_handshake(sock, COOKIE, challenge_kind=b'n')
    report, dummy = probe_peer(hostile(old), version=5)
    assert report['outcome'] == 'accepted', report
    assert report['peer_version'] == 5


def four_gigabytes_after_handshake(sock):
    fake_handshake(sock, COOKIE)
    sock.sendall(b'\xff\xff\xff\xff' + b'p' * 1000)
    time.sleep(2)


def test_4gb_length_prefix_after_handshake_is_refused_with_bounded_memory(hostile):
    peer = hostile(four_gigabytes_after_handshake)
    conn = node.connect_node(host=LOOPBACK, port=peer.port, cookie=COOKIE, timeout=2)
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match='exceeds'):
            rpc.call(conn, 'erlang', 'node', timeout=2)
        dummy, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        conn.close()
    assert peak < 1024 * 1024


def silent_after_handshake(sock):
    fake_handshake(sock, COOKIE)
    recv_frame(sock, 4)
    time.sleep(3)


def test_rpc_to_a_silent_peer_times_out(hostile):
    peer = hostile(silent_after_handshake)
    conn = node.connect_node(host=LOOPBACK, port=peer.port, cookie=COOKIE, timeout=2)
    started = time.monotonic()
    try:
        with pytest.raises(Timeout):
            rpc.call(conn, 'erlang', 'node', timeout=0.5)
    finally:
        conn.close()
    assert time.monotonic() - started < 1.0


def test_unreachable_and_unresolvable():
    report = node.probe(host='no-such-host.invalid', port=1, cookie=b'x', timeout=2)
    assert report['outcome'] == 'unreachable'


def test_reset_during_handshake_is_reported(hostile):
    def reset(sock):
        sock.recv(100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
        sock.close()
    report, dummy = probe_peer(hostile(reset))
    assert report['outcome'] == 'protocol_error'
    assert report['stage'] == 'recv_status'


def test_alive_status_is_answered_false(hostile):
    """A node of our name is connected already: never replace its connection."""
    seen = {}

    def alive(sock):
        recv_frame(sock)
        send_frame(sock, b'salive')
        seen['answer'] = recv_frame(sock)
    peer = hostile(alive)
    report, dummy = probe_peer(peer, timeout=3)
    assert report['outcome'] == 'protocol_error' and 'does not replace' in report['msg'], report
    peer.thread.join(timeout=5)  # the peer's read of our answer may finish after our probe does
    assert seen['answer'] == b'sfalse'


def test_dist_info_budget_covers_every_call(hostile):
    """A node that answers the handshake and then nothing: facts fail within one timeout."""
    from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
    from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
    peer = hostile(silent_after_handshake)
    deadline = Deadline(0.8)
    started = time.monotonic()
    conn = node.connect_node(host=LOOPBACK, port=peer.port, cookie=COOKIE, deadline=deadline)
    try:
        with pytest.raises(Timeout):
            node_facts(conn, deadline=deadline)
    finally:
        conn.close()
    assert time.monotonic() - started < 1.3
