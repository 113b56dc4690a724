"""A node that knows the cookie and answers the facts with whatever hurts: every answer
becomes a finding with an outcome, bounded in memory, calls and output, and costs no
other node its findings."""

import json
import tracemalloc

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf, node as dist_node, rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.cluster import specs
from tests.support.hostile import Raw
from tests.support.hostile_facts import COOKIE, NAME, PORT, A, facts_from, hostile, normal
from tests.support.otp import LOOPBACK


def test_the_fake_node_alone_is_all_ok(peers):
    """The control: with normal answers the hostile node's facts pass, so each case below fails by its answer."""
    spec = [{'name': NAME, 'port': peers(normal).port, 'expect': {'dist_auto_connect': 'never',
                                                                  'listen_min': PORT, 'listen_max': PORT}}]
    findings, dummy = verify(spec, COOKIE, checks=('auth', 'facts', 'membership'), timeout=3)
    assert [f for f in findings if f['outcome'] != 'ok'] == []


@pytest.mark.parametrize('case,overrides', [
    ('nodes() is an integer', {'erlang:nodes:visible': 7}),
    ('a tuple where a list is expected', {'erlang:nodes:hidden': (A('a@b'),)}),
    ('a port of 2 KiB', {'application:get_env:inet_dist_listen_min': (A('ok'), 1 << 16384)}),
    ('a ticktime of 2 KiB', {'net_kernel:get_net_ticktime': 1 << 16384}),
    ('a listen address that is no address', {'sys:get_state:net_kernel': (A('state'), [(
        A('listen'), 1, 2, (A('net_address'), ((1, 2), 1), 'h', A('tcp'), A('inet')), A('inet_tcp_dist'))])}),
    ('node() under another name', {'erlang:node': A('other@127.0.0.1')}),
    ('a release of 200 KB', {'erlang:system_info': b'x' * 200000}),
    ('a badrpc of 200 KB', {'erlang:node': (A('badrpc'), b'y' * 200000)}),
    ('connect_all that is no boolean', {'sys:get_state:global_name_server': A('x'),
                                        'application:get_env:connect_all': (A('ok'), 'false')}),
])
def test_a_lying_answer_is_a_bounded_finding(peers, case, overrides):
    spec = [{'name': NAME, 'port': peers(hostile(**overrides)).port, 'expect': {'dist_auto_connect': 'never'}}]
    findings, summary = verify(spec, COOKIE, checks=('auth', 'facts'), timeout=3)
    bad = [f for f in findings if f['outcome'] == 'violation']
    assert bad, case
    shown = json.dumps(findings)  # JSON-safe: no 4,300-digit integer, no 200 KB string
    assert len(shown) < 4096, case
    assert 'Traceback' not in shown


def test_a_hostile_node_costs_no_other_node_its_findings(peers, cluster):
    bomb = hostile(**{'net_kernel:get_net_ticktime': 1 << 16384, 'erlang:nodes:visible': 7})
    spec = specs(cluster) + [{'name': NAME, 'port': peers(bomb).port, 'cookie_bytes': COOKIE}]
    for member in spec[:-1]:
        member['expect']['peers'] = [m.name for m in cluster if m.name != member['name']]
    findings, summary = verify(spec, cluster[0].cookie.encode(), checks=('auth', 'facts', 'membership'),
                               timeout=3)
    json.dumps(findings)
    assert summary['violating_nodes'] == [NAME]
    assert [(f['check'], f['observed']) for f in findings if f['node'] == NAME] == [
        ('auth', 'accepted'), ('facts', 'protocol_error')]
    for member in cluster:  # the real ones are whole: every check there, and ok
        mine = [f for f in findings if f['node'] == member.name]
        assert {f['check'] for f in mine} >= {'auth', 'connect_all', 'listen_address', 'membership'}


def test_a_flood_of_messages_is_cut_off(peers):
    flood = [b'p' + etf.encode((2, A(''), etf.Pid(A(NAME), 1, 0, 1))) + etf.encode(A('noise'))] * 5000
    peer = peers(normal, before=flood)
    with pytest.raises(DistError, match='over 256 messages'):
        facts_from(peer)


def test_a_deep_term_is_shown_shallow(peers):
    deep = A('bottom')
    for dummy in range(290):
        deep = (deep,)
    peer = peers(hostile(**{'erlang:node': (A('badrpc'), deep)}))
    conn = dist_node.connect_node(node=NAME, host=LOOPBACK, port=peer.port, cookie=COOKIE, timeout=3)
    try:
        with pytest.raises(rpc.BadRpc) as caught:
            rpc.call(conn, 'erlang', 'node', timeout=3)
    finally:
        conn.close()
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize('raw', [
    Raw(bytes((etf.LIST_EXT,)) + (400000).to_bytes(4, 'big') + bytes((etf.NIL_EXT,)) * 400001, compress=True),
    Raw(bytes((etf.LIST_EXT,)) + (30000).to_bytes(4, 'big')
        + bytes((etf.SMALL_TUPLE_EXT, 1, etf.NIL_EXT)) * 30000 + bytes((etf.NIL_EXT,))),
])
def test_a_bomb_costs_bounded_memory(peers, raw):
    peer = peers(hostile(**{'erlang:node': raw}))
    tracemalloc.start()
    try:
        with pytest.raises(DistError):
            facts_from(peer)
        dummy, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024


@pytest.mark.parametrize('value', [[[False]], [[b'false']]])
def test_an_argument_that_is_no_charlist_is_no_false_connect_all(peers, value):
    """global's init matches "false" as a charlist only: an atom or a binary there leaves connect_all on."""
    peer = peers(hostile(**{'application:get_env:connect_all': A('undefined'),
                            'sys:get_state:global_name_server': A('x'),
                            'init:get_argument:connect_all': (A('ok'), value)}))
    spec = [{'name': NAME, 'port': peer.port, 'cookie_bytes': COOKIE}]
    findings, dummy = verify(spec, COOKIE, checks=('auth', 'facts'), timeout=3)
    assert [f['outcome'] for f in findings if f['check'] in ('connect_all', 'facts')] == ['violation']


def test_a_tls_protocol_that_is_no_atom_is_no_tls(peers):
    listen = (A('listen'), etf.Port(A(NAME), 1, 1), etf.Pid(A(NAME), 1, 0, 1),
              (A('net_address'), ((127, 0, 0, 1), PORT), 'localhost', 'tls', A('inet')), A('inet_tcp_dist'))
    peer = peers(hostile(**{'sys:get_state:net_kernel': (A('state'), A(NAME), A('longnames'), [listen])}))
    conn = dist_node.connect_node(node=NAME, host=LOOPBACK, port=peer.port, cookie=COOKIE, timeout=3)
    try:
        with pytest.raises(DistError, match='listen'):
            node_facts(conn, timeout=3)
    finally:
        conn.close()
