"""Handshake outcomes against real OTP 25 nodes on loopback."""

import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd as epmd_client, node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context
from tests.support.otp import LOOPBACK, Node, free_port


def probe(target, **kwargs):
    kwargs.setdefault('cookie', target.cookie.encode())
    if target.epmd is not None and 'port' not in kwargs:
        kwargs.setdefault('node', target.name)
        kwargs.setdefault('epmd_port', target.epmd.port)
    kwargs.setdefault('timeout', 5)
    return node.probe(**kwargs)


def test_right_cookie_is_accepted(plain_node):
    report = probe(plain_node)
    assert report['outcome'] == 'accepted', report
    assert report['peer_name'] == plain_node.name
    assert report['port'] == plain_node.port
    assert 'PUBLISHED' in report['peer_flags']


def test_wrong_cookie_is_rejected_after_the_challenge(plain_node):
    report = probe(plain_node, cookie=b'not-the-cookie')
    assert report['outcome'] == 'rejected', report
    assert report['stage'] == 'recv_challenge_ack'
    assert 'Invalid challenge reply' in wait_for_log(plain_node, 'Invalid challenge reply')


def wait_for_log(target, text, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        log = target.log.read_text()
        if text in log:
            return log
        time.sleep(0.05)
    return target.log.read_text()


def test_v5_name_is_refused_by_otp25_before_the_challenge(plain_node):
    """OTP 25 only takes 'N': the refusal says nothing about the cookie, so it is no 'rejected'."""
    for cookie in (plain_node.cookie.encode(), b'wrong'):
        report = probe(plain_node, cookie=cookie, version=5)
        assert report['outcome'] == 'protocol_error', report
        assert report['stage'] == 'recv_status'


def test_not_registered_and_no_epmd(epmd, plain_node):
    report = probe(plain_node, node='ghost@127.0.0.1')
    assert report['outcome'] == 'not_registered'
    report = probe(plain_node, epmd_port=free_port())
    assert report['outcome'] == 'no_epmd'


def test_stopped_node(epmd):
    target = Node('shortlived', epmd)
    port = target.port
    target.stop()
    assert probe(target)['outcome'] == 'not_registered'
    assert probe(target, host=LOOPBACK, port=port)['outcome'] == 'refused'


def test_epmdless_node_by_host_and_port(epmdless_node):
    report = probe(epmdless_node, host=LOOPBACK, port=epmdless_node.port)
    assert report['outcome'] == 'accepted', report
    assert 'epmd' not in report
    assert report['peer_name'] == epmdless_node.name
    assert probe(epmdless_node, host=LOOPBACK, port=epmdless_node.port, cookie=b'x')['outcome'] == 'rejected'


def test_sname_node(epmd, nodes):
    nodes.append(Node('short@localhost', epmd))
    assert probe(nodes[-1], host=LOOPBACK)['outcome'] == 'accepted'


def test_epmd_names_lists_running_nodes(epmd, plain_node, hardened_node):
    epmd_port, registered = epmd_client.names(LOOPBACK, epmd.port)
    assert epmd_port == epmd.port
    assert ('plain', plain_node.port) in registered
    assert ('hardened', hardened_node.port) in registered


@pytest.fixture
def client_tls(pki):
    def make(cert='client', ca='ca', **kwargs):
        certfile, keyfile = pki[cert] if cert else (None, None)
        return tls_context(certfile, keyfile, pki[ca], **kwargs)
    return make


def test_tls_node_accepts_our_certificate_and_cookie(tls_node, client_tls):
    report = probe(tls_node, tls=client_tls())
    assert report['outcome'] == 'accepted', report
    assert report['tls_info']['version'] in ('TLSv1.2', 'TLSv1.3')
    assert report['tls_info']['peer_subject'] == 'commonName=node'


def test_tls_node_with_wrong_cookie_is_rejected(tls_node, client_tls):
    assert probe(tls_node, tls=client_tls(), cookie=b'wrong')['outcome'] == 'rejected'


def test_plaintext_against_tls_node_is_tls_required(tls_node):
    report = probe(tls_node)
    assert report['outcome'] == 'tls_required', report


@pytest.mark.parametrize('cert', [None, 'intruder', 'expired'])
def test_tls_node_refuses_unknown_or_bad_client_certs(tls_node, client_tls, cert):
    report = probe(tls_node, tls=client_tls(cert=cert))
    assert report['outcome'] == 'tls_rejected', report
    assert report['stage'] == 'tls'


def test_we_refuse_a_node_certificate_from_another_ca(tls_node, client_tls):
    report = probe(tls_node, tls=client_tls(ca='foreign_ca'))
    assert report['outcome'] == 'tls_rejected'
    assert 'verification' in report['msg']


def test_host_name_check(tls_node, client_tls):
    good = probe(tls_node, tls=client_tls(check_hostname=True))
    assert good['outcome'] == 'accepted', good
    bad = probe(tls_node, tls=client_tls(check_hostname=True), server_hostname='elsewhere.example')
    assert bad['outcome'] == 'tls_rejected'


def test_tls_probe_against_plain_node_fails_within_deadline(plain_node, client_tls):
    started = time.monotonic()
    report = probe(plain_node, tls=client_tls(), timeout=1)
    assert report['outcome'] in ('timeout', 'protocol_error'), report
    assert time.monotonic() - started < 2
