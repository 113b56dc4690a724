"""The verifier's false passes, each with the unsafe node it must flag (real OTP 25 nodes
where OTP can be that node, a hostile peer where only an attacker would be)."""

import os
import shutil
import socket
import subprocess
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node as dist_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import gen_digest
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.cluster import call, facts_of, specs, violations
from tests.support.hostile import HostilePeer, fake_handshake, recv_frame, send_frame
from tests.support.otp import LOOPBACK, Node, free_port, hardened_args
from tests.support.pki import ssl_dist_optfile
from tests.support.tools import run_ansible_module


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def by_check(findings, node):
    return {f['check']: f for f in findings if f['node'] == node}


# 1. membership: every connected node counts, in the inventory or not, hidden or not

def test_an_intruder_connected_to_a_member_is_flagged(cluster, started):
    va = cluster[0]
    started.append(Node('intruder', va.epmd, cookie=va.cookie))
    intruder = started[-1]
    assert call(va, 'net_kernel', 'connect_node', Atom(intruder.name)) is True
    exact = specs(cluster)
    for spec in exact:
        spec['expect']['peers'] = [m.name for m in cluster if m.name != spec['name']]
    findings, dummy = verify(exact, va.cookie.encode(), checks=('auth', 'membership'), timeout=5)
    assert [(f['node'], f['check']) for f in violations(findings)] == [(va.name, 'membership')]
    assert intruder.name in by_check(findings, va.name)['membership']['observed']
    assert intruder.name in by_check(findings, va.name)['membership']['detail']


def test_a_hidden_connection_is_flagged_as_hidden(cluster, started):
    va = cluster[0]
    started.append(Node('lurker', va.epmd, cookie=va.cookie, args=['-hidden']))
    assert call(va, 'net_kernel', 'connect_node', Atom(started[-1].name)) is True
    findings, dummy = verify(specs(cluster), va.cookie.encode(), checks=('auth', 'membership'), timeout=5)
    assert [(f['node'], f['check']) for f in violations(findings)] == [(va.name, 'hidden_peers')]
    assert by_check(findings, va.name)['hidden_peers']['observed'] == {'hidden': [started[-1].name], 'pending': []}
    # the probe's own hidden connection is never counted
    assert by_check(findings, cluster[1].name)['hidden_peers']['outcome'] == 'ok'


# 2. name binding: the node that answers is the node asked for

def test_a_port_that_another_node_holds_does_not_pass_auth(cluster):
    va, vb = cluster[0], cluster[1]
    spec = [{'name': va.name, 'port': vb.listen}]  # host:port pointing at the wrong node
    findings, dummy = verify(spec, va.cookie.encode(), checks=('auth',), timeout=5)
    assert [(f['check'], f['observed'], f['outcome']) for f in findings] == [('auth', 'wrong_node', 'violation')]
    assert vb.name in findings[0]['detail']
    code, out = run_ansible_module('beamsec.cluster.dist_auth', {
        'node': va.name, 'host': LOOPBACK, 'port': vb.listen, 'cookie_file': str(va.home / '.erlang.cookie'),
        'expect': ['accepted']})
    assert code != 0 and 'wrong_node' in out and va.cookie not in out


def test_an_impostor_under_another_name_never_gets_our_digest(started):
    seen = {}

    def impostor(sock):
        fake_handshake(sock, b'the-cookie', name=b'other@127.0.0.1', seen=seen)
    started.append(HostilePeer(impostor))
    report = dist_node.probe(node='app@127.0.0.1', host=LOOPBACK, port=started[-1].port, cookie=b'the-cookie',
                             timeout=2)
    assert report['outcome'] == 'wrong_node' and report['stage'] == 'recv_challenge'
    started[-1].stop()
    assert 'reply' not in seen  # OTP's rule: the name is checked before the digest goes out


# 3. what OTP does, not what was configured

def test_dist_auto_connect_as_a_string_auto_connects_and_is_reported_so(epmd, started):
    cookie = 'auto-connect-test-cookie-0123456789'
    started.append(Node('peer_ac', epmd, cookie=cookie))
    peer = started[-1]
    started.append(Node('typo', epmd, cookie=cookie, args=['-kernel', 'dist_auto_connect', '"never"']))
    typo = started[-1]
    started.append(Node('never', epmd, cookie=cookie, args=['-kernel', 'dist_auto_connect', 'never']))
    never = started[-1]
    assert facts_of(typo)['dist_auto_connect'] == 'always'
    assert facts_of(typo)['dist_auto_connect_configured'] == '"never"'  # the string, as configured
    assert facts_of(never)['dist_auto_connect'] == 'never'
    # what OTP does: a send to an unconnected node connects the typo node, not the 'never' one
    for sender in (typo, never):
        call(sender, 'erlang', 'send', (Atom('nobody'), Atom(peer.name)), Atom('hello'))
    assert wait_for(lambda: peer.name in call(typo, 'erlang', 'nodes'))
    assert peer.name not in call(never, 'erlang', 'nodes')
    spec = [{'name': typo.name, 'epmd_port': epmd.port, 'expect': {'dist_auto_connect': 'never'}}]
    findings, dummy = verify(spec, cookie.encode(), checks=('auth', 'facts'), timeout=5)
    assert by_check(findings, typo.name)['dist_auto_connect']['outcome'] == 'violation'


def test_connect_all_is_what_global_runs_with(epmd, started):
    cookie = 'connect-all-test-cookie-0123456789'
    started.append(Node('both', epmd, cookie=cookie, args=['-kernel', 'connect_all', 'true', '-connect_all', 'false']))
    both = started[-1]
    facts = facts_of(both)
    assert facts['connect_all'] is True and facts['connect_all_source'] == 'global'
    assert facts['connect_all_init_argument'] == [['false']]
    # and it does connect transitively: joining b pulls in c
    started.append(Node('ca_b', epmd, cookie=cookie))
    started.append(Node('ca_c', epmd, cookie=cookie))
    b, c = started[-2], started[-1]
    assert call(b, 'net_kernel', 'connect_node', Atom(c.name)) is True
    assert call(both, 'net_kernel', 'connect_node', Atom(b.name)) is True
    assert wait_for(lambda: c.name in call(both, 'erlang', 'nodes'))
    spec = [{'name': both.name, 'epmd_port': epmd.port, 'expect': {'connect_all': False}}]
    findings, dummy = verify(spec, cookie.encode(), checks=('auth', 'facts'), timeout=5)
    assert by_check(findings, both.name)['connect_all']['outcome'] == 'violation'


def test_connect_all_changed_at_run_time_is_not_believed(plain_node):
    assert call(plain_node, 'application', 'set_env', Atom('kernel'), Atom('connect_all'), False) == 'ok'
    try:
        facts = facts_of(plain_node)
        assert facts['connect_all'] is True and facts['connect_all_kernel_env'] is False
    finally:
        call(plain_node, 'application', 'set_env', Atom('kernel'), Atom('connect_all'), True)


def test_a_doubled_proto_dist_is_plain_tcp_and_reported_so(epmd, started, pki):
    cert, key = pki['node']
    optfile = ssl_dist_optfile(pki['dir'] / 'doubled.conf', cert, key, pki['ca'])
    started.append(Node('doubled', epmd, args=['-proto_dist', 'inet_tls', '-proto_dist', 'inet_tls',
                                               '-ssl_dist_optfile', str(optfile)]))
    facts = facts_of(started[-1])  # a plain TCP handshake works: OTP ignored both flags
    assert facts['proto_dist_argument'] == [['inet_tls'], ['inet_tls']]
    assert facts['proto_dist'] == 'inet_tcp' and [s['protocol'] for s in facts['listen']] == ['tcp']


def test_the_carrier_finding_under_tls(tls_node, pki):
    with_cert = tls_context(str(pki['client'][0]), str(pki['client'][1]), str(pki['ca']))
    spec = [{'name': tls_node.name, 'epmd_port': tls_node.epmd.port}]
    findings, dummy = verify(spec, tls_node.cookie.encode(), tls=with_cert, checks=('auth', 'facts'), timeout=5)
    assert by_check(findings, tls_node.name)['proto_dist']['outcome'] == 'ok'


# 4. exposure: an open port is exposure, silent or not

def silent(sock):
    sock.recv(100)
    time.sleep(3)


def test_a_silent_open_port_is_exposure(started):
    started.append(HostilePeer(silent))
    spec = [{'name': 'app@10.0.0.1', 'port': started[-1].port, 'public_addresses': [LOOPBACK]}]
    findings, dummy = verify(spec, b'', checks=('exposure',), timeout=0.5)
    dist = [f for f in findings if f['check'] == 'exposure_dist']
    assert [(f['observed'], f['outcome']) for f in dist] == [('open (timeout)', 'violation')]


@pytest.fixture
def dropped_port():
    """A loopback address whose port the host's own nftables drops, removed after (by name)."""
    if not shutil.which('nft') or os.geteuid() != 0:
        pytest.skip('needs nft as root')
    table, address, port = 'beamsec_test_%d' % os.getpid(), '127.0.0.77', free_port()
    rules = ('table inet %s {\n chain out {\n  type filter hook output priority 0;\n'
             '  ip daddr %s tcp dport %d drop\n }\n}\n' % (table, address, port))
    subprocess.run(['nft', '-f', '-'], input=rules, text=True, check=True)
    yield address, port
    subprocess.run(['nft', 'delete', 'table', 'inet', table], check=True)


def test_a_dropped_port_is_filtered_not_open(dropped_port):
    address, port = dropped_port
    spec = [{'name': 'app@10.0.0.1', 'port': port, 'public_addresses': [address]}]
    findings, dummy = verify(spec, b'', checks=('exposure',), timeout=0.5)
    dist = [f for f in findings if f['check'] == 'exposure_dist']
    assert [(f['observed'], f['outcome']) for f in dist] == [('filtered', 'ok')]


# 5. 'rejected' is a clean close right after our challenge_reply, nothing else

@pytest.mark.parametrize('cut', [b'\x00', b'\x00\x11', b'\x00\x11a\x01\x02'])
def test_a_challenge_ack_cut_off_is_not_rejected(started, cut):
    def cut_ack(sock):
        recv_frame(sock)
        send_frame(sock, b'sok')
        fake = b'N' + (0x1FFFFFFFF).to_bytes(8, 'big') + b'\x00\x00\x00\x07\x00\x00\x00\x01'
        send_frame(sock, fake + len(b'x@127.0.0.1').to_bytes(2, 'big') + b'x@127.0.0.1')
        recv_frame(sock)
        sock.sendall(cut)
        sock.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
    started.append(HostilePeer(cut_ack))
    report = dist_node.probe(host=LOOPBACK, port=started[-1].port, cookie=b'c', timeout=2)
    assert report['outcome'] == 'protocol_error', report
    assert report['stage'] == 'recv_challenge_ack'


# 6. probes that do not need the real cookie never present it

def test_the_plaintext_probe_gives_an_impostor_nothing_to_crack(started):
    real = b'the-real-cookie-of-the-cluster'
    seen = {}

    def plaintext_impostor(sock):
        fake_handshake(sock, real, name=b'app@127.0.0.1', seen=seen)
    started.append(HostilePeer(plaintext_impostor))
    spec = [{'name': 'app@127.0.0.1', 'port': started[-1].port}]
    findings, dummy = verify(spec, real, tls=tls_context(verify=False), checks=('plaintext',), timeout=2)
    assert [(f['check'], f['outcome']) for f in findings] == [('plaintext', 'violation')]
    started[-1].stop()
    assert seen['reply'][5:] != gen_digest(seen['challenge'], real)


# 7. a node that takes any cookie

def test_a_node_that_accepts_any_cookie_is_named_so(started):
    def anything_goes(sock):
        fake_handshake(sock, b'its-own-cookie', name=b'app@127.0.0.1', check_reply=False)
    started.append(HostilePeer(anything_goes))
    spec = [{'name': 'app@127.0.0.1', 'port': started[-1].port}]
    findings, dummy = verify(spec, b'our-cookie', checks=('wrong_cookie',), timeout=2)
    assert [(f['check'], f['observed'], f['outcome']) for f in findings] == [
        ('wrong_cookie', 'accepts_any_cookie', 'violation')]
    assert 'cannot know' in findings[0]['detail']


def test_a_real_tls_node_answers_plain_tcp_with_tls(tls_node):
    report = dist_node.probe(node=tls_node.name, epmd_port=tls_node.epmd.port, cookie=b'x' * 32, timeout=3)
    assert report['outcome'] == 'tls_required', report


def test_hardened_nodes_keep_their_facts(epmd, started):
    port = free_port()
    started.append(Node('keeps', epmd, args=hardened_args(port)))
    facts = facts_of(started[-1])
    assert facts['connect_all'] is False and facts['connect_all_source'] == 'global'
    assert facts['dist_auto_connect'] == 'never'
