"""cluster_verify's engine against a real 3-node OTP cluster on loopback, healthy and broken."""

import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.cluster import call, specs, violations
from tests.support.tools import run_ansible_module


def test_a_healthy_mesh_has_no_violation(cluster):
    findings, summary = verify(specs(cluster), cluster[0].cookie.encode(), timeout=5)
    assert violations(findings) == []
    assert summary['partitions'] == [sorted(m.name for m in cluster)]
    checks = {f['check'] for f in findings}
    assert {'epmd', 'auth', 'wrong_cookie', 'connect_all', 'dist_auto_connect', 'listen_address', 'listen_port',
            'membership'} <= checks
    assert summary['by_check']['wrong_cookie'] == {'ok': 3, 'violation': 0}


def test_expectations_that_the_nodes_do_not_meet_are_violations(cluster):
    wrong = specs(cluster, connect_all=True, dist_auto_connect='once')
    findings, summary = verify(wrong, cluster[0].cookie.encode(), timeout=5)
    assert {(f['check'], f['outcome']) for f in findings if f['check'] in ('connect_all', 'dist_auto_connect')} == \
        {('connect_all', 'violation'), ('dist_auto_connect', 'violation')}
    assert summary['violating_nodes'] == sorted(m.name for m in cluster)


def test_a_lost_link_and_a_partition(cluster):
    a, b, c = cluster
    assert call(a, 'erlang', 'disconnect_node', Atom(b.name)) is True
    findings, summary = verify(specs(cluster), a.cookie.encode(), timeout=5)
    bad = {(f['node'], f['check']) for f in violations(findings)}
    assert bad == {(a.name, 'membership'), (b.name, 'membership')}
    assert len(summary['partitions']) == 1  # still joined through c
    for other in (a, b):
        assert call(c, 'erlang', 'disconnect_node', Atom(other.name)) is True
    findings, summary = verify(specs(cluster), a.cookie.encode(), timeout=5)
    assert summary['partitions'] == [[a.name], [b.name], [c.name]]
    assert any(f['check'] == 'partition' and f['observed'] == 3 for f in findings)


def test_a_stopped_node_is_reported_within_the_timeout(cluster):
    cluster[2].stop()
    started = time.monotonic()
    findings, summary = verify(specs(cluster), cluster[0].cookie.encode(), timeout=2)
    assert time.monotonic() - started < 2 * 2 + 1  # its probes run side by side, each bounded
    dead = {f['check']: f['observed'] for f in findings if f['node'] == cluster[2].name}
    assert dead['auth'] in ('not_registered', 'refused') and dead['epmd'] == 'not registered'
    assert summary['violating_nodes'] == sorted(m.name for m in cluster)  # the others miss it in nodes()


def test_exposure_from_this_vantage_point(cluster):
    """127.0.0.1 is where the nodes listen: listed as a 'public' address it must be flagged."""
    exposed = specs(cluster[:1])
    exposed[0]['public_addresses'] = ['127.0.0.1', '127.0.0.2']
    findings, dummy = verify(exposed, cluster[0].cookie.encode(), checks=('exposure',), timeout=2)
    by_address = {}
    assert {f['check'] for f in findings} == {'exposure_epmd', 'exposure_dist'}
    for found in findings:
        by_address.setdefault(found['detail'].split()[-1].rsplit(':', 1)[0], []).append(found['outcome'])
    assert set(by_address['127.0.0.1']) == {'violation'}
    assert set(by_address['127.0.0.2']) == {'ok'}


def test_tls_node_refuses_plaintext_and_certless_clients(tls_node, pki):
    from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context
    with_cert = tls_context(str(pki['client'][0]), str(pki['client'][1]), str(pki['ca']))
    no_cert = tls_context(None, None, str(pki['ca']))
    spec = [{'name': tls_node.name, 'epmd_port': tls_node.epmd.port}]
    findings, dummy = verify(spec, tls_node.cookie.encode(), tls=with_cert, no_cert_tls=no_cert,
                             checks=('auth', 'wrong_cookie', 'plaintext', 'no_cert'), timeout=5)
    assert {f['check']: (f['observed'], f['outcome']) for f in findings} == {
        'auth': ('accepted', 'ok'), 'wrong_cookie': ('rejected', 'ok'),
        'plaintext': ('tls_required', 'ok'), 'no_cert': ('tls_rejected', 'ok')}


def run_module(args):
    return run_ansible_module('beamsec.cluster.cluster_verify', args)


def test_module_fails_on_a_violation_and_names_it(cluster):
    nodes = [{'name': m.name, 'epmd_port': m.epmd.port, 'expect': {'dist_auto_connect': 'once'}} for m in cluster]
    cookie_file = str(cluster[0].home / '.erlang.cookie')
    code, out = run_module({'nodes': nodes, 'cookie_file': cookie_file, 'checks': ['auth', 'facts']})
    assert code != 0 and '3 violations' in out and 'dist_auto_connect: never' in out
    assert cluster[0].cookie not in out and 'Traceback' not in out
    nodes = [dict(n, expect={'dist_auto_connect': 'never'}) for n in nodes]
    code, out = run_module({'nodes': nodes, 'cookie_file': cookie_file})
    assert code == 0 and '0 violations' in out, out


@pytest.mark.parametrize('args,expected', [
    ({'nodes': [{'name': 'nohost'}], 'cookie': 'x' * 32}, "nodes[0].name: node 'nohost' is not of the form"),
    ({'nodes': [{'name': 'a@h'}], 'cookie': 'x' * 32, 'topology': 'hub_and_spoke', 'hubs': ['b@h']},
     'hubs lists b@h, which nodes does not'),
    ({'nodes': [{'name': 'a@h'}, {'name': 'a@h'}], 'cookie': 'x' * 32}, 'nodes[1].name=a@h is listed twice'),
    ({'nodes': [{'name': 'a@h'}]}, 'set cookie (vault it) or cookie_file'),
    ({'nodes': [{'name': 'a@h', 'cookie': 'x' * 32, 'cookie_file': '/etc/hostname'}]},
     'nodes[0] sets both cookie and cookie_file: keep one'),
    ({'nodes': [], 'cookie': 'x' * 32}, 'nodes is empty: a run that checks no node proves nothing'),
    ({'nodes': [{'name': 'a@h'}], 'cookie': ''}, 'cookie is empty: give the cookie'),
    ({'nodes': [{'name': 'a@h', 'cookie': ''}], 'cookie': 'x' * 32}, 'nodes[0].cookie is empty'),
    ({'nodes': [{'name': 'a@h'}], 'cookie': 'x' * 32, 'timeout': 'inf'}, 'timeout=inf must be a number of seconds'),
    ({'nodes': [{'name': 'a@h'}], 'cookie': 'x' * 32, 'timeout': 1e9}, 'at most 3600'),
    ({'nodes': [{'name': 'a@h'}], 'cookie': 'x' * 32, 'concurrency': 100000}, 'concurrency=100000 must be from 1'),
    ({'nodes': [{'name': 'a@' + 'h' * 300}], 'cookie': 'x' * 32}, 'nodes[0].name is 302 characters'),
    ({'nodes': [{'name': 'a@h', 'port': 70000}], 'cookie': 'x' * 32}, 'nodes[0].port=70000 is not a TCP port'),
    ({'nodes': [{'name': 'a@h', 'address': 'a b'}], 'cookie': 'x' * 32}, 'nodes[0].address=a b... must be an IP'),
])
def test_module_bad_input_names_the_option(args, expected):
    code, out = run_module(args)
    assert code != 0 and expected in out and 'Traceback' not in out
