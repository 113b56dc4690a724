"""hub_pivot: from a tenant's seat, can it reach into the hub? An Erlang hub that holds the
tenants' cookies (as the roles' boot.script does) is the positive control: a tenant calls it
back and reads another tenant's cookie there. The one-way hub answers nothing."""

import json

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import hub
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.cluster import call
from tests.support.otp import Node

CHECKS = ('auth', 'facts', 'membership', 'hub_pivot')


@pytest.fixture
def tenants(epmd):
    started = [Node('pivot_a', epmd), Node('pivot_b', epmd)]
    yield started
    for node in started:
        node.stop()


def spec(node):
    return {'name': node.name, 'epmd_port': node.epmd.port, 'cookie_bytes': node.cookie.encode()}


def pivots(findings):
    return {f['node']: (f['outcome'], f['observed']) for f in findings if f['check'] == 'hub_pivot'}


def test_an_erlang_hub_is_one_cluster_with_its_tenants(epmd, tenants):
    a, b = tenants
    erlang_hub = Node('erlang_hub', epmd)
    try:
        for tenant in tenants:
            assert call(erlang_hub, 'erlang', 'set_cookie', Atom(tenant.name), Atom(tenant.cookie)) is True
            assert call(erlang_hub, 'net_kernel', 'connect_node', Atom(tenant.name)) is True
        # what the check stands for: code on tenant a reads tenant b's cookie on the hub
        assert call(a, 'rpc', 'call', Atom(erlang_hub.name), Atom('erlang'), Atom('get_cookie'),
                    [Atom(b.name)]) == b.cookie
        findings, dummy = verify([spec(erlang_hub), spec(a), spec(b)], b'', checks=CHECKS, topology='hub_and_spoke',
                                 hubs=[erlang_hub.name], timeout=5)
        seen = pivots(findings)
        assert set(seen) == {a.name, b.name}
        for tenant in tenants:
            assert seen[tenant.name][0] == 'violation'
            assert erlang_hub.name in seen[tenant.name][1]['answered']
        json.dumps(findings)
    finally:
        erlang_hub.stop()


def test_the_one_way_hub_answers_no_tenant(tenants, tmp_path):
    a, b = tenants
    entries = []
    for tenant in tenants:
        cookie_file = tmp_path / tenant.short
        cookie_file.write_text(tenant.cookie)
        cookie_file.chmod(0o400)
        entries.append(hub.Tenant({'name': tenant.name, 'epmd_port': tenant.epmd.port,
                                   'cookie_file': str(cookie_file)}))
    sessions = [hub.Session(entry, 5) for entry in entries]  # the hub's links are up during the check
    try:
        findings, dummy = verify([spec(a), spec(b)], b'', checks=CHECKS, topology='hub_and_spoke', hubs=[],
                                 timeout=5)
        seen = pivots(findings)
        assert seen == {a.name: ('ok', {'answered': [], 'connected': []}),
                        b.name: ('ok', {'answered': [], 'connected': []})}, seen
        # the check did ask: each tenant held a hidden link to the hub and called it over that link
        asked = [f['detail'] for f in findings if f['check'] == 'hub_pivot']
        assert all(str(s.conn.our_node) in ' '.join(asked) for s in sessions)
        for session in sessions:
            assert session.evaluate('ok.') == ('', 'ok')
    finally:
        for session in sessions:
            session.close()


def test_tenants_that_share_a_cookie_are_told_without_presenting_it(epmd, tenants):
    """Positive control on real nodes: two tenants started with one cookie accept each other's cookie; the
    O(N) keyed-digest check says so for both, and a third tenant with its own cookie is ok."""
    a, b = tenants
    twin = Node('pivot_twin', epmd, cookie=a.cookie)
    try:
        assert call(twin, 'net_kernel', 'connect_node', Atom(a.name)) is True  # what sharing means
        findings, dummy = verify([spec(a), spec(b), spec(twin)], b'', checks=('auth', 'tenant_cookie'),
                                 topology='hub_and_spoke', timeout=5)
        seen = {f['node']: (f['outcome'], f.get('detail')) for f in findings if f['check'] == 'tenant_cookie'}
        assert seen == {a.name: ('violation', 'also the cookie of %s' % twin.name), b.name: ('ok', None),
                        twin.name: ('violation', 'also the cookie of %s' % a.name)}
        assert a.cookie not in json.dumps(findings)
        # in a mesh there are no tenants to tell apart
        mesh, dummy = verify([spec(a), spec(twin)], b'', checks=('tenant_cookie',), topology='mesh', timeout=5)
        assert mesh == []
    finally:
        twin.stop()


def test_tenants_of_a_one_way_hub_are_apart_and_a_link_between_them_is_told(epmd, tenants):
    """No hub node: every tenant alone is the healthy state (no partition finding); a tenant-to-tenant link
    is a membership violation on both."""
    a, b = tenants
    specs = [spec(a), spec(b)]
    findings, summary = verify(specs, b'', checks=('auth', 'membership'), topology='hub_and_spoke', timeout=5)
    assert [f['outcome'] for f in findings if f['outcome'] != 'ok'] == [] and len(summary['partitions']) == 2
    assert call(a, 'erlang', 'set_cookie', Atom(b.name), Atom(b.cookie)) is True
    assert call(a, 'net_kernel', 'connect_node', Atom(b.name)) is True
    findings, dummy = verify(specs, b'', checks=('auth', 'membership'), topology='hub_and_spoke', timeout=5)
    seen = {f['node']: (f['outcome'], f['observed']) for f in findings if f['check'] == 'membership'}
    assert seen == {a.name: ('violation', [b.name]), b.name: ('violation', [a.name])}
