# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-cluster verification: every probe of every node, concurrently, each
within its own deadline, turned into findings (node, check, expected,
observed, outcome) and a summary with the partitions of the cluster.

A finding is ``ok`` only on positive evidence of the safe state; anything the
probe cannot tell, and anything a node answers out of shape, is a violation.
Nothing a node sends reaches a finding unbounded (shown.py), and a node that
breaks its own probes costs no other node its findings (docs/threat-model.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import hashlib
import hmac
import os
import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd, node as dist_node, rpc, wireguard
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline, names_resolved
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import random_cookie
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import (
    ConnectTimeout, DistError, NoSuchHost, NotRegistered, ProtocolError)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts_steps
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import Loop
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.shown import short, shown

OK = 'ok'
VIOLATION = 'violation'
CHECKS = ('epmd', 'auth', 'wrong_cookie', 'plaintext', 'no_cert', 'facts', 'membership', 'exposure', 'hub_pivot',
          'tenant_cookie')
PIVOT_WAIT = 1.0  # seconds a tenant waits for a hub to answer its call
# nothing accepted a TCP connection: an outsider must see one of these. A port that accepts
# and then says nothing is open: exposure, silent or not.
CLOSED = ('filtered', 'refused', 'no_epmd', 'unreachable')


class Target:
    """One node to verify and what is expected of it."""

    def __init__(self, spec, cookie):
        self.name = spec['name']
        self.short, self.host = dist_node.split_node(self.name)
        self.port = spec.get('port')
        self.address = spec.get('address') or self.host
        self.epmd_port = spec.get('epmd_port') or epmd.EPMD_PORT
        self.cookie = spec.get('cookie_bytes') or cookie
        self.public = list(spec.get('public_addresses') or [])
        self.wireguard_port = spec.get('wireguard_port')
        self.registry = None  # EPMD's names on this node's host, asked once per run (verify sets it)
        expect = spec.get('expect') or {}
        self.expect = {
            'connect_all': expect.get('connect_all', False),
            'dist_auto_connect': expect.get('dist_auto_connect'),
            'listen_min': expect.get('listen_min'),
            'listen_max': expect.get('listen_max'),
            'peers': expect.get('peers'),
        }

    def reach_kwargs(self, deadline):
        """Where and until when to try this node: the part of node.connect_node's arguments it decides.
        The port is the one EPMD's names gave (the same EPMD, the same answer as its port_please); when
        EPMD gave none, its error, at once: a node whose packets are dropped costs one timeout, not two."""
        kwargs = dict(node=self.name, epmd_port=self.epmd_port, deadline=deadline)
        if self.port:
            kwargs.update(host=self.host, port=self.port)
        elif self.registry is not None:
            kwargs.update(host=self.host, port=self.registered_port())
        return kwargs

    def registered_port(self):
        """This node's port in EPMD's names (its probes start once they are in)."""
        ports = self.registry
        if isinstance(ports, DistError):
            raise ports.again()
        if self.short not in ports:
            raise NotRegistered('EPMD at %s:%d has no node named %r' % (self.host, self.epmd_port, self.short),
                                'epmd_names')
        port = ports[self.short]
        if port is None:
            raise ProtocolError('EPMD at %s:%d lists %r with two ports' % (self.host, self.epmd_port, self.short),
                                'epmd_names')
        if not 0 < port < 65536:
            raise ProtocolError('EPMD at %s:%d lists %r on port %d' % (self.host, self.epmd_port, self.short, port),
                                'epmd_names')
        return port


def _finding(target, check, expected, observed, good, detail=None):
    found = {'node': target.name, 'check': check, 'expected': expected, 'observed': shown(observed),
             'outcome': OK if good is True else VIOLATION}
    if detail:
        found['detail'] = short(detail, 1024) if isinstance(detail, str) else shown(detail)
    return found


def _names(host, port, timeout):
    """(steps) EPMD's names on one host: {name: port, or None if listed with two ports}, or the DistError.
    Asked once per run for all the nodes on that host, before any of their probes."""
    try:
        listed = (yield from epmd.names_steps(host, port, timeout=timeout))[1]
    except DistError as exc:
        return exc
    ports = {}
    for name, node_port in listed:
        ports[name] = node_port if ports.get(name, node_port) == node_port else None
    return ports


def _epmd(target):
    try:
        observed = 'registered on port %d' % target.registered_port()
        detail = 'EPMD lists %d name(s)' % len(target.registry)
    except DistError as exc:
        observed = 'not registered' if isinstance(exc, NotRegistered) else exc.outcome
        detail = str(exc)
    return [_finding(target, 'epmd', 'registered', observed, observed.startswith('registered'), detail)]


def _plaintext(target, timeout):
    """(steps) A TLS node answers a plain handshake with a TLS record. With a random cookie: an
    impostor listening in plain TCP on the node's address must not get
    md5(cookie ++ challenge) to crack offline."""
    report = yield from _reached(target, timeout, cookie=random_cookie())
    return [_finding(target, 'plaintext', 'tls_required', report['outcome'], report['outcome'] == 'tls_required',
                     report.get('msg'))]


def _reached(target, timeout, **overrides):
    """(steps) node.probe's report of one attempt on this node, EPMD's error included."""
    try:
        kwargs = target.reach_kwargs(Deadline(timeout))
    except DistError as exc:
        return {'outcome': exc.outcome, 'msg': str(exc)}
    kwargs.update(overrides)
    return (yield from dist_node.probe_steps(**kwargs))


def _probe(target, check, expected, timeout, **overrides):
    """(steps)"""
    report = yield from _reached(target, timeout, **overrides)
    return [_finding(target, check, expected, report['outcome'],
                     report['outcome'] in (expected if isinstance(expected, list) else [expected]),
                     report.get('msg'))]


def _auth_and_facts(target, tls, timeout, want_facts, report_facts, pivot_to=None):
    """(steps) The right cookie is accepted by the node of that name; on that one connection, the
    node's live settings (read for membership too; findings on them only with ``report_facts``)
    and, for a tenant (``pivot_to``: the hubs' node names), whether it can reach into a hub."""
    deadline = Deadline(timeout)
    findings, facts, conn = [], None, None
    try:
        conn = yield from dist_node.connect_node_steps(cookie=target.cookie, tls=tls, **target.reach_kwargs(deadline))
        findings.append(_finding(target, 'auth', 'accepted', 'accepted', True))
        if want_facts or pivot_to is not None:
            facts = yield from node_facts_steps(conn, deadline=deadline)
        if pivot_to is not None:
            findings.append((yield from _hub_pivot(target, conn, sorted(pivot_to), facts['nodes_hidden'], deadline)))
    except DistError as exc:
        check = 'auth' if conn is None else 'facts'
        findings.append(_finding(target, check, 'accepted', exc.outcome, False, str(exc)))
    finally:
        if conn is not None:
            conn.close()
    if facts is not None and report_facts:
        findings.extend(_facts_findings(target, facts, tls is not None))
    return findings, facts


def _hub_pivot(target, conn, hubs, hidden, deadline):
    """(steps) From the tenant's seat (its own cookie, through its own node, as malware on it would):
    connect to every hub node anew, then call erlang:node() on it and on every hidden peer the
    tenant holds (a one-way hub's session among them). Distribution is symmetric: a hub that
    lets a tenant in, or answers it, is one cluster with every tenant it holds."""
    peers = sorted(set(hubs) | set(hidden))
    if not peers:
        return _finding(target, 'hub_pivot', 'no hub answers a tenant', {'answered': [], 'connected': []}, True,
                        'the tenant holds no link to a hub, and no hub node is listed')
    wait = int(PIVOT_WAIT * 1000)
    connected = (yield from rpc.calls_steps(conn, [('net_kernel', 'connect_node', (Atom(hub),)) for hub in hubs],
                                            deadline=deadline)) if hubs else []
    answers = yield from rpc.calls_steps(conn, [('rpc', 'call', (Atom(peer), Atom('erlang'), Atom('node'), [], wait))
                                                for peer in peers], deadline=deadline)
    reached = sorted(peer for peer, answer in zip(peers, answers) if answer == peer)
    joined = sorted(hub for hub, answer in zip(hubs, connected) if answer is True)
    bad = bool(reached or joined)
    return _finding(target, 'hub_pivot', 'no hub answers a tenant', {'answered': reached, 'connected': joined},
                    not bad, 'the tenant connected to %s and called erlang:node() on %s: %s'
                    % (hubs or 'no hub node', peers, 'a hub that lets a tenant in runs whatever it sends, on '
                       'itself and on every tenant it reaches' if bad else 'nothing answered'))


def _facts_findings(target, facts, tls):
    expect = target.expect
    found = [_finding(target, 'connect_all', expect['connect_all'], facts['connect_all'],
                      facts['connect_all'] is expect['connect_all'], 'read from %s' % facts['connect_all_source'])]
    if expect['dist_auto_connect'] is not None:
        found.append(_finding(target, 'dist_auto_connect', expect['dist_auto_connect'], facts['dist_auto_connect'],
                              facts['dist_auto_connect'] == expect['dist_auto_connect'],
                              'kernel env: %s' % facts['dist_auto_connect_configured']))
    # the node's record of who knocked (dist_audit) exists only if OTP logs its failed handshakes
    found.append(_finding(target, 'knock_logging', True, facts['logs_failed_handshakes'],
                          facts['logs_failed_handshakes'] is True, 'logger:allow(error, dist_util)'))
    carriers = [sock['protocol'] for sock in facts['listen']]
    if tls:  # every listener, as net_kernel runs it, takes TLS only
        found.append(_finding(target, 'proto_dist', 'tls', facts['proto_dist'],
                              bool(carriers) and all(c == 'tls' for c in carriers)))
    addresses = sorted({sock['address'] for sock in facts['listen']})
    found.append(_finding(target, 'listen_address', [target.address], addresses, addresses == [target.address]))
    if expect['listen_min'] is not None:
        low, high = expect['listen_min'], expect['listen_max'] or expect['listen_min']
        ports = sorted({sock['port'] for sock in facts['listen']})
        found.append(_finding(target, 'listen_port', '%d-%d' % (low, high), ports[0] if len(ports) == 1 else ports,
                              bool(ports) and all(low <= port <= high for port in ports)))
    return found


def _exposure_epmd(target, address, timeout):
    """(steps) From this vantage point nothing may accept a connection on an address not meant for it: EPMD..."""
    try:
        answer = yield from epmd.names_steps(address, target.epmd_port, timeout=timeout)
        observed = 'answered with %d name(s)' % len(answer[1])
    except ConnectTimeout:
        observed = 'filtered'
    except NoSuchHost as exc:
        observed = 'not tried (%s)' % exc
    except DistError as exc:
        observed = exc.outcome if exc.outcome in CLOSED else 'open (%s)' % exc.outcome
    return [_finding(target, 'exposure_epmd', list(CLOSED), observed, observed in CLOSED,
                     'EPMD at %s:%d' % (address, target.epmd_port))]


def _exposure_dist(target, address, port, timeout):
    """(steps) ...nor a distribution port (each probe its own job: all end within one timeout)."""
    report = yield from dist_node.probe_steps(host=address, port=port, cookie=random_cookie(), timeout=timeout,
                                              probe_for=target.name)
    observed = report['outcome']
    if report.get('resolved') is False:
        observed = 'not tried (%s)' % report.get('msg')
    elif not report.get('tcp_connected'):
        observed = 'filtered' if observed == 'timeout' else observed
    elif observed not in CLOSED:
        observed = 'open (%s)' % observed
    return [_finding(target, 'exposure_dist', list(CLOSED), observed, observed in CLOSED,
                     'dist port %s:%d' % (address, port))]


def _exposure_wireguard(target, address, timeout):
    """(steps) ...and the overlay's WireGuard port says nothing to a stranger (wireguard.py)."""
    observed, detail = yield from wireguard.knock_steps(address, target.wireguard_port, timeout)
    return [_finding(target, 'exposure_wireguard', list(wireguard.QUIET), observed, observed in wireguard.QUIET,
                     '%s; WireGuard %s:%d' % (detail, address, target.wireguard_port))]


def membership(targets, facts_by_node, topology, hubs):
    """Each node's connections against the expected topology: every visible node, in the inventory
    or not; hidden and pending connections (none but our own probe may be there); one-sided views
    and partitions, the ones seen now and the ones each node's detector recorded."""
    names = [t.name for t in targets]
    seen = {name: set(facts_by_node[name]['nodes_visible']) for name in names if name in facts_by_node}
    findings = []
    for target in targets:
        if target.name not in seen:
            continue
        facts = facts_by_node[target.name]
        expected = _expected_peers(target, names, topology, hubs)
        observed = seen[target.name]
        missing, extra = sorted(expected - observed), sorted(observed - expected)
        findings.append(_finding(target, 'membership', sorted(expected), sorted(observed), not missing and not extra,
                                 'missing %s; unexpected %s' % (missing, extra) if missing or extra else None))
        unseen = {'hidden': facts['nodes_hidden'], 'pending': facts['nodes_pending']}
        findings.append(_finding(target, 'hidden_peers', {'hidden': [], 'pending': []}, unseen,
                                 not unseen['hidden'] and not unseen['pending'],
                                 'connected nodes that nodes() does not list (besides this probe)'
                                 if unseen['hidden'] or unseen['pending'] else None))
        # the node's own partition record (the boot hook's detector): a partition seen between two runs, with its start
        record = facts['partition']
        findings.append(_finding(target, 'partition_record', {}, 'no detector' if record is None else record, not record,
                                 'heard but not connected since: %s' % ', '.join(
                                     '%s %s' % item for item in sorted(record.items())) if record else None))
        for peer in sorted(observed & set(seen)):
            if target.name not in seen[peer]:
                findings.append(_finding(target, 'asymmetric', 'both ways', '%s does not see %s' % (peer, target.name),
                                         False))
    return findings, partitions(names, seen)


def tenant_cookies(targets, hubs):
    """In hub and spoke, every tenant's cookie is its own: compared by keyed digest (a key of this run,
    so no digest outlives it or means anything elsewhere) in O(N), never by presenting one tenant's
    cookie to another. With auth (the node accepts its own cookie) and wrong_cookie (it checks), a
    tenant whose cookie no other tenant has rejects every other tenant's cookie."""
    key = os.urandom(32)
    digests = [(t, hmac.new(key, t.cookie or b'', hashlib.sha256).digest()) for t in targets if t.name not in hubs]
    holders = {}
    for target, digest in digests:
        holders.setdefault(digest, []).append(target.name)
    findings = []
    for target, digest in digests:
        shared = [] if target.cookie else ['(no cookie of its own)']
        shared += sorted(n for n in holders[digest] if n != target.name)
        findings.append(_finding(target, 'tenant_cookie', 'a cookie no other tenant has',
                                 'shared with %d tenant(s)' % len(shared) if shared else 'its own', not shared,
                                 'also the cookie of %s' % ', '.join(shared[:10]) if shared else None))
    return findings


def _expected_peers(target, names, topology, hubs):
    if target.expect['peers'] is not None:
        return set(target.expect['peers'])
    if topology == 'mesh':
        return set(names) - {target.name}
    if topology == 'hub_and_spoke':
        return set(names) - {target.name} if target.name in hubs else set(hubs) - {target.name}
    return set()


def partitions(names, seen):
    """Groups of nodes joined by two-way connections (one group when the cluster is whole)."""
    left, groups = [n for n in names if n in seen], []
    while left:
        group, todo = set(), [left[0]]
        while todo:
            current = todo.pop()
            if current in group:
                continue
            group.add(current)
            todo.extend(p for p in seen.get(current, ()) if p in seen and current in seen[p] and p not in group)
        groups.append(sorted(group))
        left = [n for n in left if n not in group]
    return groups


def verify(specs, cookie, tls=None, no_cert_tls=None, checks=CHECKS, topology='mesh', hubs=(), timeout=5.0,
           concurrency=64):
    """Run the checks on all nodes, every probe in one event loop (loop.Loop, at most ``concurrency`` in
    flight); returns (findings, summary)."""
    started = time.monotonic()
    targets = [Target(spec, cookie) for spec in specs]
    want_facts = 'facts' in checks or 'membership' in checks
    loop, jobs, waiting = Loop(concurrency), [], {}
    on_host = {}  # (host, EPMD port) -> its nodes that need EPMD's names
    for target in targets:
        if not target.port:
            on_host.setdefault((target.host, target.epmd_port), []).append(target)
    for where, members in on_host.items():  # EPMD first: a host's names, then its nodes' probes (they need the ports)
        waiting[where] = []
        loop.spawn(functools.partial(_names, where[0], where[1], timeout),
                   functools.partial(_names_known, members, waiting, where))

    def job(kind, target, steps=None, *args, **kwargs):
        slot = [kind, target, None]
        jobs.append(slot)
        if steps is not None:
            spawn = functools.partial(loop.spawn, functools.partial(steps, target, *args, **kwargs),
                                      functools.partial(_job_done, slot))
            if target.port or kind == 'exposure':
                spawn()
            else:
                waiting[(target.host, target.epmd_port)].append(spawn)

    for target in targets:
        if 'epmd' in checks and not target.port:
            job('epmd', target)  # read from the host's names when they are in
        if 'auth' in checks or want_facts:
            tenant = topology == 'hub_and_spoke' and target.name not in hubs and 'hub_pivot' in checks
            job('auth', target, _auth_and_facts, tls, timeout, want_facts, 'facts' in checks,
                list(hubs) if tenant else None)
        if 'wrong_cookie' in checks:
            job('wrong_cookie', target, _probe, 'wrong_cookie', 'rejected', timeout, cookie=random_cookie(), tls=tls)
        if tls is not None and 'plaintext' in checks:
            job('plaintext', target, _plaintext, timeout)
        if tls is not None and no_cert_tls is not None and 'no_cert' in checks:
            # neither probe needs the real cookie: a node that lets them in is wrong either way
            job('no_cert', target, _probe, 'no_cert', 'tls_rejected', timeout, cookie=random_cookie(), tls=no_cert_tls)
        if 'exposure' in checks:
            for address in target.public:
                job('exposure', target, _exposure_epmd, address, timeout)
                for port in _exposure_ports(target):
                    job('exposure', target, _exposure_dist, address, port, timeout)
                if target.wireguard_port:
                    job('exposure', target, _exposure_wireguard, address, timeout)
    with names_resolved([t.host for t in targets] + [a for t in targets for a in t.public], timeout):
        loop.run()
    findings, facts_by_node = [], {}
    for kind, target, done in jobs:
        result, error = done or (None, RuntimeError('never run'))
        if kind == 'epmd':
            result = _epmd(target)
        elif error is not None:  # a fault is a finding, never a traceback
            result = [_finding(target, kind, 'no error', 'error', False, '%s: %s' % (type(error).__name__, error))]
            result = (result, None) if kind == 'auth' else result
        if kind == 'auth':
            result, facts = result
            if facts is not None:
                facts_by_node[target.name] = facts
        findings.extend(result)
    if topology == 'hub_and_spoke' and 'tenant_cookie' in checks:
        findings.extend(tenant_cookies(targets, set(hubs)))
    groups = []
    if 'membership' in checks:
        member_findings, groups = membership(targets, facts_by_node, topology, set(hubs))
        findings.extend(member_findings)
        # one-way hub: the tenants are meant to be apart (membership says whether each one is)
        if len(groups) > 1 and not (topology == 'hub_and_spoke' and not hubs):
            findings.append({'node': '*', 'check': 'partition', 'expected': 1, 'observed': len(groups),
                             'outcome': VIOLATION, 'detail': groups})
    return findings, summarise(findings, targets, groups, started)


def _names_known(members, waiting, where, ports, error):
    """EPMD's names on one host are in: its nodes' probes may start (with the ports, or at once with the error)."""
    if error is not None:  # a fault of ours, not EPMD's answer: every probe of the host says so
        ports = ProtocolError('reading EPMD\'s names failed: %s: %s' % (type(error).__name__, error), 'epmd_names')
    for target in members:
        target.registry = ports
    for spawn in waiting.pop(where):
        spawn()


def _job_done(slot, value, error):
    slot[2] = (value, error)


def exposure_jobs(specs):
    """How many exposure probes verify() makes of these nodes (a bound on its time)."""
    targets = [Target(spec, None) for spec in specs]
    return sum(len(t.public) * (1 + len(_exposure_ports(t)) + bool(t.wireguard_port)) for t in targets)


def _exposure_ports(target):
    low = target.expect['listen_min'] or target.port
    high = target.expect['listen_max'] or low
    if not low:
        return []
    return list(range(low, min(high, low + 15) + 1))  # bounded: a wide range is sampled at its low end


def summarise(findings, targets, groups, started):
    by_check = {}
    for found in findings:
        counts = by_check.setdefault(found['check'], {OK: 0, VIOLATION: 0})
        counts[found['outcome']] += 1
    violations = [f for f in findings if f['outcome'] == VIOLATION]
    return {
        'nodes': len(targets),
        'findings': len(findings),
        'violations': len(violations),
        'violating_nodes': sorted({f['node'] for f in violations}),
        'by_check': by_check,
        'partitions': groups,
        'elapsed_ms': round((time.monotonic() - started) * 1000.0, 1),
    }
