# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's report: every vantage point's probes as findings, a table and a Graphviz picture."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: verify_report
short_description: One report from cluster_verify and the probes made from each node and each outsider
version_added: 0.1.0
description:
  - Turns the probes that C(playbooks/verify.yml) makes from the nodes (C(auth) to each peer with the node's own
    cookie) and from the outsiders (C(exposure) of every address), both M(beamsec.cluster.cluster_verify) runs, into
    findings judged from those vantage points, adds the controller's, and writes a summary, a table and a
    Graphviz DOT picture of who is connected to whom and what an outsider reaches.
  - What a peer may reach depends on O(topology) - in a mesh every peer is accepted; in a hub-and-spoke cluster a
    tenant's probe never gets through to another tenant (when both are on a WireGuard overlay, C(unreachable) - a
    tenant has no route to another, and a dropped packet is not enough), and everyone else's probe gets to the
    handshake but not past it (each node has its own cookie); a one-way hub (C(one_way), its command's view with
    each tenant's own cookie) reaches every tenant.
author: beamsec.cluster maintainers (@beamsec)
options:
  _input:
    description: The cluster_verify result (C(findings), C(summary)).
    type: dict
    required: true
  members:
    description: The C(cluster_members) list, with C(one_way_hubs=true) for the one-way hubs' view and picture.
    type: list
    elements: dict
    required: true
  hostvars:
    description: The C(hostvars) magic variable, holding each node's C(beamsec_peer_view), each one-way hub's
      C(beamsec_hub_view), each node's C(beamsec_local_view) (an unprivileged account's probes of its own host) and
      C(beamsec_knock_view) (M(beamsec.cluster.dist_audit), who knocked), and each outsider's C(beamsec_outsider_view)
      (registered M(beamsec.cluster.cluster_verify) results).
    type: dict
    required: true
  outsiders:
    description: Inventory names of the outsiders.
    type: list
    elements: str
    default: []
  topology:
    description: C(mesh) or C(hub_and_spoke).
    type: str
    default: mesh
'''

EXAMPLES = r'''
- name: Build the report
  ansible.builtin.set_fact:
    report: >-
      {{ verified | beamsec.cluster.verify_report(members, hostvars, groups.outsiders) }}
'''

RETURN = r'''
_value:
  description:
    - C(findings) (each with a C(vantage)), C(summary), C(table) (lines) and C(dot) (Graphviz text).
    - In hub and spoke, C(summary.isolation_coverage) says how much of the tenant-to-tenant matrix the tenants'
      probes covered (C(tenant_pairs), C(probed), C(fraction)); C(verify.yml) samples it (C(beamsec_verify_sample)).
  type: dict
'''

# what a probe sees where the firewall (or nothing listening) stops it: cluster_verify's own list
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import UNREACHABLE as BLOCKED


def _finding(node, check, vantage, expected, observed, good, detail=None, target=None):
    found = {'node': node, 'check': check, 'vantage': vantage, 'expected': expected, 'observed': observed,
             'outcome': 'ok' if good else 'violation'}
    if detail:
        found['detail'] = detail
    if target:
        found['target'] = target  # the address and port an outsider tried
    return found


def _peer_expected(source, target, topology, overlay=False):
    if source.get('one_way'):
        return 'accepted'  # the one-way hub presents each tenant's own cookie
    if topology == 'hub_and_spoke' and not source['hub'] and not target['hub']:
        # tenant to tenant: the firewall, then the cookie, stop it; on an overlay there is no route at all
        return 'unreachable' if overlay else 'blocked'
    return 'rejected' if topology == 'hub_and_spoke' else 'accepted'


def peer_findings(members, peer_views, topology, overlays=()):
    """A node's auth probes of its peers, judged by what the topology lets it reach (overlays: the hosts on a
    WireGuard overlay, where a tenant has no route to another tenant)."""
    by_node = {m['node']: m for m in members}
    found = []
    for source in members:
        view = peer_views.get(source['host']) or {}
        if view.get('skipped'):
            continue
        if 'findings' not in view:  # the probe did not run at all: say why
            found.append(_finding(source['node'], 'peer_reach', source['node'], 'a probe', 'error', False,
                                  view.get('msg')))
            continue
        for probe in view['findings']:
            target = by_node.get(probe['node'])
            if target is None or probe['check'] != 'auth':
                continue
            overlay = source['host'] in overlays and target['host'] in overlays
            expected, observed = _peer_expected(source, target, topology, overlay), probe['observed']
            seen = 'blocked' if observed in BLOCKED and expected == 'blocked' else observed
            found.append(_finding(target['node'], 'peer_reach', source['node'], expected, observed,
                                  seen == expected, probe.get('detail')))
    return found


def outsider_findings(outsider_views):
    """An outsider's exposure probes: nothing may answer it."""
    found = []
    for outsider, view in sorted(outsider_views.items()):
        for probe in view.get('findings') or ():
            check = {'exposure_epmd': 'outsider_epmd', 'exposure_dist': 'outsider_dist',
                     'exposure_wireguard': 'outsider_wireguard'}.get(probe['check'])
            if check:
                expected = 'silent' if check == 'outsider_wireguard' else 'blocked'
                found.append(_finding(probe['node'], check, outsider, expected, probe['observed'],
                                      probe['outcome'] == 'ok', None, (probe.get('detail') or '').split(' ')[-1]))
        if 'findings' not in view:
            found.append(_finding('*', 'outsider_epmd', outsider, 'a probe', 'error', False, view.get('msg')))
    return found


def local_findings(members, local_views):
    """An unprivileged account's exposure probes of its own host: nothing may answer it either."""
    found = []
    for member in members:
        view = local_views.get(member['host']) or {}
        if not view or view.get('skipped'):  # a host the play never reached: peer_findings says so
            continue
        seat = '%s@%s' % ((view.get('summary') or {}).get('seat', 'local'), member['host'])
        if 'findings' not in view:  # the probe did not run at all: say why
            found.append(_finding(member['node'], 'local_epmd', seat, 'a probe', 'error', False, view.get('msg')))
        for probe in view.get('findings') or ():
            check = {'exposure_epmd': 'local_epmd', 'exposure_dist': 'local_dist'}.get(probe['check'], 'local_epmd')
            found.append(_finding(probe['node'], check, seat, 'blocked', probe['observed'], probe['outcome'] == 'ok',
                                  probe.get('detail') if probe['check'] == 'exposure' else None,
                                  (probe.get('detail') or '').split(' ')[-1]))
    return found


def knock_findings(members, knock_views):
    """Each node's own record of failed handshakes (dist_audit): strangers above the threshold are a violation."""
    found = []
    for member in members:
        view = knock_views.get(member['host']) or {}
        if not view or view.get('skipped'):
            continue
        vantage = 'record@%s' % member['host']
        verdict = view.get('finding')
        if not verdict:  # the record could not be read at all: say why
            found.append(_finding(member['node'], 'knocks', vantage, 'a record', 'error', False, view.get('msg')))
            continue
        sources = sorted((view.get('summary') or {}).get('by_source', {}).items(), key=lambda item: -item[1])
        found.append(_finding(member['node'], 'knocks', vantage, verdict['expected'], verdict['observed'],
                              verdict['outcome'] == 'ok', verdict.get('detail'), ','.join(s for s, n in sources[:3])))
    return found


def _summary(findings, base):
    by_check = {}
    for found in findings:
        counts = by_check.setdefault(found['check'], {'ok': 0, 'violation': 0})
        counts[found['outcome']] += 1
    bad = [f for f in findings if f['outcome'] == 'violation']
    return dict(base, findings=len(findings), violations=len(bad), by_check=by_check,
                violating_nodes=sorted({f['node'] for f in bad}))


def _cell(value):
    text = ','.join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:37] + '...'


def table(findings):
    keys = ('node', 'check', 'vantage', 'target', 'expected', 'observed', 'outcome')
    rows = [tuple(k.upper() for k in keys)] + [tuple(_cell(f.get(k, '')) for k in keys) for f in findings]
    widths = [max(len(row[i]) for row in rows) for i in range(len(keys))]
    return ['  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _quote(text):
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


def dot(members, findings):
    bad = {f['node'] for f in findings if f['outcome'] == 'violation'}
    lines = ['graph cluster {', '  graph [rankdir=LR, fontname="Helvetica", label="beamsec.cluster verify"];',
             '  node [fontname="Helvetica", style=filled]; edge [fontname="Helvetica", fontsize=10];']
    for member in members:
        shape = 'doubleoctagon' if member['hub'] else 'box'
        fill = 'salmon' if member['node'] in bad else 'palegreen'
        lines.append('  %s [shape=%s, fillcolor=%s];' % (_quote(member['node']), shape, fill))
    seen = {f['node']: set(f['observed']) for f in findings
            if f['check'] == 'membership' and isinstance(f['observed'], list)}
    for name, peers in sorted(seen.items()):
        for peer in sorted(peers):
            both = name in seen.get(peer, ())
            if both and peer < name:
                continue
            lines.append('  %s -- %s [%s];' % (_quote(name), _quote(peer), 'color=darkgreen, penwidth=2' if both
                                               else 'color=orange, style=dashed, label="one-sided", dir=forward'))
    # a partition a node's detector recorded: an edge to each peer it hears but is not connected to, with the start
    for found in findings:
        if found['check'] == 'partition_record' and found['outcome'] == 'violation' and isinstance(found['observed'], dict):
            for peer, since in sorted(found['observed'].items()):
                lines.append('  %s -- %s [color=red, style=dashed, label=%s, dir=forward];'
                             % (_quote(found['node']), _quote(peer), _quote('partitioned since %s' % since)))
    for found in findings:
        if found['check'] == 'peer_reach' and found['observed'] in BLOCKED and found['vantage'] < found['node']:
            lines.append('  %s -- %s [color=gray, style=dotted, label="blocked"];'
                         % (_quote(found['vantage']), _quote(found['node'])))
    outsiders = sorted({f['vantage'] for f in findings if f['check'].startswith('outsider_')})
    for outsider in outsiders:
        lines.append('  %s [shape=ellipse, fillcolor=lightgray];' % _quote(outsider))
        reached = sorted({(f['node'], f['check'][9:]) for f in findings
                          if f['vantage'] == outsider and f['check'].startswith('outsider_')
                          and f['outcome'] == 'violation'})
        for node, what in reached:
            lines.append('  %s -- %s [color=red, penwidth=2, label="reaches %s", dir=forward];'
                         % (_quote(outsider), _quote(node), what.upper() if what == 'epmd' else what))
        if not reached:
            lines.append('  %s -- %s [color=gray, style=dotted, label="reaches nothing"];'
                         % (_quote(outsider), _quote(members[0]['node']) if members else '"cluster"'))
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _registered(hostvars, host, key):
    host_vars = hostvars[host] if host in hostvars else {}
    return (host_vars.get(key) if hasattr(host_vars, 'get') else None) or {}


def tenant_coverage(members, findings):
    """How much of the tenant-to-tenant matrix the tenants' own probes covered (they may sample it)."""
    tenants = {m['node'] for m in members if not m['hub']}
    probed = {(f['vantage'], f['node']) for f in findings
              if f['check'] == 'peer_reach' and f['vantage'] in tenants and f['node'] in tenants - {f['vantage']}}
    pairs = len(tenants) * (len(tenants) - 1)
    return {'tenant_pairs': pairs, 'probed': len(probed), 'fraction': round(len(probed) / pairs, 4) if pairs else 1.0}


def verify_report(verified, members, hostvars, outsiders=(), topology='mesh'):
    peer_views = {m['host']: _registered(hostvars, m['host'], 'beamsec_hub_view' if m.get('one_way')
                                         else 'beamsec_peer_view') for m in members}
    outsider_views = {o: _registered(hostvars, o, 'beamsec_outsider_view') for o in outsiders or ()}
    local_views = {m['host']: _registered(hostvars, m['host'], 'beamsec_local_view') for m in members}
    knock_views = {m['host']: _registered(hostvars, m['host'], 'beamsec_knock_view') for m in members}
    findings = [dict(f, vantage='controller') for f in verified.get('findings', [])]
    locals_ = local_findings(members, local_views)
    knocks = knock_findings(members, knock_views)
    overlays = {m['host'] for m in members if _registered(hostvars, m['host'], 'beamsec_private_wireguard')}
    findings += peer_findings(members, peer_views, topology, overlays) + locals_ + knocks + outsider_findings(outsider_views)
    vantage = (['controller'] + sorted(h for h, view in peer_views.items() if 'findings' in view)
               + sorted({f['vantage'] for f in locals_ + knocks}) + sorted(outsider_views))
    summary = _summary(findings, dict(verified.get('summary', {}), vantage_points=vantage))
    if topology == 'hub_and_spoke':
        summary['isolation_coverage'] = tenant_coverage(members, findings)
    return {'findings': findings, 'summary': summary, 'table': table(findings), 'dot': dot(members, findings)}


class FilterModule(object):

    def filters(self):
        return {'verify_report': verify_report}
