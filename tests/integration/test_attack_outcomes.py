"""Attack: a reset after our challenge_reply is reported 'rejected' (wrong_cookie: ok).

The threat model says `rejected` is "a clean close right after our challenge_reply"; but
Connection._os_error maps ECONNRESET to Closed, which handshake() turns into Rejected. A
reset is an abort (a crashed acceptor, a proxy, a tool), not the node's verdict on the cookie."""

import socket
import struct

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node as dist_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import random_cookie
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import DEFAULT_FLAGS, DFLAG_PUBLISHED
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support import hostile_facts as fake
from tests.support.hostile import HostilePeer, recv_frame, send_frame

NAME = b'app@127.0.0.1'


@pytest.fixture
def resetter():
    def behave(sock):
        recv_frame(sock)
        send_frame(sock, b'sok')
        send_frame(sock, struct.pack('>cQIIH', b'N', DEFAULT_FLAGS | DFLAG_PUBLISHED, 1, 7, len(NAME)) + NAME)
        recv_frame(sock)  # our challenge_reply
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        sock.close()  # RST, not FIN
    peer = HostilePeer(behave)
    yield peer.port
    peer.stop()


def test_a_reset_after_the_reply_is_not_rejected(resetter):
    report = dist_node.probe(node=NAME.decode(), host='127.0.0.1', port=resetter, cookie=random_cookie(), timeout=3)
    assert report['outcome'] != 'rejected', report


# A failed rpc carries the outcome 'accepted' (rpc.BadRpc.outcome): a facts finding that failed reads
# observed: accepted, and dist_info/dist_cookie fail with outcome=accepted. The word should say it failed.


def test_a_failed_rpc_is_not_reported_as_accepted(peers):
    peer = peers(fake.hostile(**{'sys:get_state:net_kernel': (etf.Atom('badrpc'), etf.Atom('timeout'))}))
    findings, dummy = verify([{'name': fake.NAME, 'port': peer.port, 'expect': {}}], fake.COOKIE, checks=('auth', 'facts'),
                             timeout=3)
    [failed] = [f for f in findings if f['outcome'] == 'violation']
    assert failed['observed'] != 'accepted', failed
