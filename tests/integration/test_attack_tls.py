"""Attack: `no_cert` (and dist_auth's tls_rejected) read a close during the TLS handshake as a
TLS refusal.

connection._tls_error maps SSLEOFError at stage 'tls' to TlsRejected. A node that closes the
TCP connection while our ClientHello waits (no TLS alert at all) is "refused in the TLS
handshake". A plain-TCP OTP node does exactly that: it reads our ClientHello's first two bytes
(0x16 0x03) as a 5,635-byte handshake frame, waits net_setuptime (7 s by default) and closes.
With a timeout above net_setuptime, a node with no TLS at all passes `no_cert`."""

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node as dist_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import random_cookie
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.hostile import HostilePeer
from tests.support.otp import Node


def test_a_plain_tcp_node_does_not_pass_no_cert(epmd, pki, started):
    # net_setuptime 1 only to keep the test short: the default 7 s meets any timeout above 7 s
    started.append(Node('plain_nocert', epmd, args=['-kernel', 'net_setuptime', '1']))
    node = started[-1]
    client, key = pki['client']
    tls = tls_context(str(client), str(key), str(pki['ca']))
    no_cert = tls_context(None, None, str(pki['ca']))
    spec = [{'name': node.name, 'epmd_port': epmd.port, 'public_addresses': [], 'expect': {}}]
    findings, dummy = verify(spec, node.cookie.encode(), tls=tls, no_cert_tls=no_cert, checks=('no_cert',),
                             timeout=4)
    [finding] = findings
    assert finding['outcome'] == 'violation', finding


def test_a_peer_that_just_closes_is_not_a_tls_refusal(pki, started):
    started.append(HostilePeer(lambda sock: sock.close()))
    report = dist_node.probe(host='127.0.0.1', port=started[-1].port, cookie=random_cookie(), timeout=3,
                             tls=tls_context(None, None, str(pki['ca'])))
    assert report['outcome'] != 'tls_rejected', report
