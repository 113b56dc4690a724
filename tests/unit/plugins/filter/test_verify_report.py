"""verify.yml's report: what each vantage point must see, per topology."""

from ansible_collections.beamsec.cluster.plugins.filter.cluster import cluster_members
from ansible_collections.beamsec.cluster.plugins.filter.verify_report import verify_report

HOSTVARS = {
    'hub': {'beamsec_private_address': '10.0.0.1', 'beamsec_public_address': '192.0.2.1', 'beamsec_hub': True},
    't1': {'beamsec_private_address': '10.0.0.2'},
    't2': {'beamsec_dist_address': '10.0.0.3', 'beamsec_node_name': 'shop'},
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
        exposure('app@10.0.0.2', 'exposure_dist', 'timeout', True, '10.0.0.2:9100')]}}
    report = verify_report({'findings': [], 'summary': {'nodes': 3}}, members, views, ['out'], 'hub_and_spoke')
    outcome = {(f['vantage'], f['node'], f['check']): f['outcome'] for f in report['findings']}
    assert outcome == {
        ('app@10.0.0.2', 'app@10.0.0.1', 'peer_reach'): 'ok',
        ('app@10.0.0.2', 'shop@10.0.0.3', 'peer_reach'): 'violation',
        ('shop@10.0.0.3', 'app@10.0.0.2', 'peer_reach'): 'ok',
        ('out', 'app@10.0.0.1', 'outsider_epmd'): 'violation',  # EPMD answered on a public address
        ('out', 'app@10.0.0.2', 'outsider_dist'): 'ok',
    }
    assert report['summary']['violations'] == 2
    assert report['summary']['vantage_points'] == ['controller', 'hub', 't1', 't2', 'out']
    assert [f['target'] for f in report['findings'] if f['vantage'] == 'out'] == ['192.0.2.1:4369', '10.0.0.2:9100']
    assert 'color=red' in report['dot'] and 'doubleoctagon' in report['dot']
    assert report['table'][0].split() == ['NODE', 'CHECK', 'VANTAGE', 'TARGET', 'EXPECTED', 'OBSERVED', 'OUTCOME']


def test_a_mesh_expects_every_peer_to_accept():
    members = cluster_members(['t1', 't2'], HOSTVARS)
    views = dict(HOSTVARS, t1=dict(HOSTVARS['t1'], beamsec_peer_view={'findings': [probe('shop@10.0.0.3', 'timeout')]}))
    report = verify_report({'findings': [], 'summary': {}}, members, views)
    # t2 never reported: a host the play could not reach is a finding too
    assert [(f['vantage'], f['check'], f['expected'], f['outcome']) for f in report['findings']] == [
        ('app@10.0.0.2', 'peer_reach', 'accepted', 'violation'), ('shop@10.0.0.3', 'peer_reach', 'a probe', 'violation')]
