"""verify.yml's report: what each vantage point must see, per topology."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beamsec.cluster.plugins.filter.cluster import cluster_members, verify_nodes
from ansible_collections.beamsec.cluster.plugins.filter.verify_report import verify_report

HOSTVARS = {
    'hub': {'beamsec_private_address': '10.0.0.1', 'beamsec_public_address': '192.0.2.1', 'beamsec_hub': True,
            'beamsec_hub_kind': 'node'},
    'gate': {'beamsec_private_address': '10.0.0.5', 'beamsec_hub': 'yes'},  # a one-way hub (the default kind)
    't1': {'beamsec_private_address': '10.0.0.2'},
    't2': {'node_dist_address': '10.0.0.3', 'beamsec_node_name': 'shop'},
    'off': {'beamsec_private_address': '10.0.0.9', 'beamsec_distribution': False},
}


def probe(node, outcome):
    return {'node': node, 'check': 'auth', 'observed': outcome, 'outcome': 'ok' if outcome == 'accepted' else 'violation'}


def exposure(node, check, observed, good, where):
    return {'node': node, 'check': check, 'observed': observed, 'outcome': 'ok' if good else 'violation',
            'detail': 'at ' + where}


def test_members_skip_hosts_without_distribution():
    members = cluster_members(['hub', 't1', 't2', 'off'], HOSTVARS)
    assert [(m['node'], m['hub']) for m in members] == [
        ('app@10.0.0.1', True), ('app@10.0.0.2', False), ('shop@10.0.0.3', False)]


def test_hub_and_spoke_expectations_per_vantage_point():
    members = cluster_members(['hub', 't1', 't2'], HOSTVARS)
    views = dict(HOSTVARS)
    views['hub'] = dict(HOSTVARS['hub'], beamsec_peer_view={'findings': []})
    views['t1'] = dict(HOSTVARS['t1'], beamsec_peer_view={'findings': [
        probe('app@10.0.0.1', 'rejected'),   # reaches the hub, whose cookie it does not have: right
        probe('shop@10.0.0.3', 'accepted'),  # gets into another tenant: a violation
    ]})
    views['t2'] = dict(HOSTVARS['t2'], beamsec_peer_view={'findings': [probe('app@10.0.0.2', 'timeout')]})
    views['out'] = {'beamsec_outsider_view': {'findings': [
        exposure('app@10.0.0.1', 'exposure_epmd', 'answered with 1 name(s)', False, '192.0.2.1:4369'),
        exposure('app@10.0.0.2', 'exposure_dist', 'timeout', True, '10.0.0.2:9100'),
        exposure('app@10.0.0.2', 'exposure_wireguard', 'answered', False, '192.0.2.2:51820')]}}
    report = verify_report({'findings': [], 'summary': {'nodes': 3}}, members, views, ['out'], 'hub_and_spoke')
    outcome = {(f['vantage'], f['node'], f['check']): f['outcome'] for f in report['findings']}
    assert outcome == {
        ('app@10.0.0.2', 'app@10.0.0.1', 'peer_reach'): 'ok',
        ('app@10.0.0.2', 'shop@10.0.0.3', 'peer_reach'): 'violation',
        ('shop@10.0.0.3', 'app@10.0.0.2', 'peer_reach'): 'ok',
        ('out', 'app@10.0.0.1', 'outsider_epmd'): 'violation',  # EPMD answered on a public address
        ('out', 'app@10.0.0.2', 'outsider_dist'): 'ok',
        ('out', 'app@10.0.0.2', 'outsider_wireguard'): 'violation',  # something answered a stranger's initiation
    }
    assert report['summary']['violations'] == 3
    assert report['summary']['vantage_points'] == ['controller', 'hub', 't1', 't2', 'out']
    targets = [f['target'] for f in report['findings'] if f['vantage'] == 'out']
    assert targets == ['192.0.2.1:4369', '10.0.0.2:9100', '192.0.2.2:51820']
    assert 'color=red' in report['dot'] and 'doubleoctagon' in report['dot']
    assert report['table'][0].split() == ['NODE', 'CHECK', 'VANTAGE', 'TARGET', 'EXPECTED', 'OBSERVED', 'OUTCOME']


def test_a_mesh_expects_every_peer_to_accept():
    members = cluster_members(['t1', 't2'], HOSTVARS)
    views = dict(HOSTVARS, t1=dict(HOSTVARS['t1'], beamsec_peer_view={'findings': [probe('shop@10.0.0.3', 'timeout')]}))
    report = verify_report({'findings': [], 'summary': {}}, members, views)
    # t2 never reported: a host the play could not reach is a finding too
    assert [(f['vantage'], f['check'], f['expected'], f['outcome']) for f in report['findings']] == [
        ('app@10.0.0.2', 'peer_reach', 'accepted', 'violation'), ('shop@10.0.0.3', 'peer_reach', 'a probe', 'violation')]


def test_a_one_way_hub_is_no_node_but_admitted_and_labelled():
    assert [m['host'] for m in cluster_members(['gate', 't1'], HOSTVARS)] == ['t1']
    gate = cluster_members(['gate', 't1'], HOSTVARS, one_way_hubs='true')[0]
    assert (gate['node'], gate['hub'], gate['one_way']) == ('beamsec_hub@10.0.0.5', True, True)
    with pytest.raises(AnsibleFilterError, match='beamsec_hub_kind=erlang: use client'):
        cluster_members(['x'], {'x': {'beamsec_hub': True, 'beamsec_hub_kind': 'erlang'}})


def test_the_one_way_hub_view_expects_every_tenant_to_accept_its_own_cookie():
    members = cluster_members(['gate', 't1', 't2'], HOSTVARS, one_way_hubs=True)
    views = dict(HOSTVARS, gate=dict(HOSTVARS['gate'], beamsec_peer_view={'skipped': True}, beamsec_hub_view={'findings': [
        probe('app@10.0.0.2', 'accepted'), probe('shop@10.0.0.3', 'rejected')]}))
    report = verify_report({'findings': [], 'summary': {}}, members, views, (), 'hub_and_spoke')
    hub_view = [(f['node'], f['expected'], f['outcome']) for f in report['findings'] if f['vantage'] != f['node']
                and f['vantage'] == 'beamsec_hub@10.0.0.5']
    assert hub_view == [('app@10.0.0.2', 'accepted', 'ok'), ('shop@10.0.0.3', 'accepted', 'violation')]
    tenants = verify_nodes(cluster_members(['t1', 't2'], HOSTVARS), HOSTVARS, cookies=False, cookie_dir='/hub/c')
    assert [n['cookie_file'] for n in tenants] == ['/hub/c/app@10.0.0.2', '/hub/c/shop@10.0.0.3']


def test_isolation_coverage_counts_the_tenant_pairs_probed():
    members = cluster_members(['hub', 't1', 't2'], HOSTVARS)
    views = dict(HOSTVARS, t1=dict(HOSTVARS['t1'], beamsec_peer_view={'findings': [
        probe('app@10.0.0.1', 'rejected'), probe('shop@10.0.0.3', 'timeout')]}))
    report = verify_report({'findings': [], 'summary': {}}, members, views, (), 'hub_and_spoke')
    assert report['summary']['isolation_coverage'] == {'tenant_pairs': 2, 'probed': 1, 'fraction': 0.5}
    assert 'isolation_coverage' not in verify_report({'findings': [], 'summary': {}}, members, views)['summary']


def test_a_local_account_that_reaches_its_own_node_is_a_violation():
    members = cluster_members(['t1', 't2'], HOSTVARS)
    views = dict(HOSTVARS)
    views['t1'] = dict(HOSTVARS['t1'], beamsec_peer_view={'findings': []}, beamsec_local_view={
        'summary': {'seat': 'nobody'}, 'findings': [
            exposure('app@10.0.0.2', 'exposure_epmd', 'refused', True, '127.0.0.1:4369'),
            exposure('app@10.0.0.2', 'exposure_dist', 'open (rejected)', False, '10.0.0.2:9100')]})
    views['t2'] = dict(HOSTVARS['t2'], beamsec_peer_view={'findings': []},
                       beamsec_local_view={'failed': True, 'msg': 'no account'})
    report = verify_report({'findings': [], 'summary': {}}, members, views)
    assert [(f['vantage'], f['node'], f['check'], f.get('target'), f['outcome']) for f in report['findings']] == [
        ('nobody@t1', 'app@10.0.0.2', 'local_epmd', '127.0.0.1:4369', 'ok'),
        ('nobody@t1', 'app@10.0.0.2', 'local_dist', '10.0.0.2:9100', 'violation'),
        ('local@t2', 'shop@10.0.0.3', 'local_epmd', None, 'violation')]  # a seat that could not probe: say so
    assert report['summary']['vantage_points'] == ['controller', 't1', 't2', 'local@t2', 'nobody@t1']
    local = verify_nodes(members[:1], HOSTVARS, cookies=False, exposed='local')[0]['public_addresses']
    assert local == ['127.0.0.1', '::1', '10.0.0.2']


def test_strangers_knocks_above_the_threshold_are_a_violation():
    members = cluster_members(['t1', 't2'], HOSTVARS)
    quiet = {'finding': {'expected': '<= 20 from strangers', 'observed': 0, 'outcome': 'ok'}, 'summary': {}}
    loud = {'finding': {'expected': '<= 20 from strangers', 'observed': 212, 'outcome': 'violation',
                        'detail': '10.0.0.9: 212'}, 'summary': {'by_source': {'10.0.0.9': 212, 'unknown': 1}}}
    views = dict(HOSTVARS, t1=dict(HOSTVARS['t1'], beamsec_peer_view={'findings': []}, beamsec_knock_view=quiet),
                 t2=dict(HOSTVARS['t2'], beamsec_peer_view={'findings': []}, beamsec_knock_view=loud))
    report = verify_report({'findings': [], 'summary': {}}, members, views)
    assert [(f['vantage'], f['check'], f['observed'], f.get('target'), f['outcome']) for f in report['findings']] == [
        ('record@t1', 'knocks', 0, None, 'ok'), ('record@t2', 'knocks', 212, '10.0.0.9,unknown', 'violation')]
    failed = dict(views, t1=dict(views['t1'], beamsec_knock_view={'failed': True, 'msg': 'cannot read'}))
    assert verify_report({'findings': [], 'summary': {}}, members, failed)['findings'][0]['outcome'] == 'violation'


def test_on_an_overlay_a_tenant_must_have_no_route_to_another_tenant():
    """A dropped packet (timeout) between tenants is enough on a shared network, not on a WireGuard overlay, where a
    tenant routes to its hubs only: there another tenant must be unreachable."""
    overlay = {host: dict(host_vars, beamsec_private_wireguard={'address': host_vars.get(
        'beamsec_private_address', host_vars.get('node_dist_address')) + '/24'}) for host, host_vars in HOSTVARS.items()}
    members = cluster_members(['hub', 't1', 't2'], overlay)
    outcome = {}
    for hostvars, seen in ((HOSTVARS, 'timeout'), (overlay, 'timeout'), (overlay, 'unreachable')):
        views = dict(hostvars)
        views['t1'] = dict(hostvars['t1'], beamsec_peer_view={'findings': [probe('shop@10.0.0.3', seen)]})
        report = verify_report({'findings': [], 'summary': {'nodes': 3}}, members, views, [], 'hub_and_spoke')
        found = [f for f in report['findings'] if f['vantage'] == 'app@10.0.0.2'][0]
        outcome[(hostvars is overlay, seen)] = (found['expected'], found['outcome'])
    assert outcome == {(False, 'timeout'): ('blocked', 'ok'), (True, 'timeout'): ('unreachable', 'violation'),
                       (True, 'unreachable'): ('unreachable', 'ok')}


def test_the_picture_marks_a_recorded_partition_with_its_start():
    from ansible_collections.beamsec.cluster.plugins.filter.verify_report import dot
    members = cluster_members(['t1', 't2'], HOSTVARS)
    record = {'node': 'app@10.0.0.2', 'check': 'partition_record', 'outcome': 'violation',
              'observed': {'shop@10.0.0.3': '2026-12-03T07:00:00.000Z'}}
    picture = dot(members, [record])
    assert '"app@10.0.0.2" -- "shop@10.0.0.3" [color=red, style=dashed, label="partitioned since 2026-12-03T07:00:00.000Z"' \
        in picture
    assert '"app@10.0.0.2" [shape=box, fillcolor=salmon]' in picture
    assert 'partitioned' not in dot(members, [dict(record, outcome='ok', observed={})])
