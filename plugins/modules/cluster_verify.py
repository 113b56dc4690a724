#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_verify
short_description: Verify a whole BEAM cluster's hardening from one vantage point
version_added: 0.1.0
description:
  - Probes every node of the cluster concurrently (at most O(concurrency) probes at a time, each within
    O(timeout)) and reports findings, one per node and check, shaped for C(selectattr) or C(json_query).
  - "Checks: C(epmd) (the node is registered), C(auth) (the right cookie is accepted by the node of that name,
    through TLS where configured), C(wrong_cookie) (a random cookie is rejected after the challenge), C(plaintext)
    and C(no_cert) (under TLS, a plain TCP attempt and a TLS attempt without a client certificate are refused;
    both present a random cookie, never the real one), C(facts) (C(connect_all), C(dist_auto_connect), under TLS
    the carrier of every listener, the listen port inside its range and bound to the private address, all read
    from what the running node acts on), C(membership) (each node's C(nodes()) against the topology, nodes outside
    the inventory included; hidden and pending connections as C(hidden_peers); one-sided views and partitions) and
    C(exposure) (nothing accepts a connection on the addresses listed in C(public_addresses): a port that accepts
    and says nothing is open; with C(wireguard_port), that port answers nothing to a handshake initiation from no
    peer) and, in a C(hub_and_spoke) cluster, C(hub_pivot) (from each tenant's seat, with its
    own cookie and through its own node, a fresh connection to each hub node and a call of C(erlang:node()) on it
    and on every hidden peer the tenant holds get nothing: an Erlang hub that answers is one cluster with all its
    tenants; the one-way hub answers nothing) and C(tenant_cookie) (no two tenants share a cookie, compared by a
    keyed digest of this run, linear in the tenants, never by presenting one tenant's cookie to another)."
  - A finding is C(ok) only on positive evidence; what the probe cannot tell, or a node answers out of shape, is
    a violation. Every node may be hostile, so each probe is bounded in time (O(timeout)), bytes, decoded objects
    and calls, and what a node sends is shown bounded.
  - Fails when any finding is a violation, unless O(fail_on_violation=false).
  - Runs where its connections start from; on the controller it needs the cookie there (O(cookie) from a vault).
options:
  nodes:
    description: The cluster's nodes and what is expected of each.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The node name, C(name@host).
        type: str
        required: true
      port:
        description: The distribution port of an EPMD-less node (no EPMD lookup then).
        type: int
      epmd_port:
        description: EPMD's port on the node's host.
        type: int
        default: 4369
      address:
        description: The address the node must listen on; the host part of O(nodes[].name) by default.
        type: str
      cookie:
        description: This node's own cookie (hub-and-spoke); O(cookie) or O(cookie_file) otherwise.
        type: str
      cookie_file:
        description: A file holding this node's own cookie.
        type: path
      public_addresses:
        description: Addresses of the node's host on which neither EPMD nor the distribution port may answer.
        type: list
        elements: str
        default: []
      wireguard_port:
        description:
          - The UDP port of the node host's WireGuard overlay. The exposure check then sends it, on each of
            O(nodes[].public_addresses), a handshake initiation signed by no peer (C(exposure_wireguard)) - WireGuard
            drops it without a word, so any answer is a violation; an ICMP port unreachable (nothing listens) is not.
        type: int
      expect:
        description: What the node must run with.
        type: dict
        default: {}
        suboptions:
          connect_all:
            description: The expected C(connect_all).
            type: bool
            default: false
          dist_auto_connect:
            description: The expected C(dist_auto_connect) (C(never), C(once)); not checked when unset.
            type: str
          listen_min:
            description: Low end of the distribution port range; the port is not checked when unset.
            type: int
          listen_max:
            description: High end of the range.
            type: int
          peers:
            description: The exact visible peers this node must have, overriding O(topology).
            type: list
            elements: str
  cookie:
    description: The cluster's cookie. Vault it.
    type: str
  cookie_file:
    description: A file on the host running the module that holds the cookie.
    type: path
  tls:
    description: The nodes use TLS distribution.
    type: bool
    default: false
  tls_certfile:
    description: Client certificate (PEM) for TLS distribution.
    type: path
  tls_keyfile:
    description: Its key.
    type: path
  tls_cafile:
    description: The CA that signed the nodes' certificates.
    type: path
  tls_verify:
    description: Verify the nodes' certificates against O(tls_cafile).
    type: bool
    default: true
  tls_check_hostname:
    description: Also match each node's certificate against its host.
    type: bool
    default: false
  probe_key:
    description:
      - The key that tags the probes' node names, so that M(beamsec.cluster.dist_audit) counts the failed handshakes
        this run makes on purpose (O(checks=wrong_cookie), a tenant's cookie at a hub) as the collection's own.
        Not a cookie.
    type: str
  checks:
    description: The checks to run.
    type: list
    elements: str
    choices: [epmd, auth, wrong_cookie, plaintext, no_cert, facts, membership, exposure, hub_pivot, tenant_cookie]
    default: [epmd, auth, wrong_cookie, plaintext, no_cert, facts, membership, exposure, hub_pivot, tenant_cookie]
  topology:
    description:
      - C(mesh) (every node sees every other), C(hub_and_spoke) (hubs see everyone, the others only the hubs),
        or C(none) (membership only from O(nodes[].expect.peers)).
    type: str
    choices: [mesh, hub_and_spoke, none]
    default: mesh
  hubs:
    description:
      - The Erlang hub nodes' names, for O(topology=hub_and_spoke); empty for the one-way hub (the collection's
        C(beamsec-hub) command, which is no node), where tenants see no visible peer at all.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each probe may take, connection and calls together.
    type: float
    default: 5.0
  concurrency:
    description:
      - Probes in flight at once, all in one event loop (a socket each, no thread). A run takes at most about
        ceil(probes / concurrency) times O(timeout), and about one O(timeout) when every probe is in flight; a node
        makes 3 to 5 probes, plus its exposure probes.
      - From 1 to 1024.
    type: int
    default: 64
  run_as:
    description:
      - Probe from this local account's seat (e.g. C(nobody)) instead of the module's own. The module, which must
        run as root, forks a child that drops to the account's uid and gid, without supplementary groups, and runs
        the probes there; the host's firewall then judges them as it judges that account's own tools.
      - Only O(checks=[exposure]), and no cookie; an unprivileged seat is probed with nothing it could not have.
        List the node's own addresses (loopback, private, public) in O(nodes[].public_addresses).
    type: str
  fail_on_violation:
    description: Fail the task when a finding is a violation.
    type: bool
    default: true
extends_documentation_fragment:
  - beamsec.cluster.attributes.INFO_MODULE
  - beamsec.cluster.attributes.ACTION_GROUP
author: beamsec.cluster maintainers (@beamsec)
'''

EXAMPLES = r'''
- name: Verify the cluster from the controller
  beamsec.cluster.cluster_verify:
    nodes: "{{ groups.beam_nodes | map('extract', hostvars) | map(attribute='beamsec_verify_node') | list }}"
    cookie: "{{ vault_cluster_cookie }}"
    topology: mesh
  delegate_to: localhost
  run_once: true
  register: verdict

- name: The violations only
  ansible.builtin.debug:
    msg: "{{ verdict.findings | selectattr('outcome', 'equalto', 'violation') }}"

- name: A hub that reaches every tenant, tenants that reach only the hub
  beamsec.cluster.cluster_verify:
    nodes:
      - {name: admin@10.0.0.1, cookie_file: /etc/beamsec/cookies/admin}
      - {name: tenant@10.0.0.2, cookie_file: /etc/beamsec/cookies/tenant1}
      - {name: tenant@10.0.0.3, cookie_file: /etc/beamsec/cookies/tenant2}
    topology: hub_and_spoke
    hubs: [admin@10.0.0.1]
'''

RETURN = r'''
findings:
  description: One entry per node and check.
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: The node's name (C(*) for cluster-wide findings such as C(partition)).
      type: str
    check:
      description: What was checked.
      type: str
    expected:
      description: What the hardening requires.
      type: raw
    observed:
      description: What the probe saw.
      type: raw
    outcome:
      description: C(ok) (positive evidence of the safe state) or C(violation) (anything else).
      type: str
    detail:
      description: The probe's own words, when there are any.
      type: raw
  sample:
    - {node: app@10.0.0.1, check: wrong_cookie, expected: rejected, observed: rejected, outcome: ok}
summary:
  description: Counts per check, the violating nodes and the partitions (node groups joined by two-way connections).
  returned: always
  type: dict
  sample:
    nodes: 3
    findings: 21
    violations: 0
    violating_nodes: []
    by_check: {auth: {ok: 3, violation: 0}}
    partitions: [[app@10.0.0.1, app@10.0.0.2, app@10.0.0.3]]
    elapsed_ms: 41.7
'''

import ipaddress
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import probe_tag
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import (
    CONNECTION_SPEC, ParamError, check_host, check_node, check_timeout, cookie_from, tls_from)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.seat import SeatError, run_as
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import (
    CHECKS, VIOLATION, exposure_jobs, summarise, verify)

MAX_CONCURRENCY = 1024  # sockets in flight: more would only run into the open-file limit
EXPECT_SPEC = dict(connect_all=dict(type='bool', default=False), dist_auto_connect=dict(type='str'),
                   listen_min=dict(type='int'), listen_max=dict(type='int'),
                   peers=dict(type='list', elements='str'))
# the connection options every node-probing module shares (params.py): per node where a node differs, for the
# whole run where all nodes share them
NODE_SPEC = dict(dict((key, CONNECTION_SPEC[key]) for key in ('port', 'epmd_port', 'cookie', 'cookie_file')),
                 name=dict(type='str', required=True), address=dict(type='str'),
                 public_addresses=dict(type='list', elements='str', default=[]),
                 wireguard_port=dict(type='int'),
                 expect=dict(type='dict', default={}, options=EXPECT_SPEC))
SHARED = ('cookie', 'cookie_file', 'tls', 'tls_certfile', 'tls_keyfile', 'tls_cafile', 'tls_verify',
          'tls_check_hostname', 'timeout', 'probe_key')
ARGUMENT_SPEC = dict(
    dict((key, CONNECTION_SPEC[key]) for key in SHARED),
    nodes=dict(type='list', elements='dict', required=True, options=NODE_SPEC),
    checks=dict(type='list', elements='str', choices=list(CHECKS), default=list(CHECKS)),
    topology=dict(type='str', choices=['mesh', 'hub_and_spoke', 'none'], default='mesh'),
    hubs=dict(type='list', elements='str', default=[]),
    concurrency=dict(type='int', default=64),
    run_as=dict(type='str'),
    fail_on_violation=dict(type='bool', default=True),
)


def node_specs(params):
    """The nodes option, checked, with each node's own cookie read (verify's cookie_bytes); and the warnings
    about those cookie files (a node's file readable by others is worth saying as much as the run's own)."""
    specs, names, warnings = [], set(), []
    for index, spec in enumerate(params['nodes']):
        where = 'nodes[%d]' % index
        check_node(spec['name'], where + '.name')
        if spec['name'] in names:
            raise ParamError('%s.name=%s is listed twice' % (where, spec['name']))
        names.add(spec['name'])
        for address in spec['public_addresses']:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ParamError('%s.public_addresses: %r is not an IP address (a probe of a name proves nothing '
                                 'when the name does not resolve); write e.g. 192.0.2.10 or 2001:db8::10'
                                 % (where, address))
        check_host(spec.get('address'), where + '.address')
        for key in ('port', 'epmd_port'):
            if spec.get(key) is not None and not 0 < spec[key] < 65536:
                raise ParamError('%s.%s=%s is not a TCP port: use 1-65535' % (where, key, spec[key]))
        if spec.get('wireguard_port') is not None and not 0 < spec['wireguard_port'] < 65536:
            raise ParamError('%s.wireguard_port=%s is not a UDP port: use 1-65535' % (where, spec['wireguard_port']))
        if spec.get('cookie') and spec.get('cookie_file'):
            raise ParamError('%s sets both cookie and cookie_file: keep one' % where)
        if spec.get('cookie') is not None or spec.get('cookie_file') is not None:
            cookie, dummy, more = cookie_from(spec, prefix=where + '.')
            spec = dict(spec, cookie_bytes=cookie)
            warnings.extend('%s.cookie_file: %s' % (where, warning) for warning in more)
        specs.append(spec)
    unknown = set(params['hubs']) - names
    if unknown:
        raise ParamError('hubs lists %s, which nodes does not' % ', '.join(sorted(unknown)))
    return specs, warnings


def check_seat(params):
    """run_as probes only what an unprivileged account could try by itself."""
    if not params['run_as']:
        return
    if set(params['checks']) != {'exposure'}:
        raise ParamError('run_as=%s runs only checks: [exposure] (an unprivileged seat holds no cookie, '
                         'certificate or facts of the node); got checks: %s' % (params['run_as'], params['checks']))
    if params['cookie'] is not None or params['cookie_file'] or any(
            spec.get('cookie') is not None or spec.get('cookie_file') for spec in params['nodes']):
        raise ParamError('run_as=%s: give no cookie or cookie_file (the exposure probes present a random cookie)'
                         % params['run_as'])


def seat_verify(params, specs, **kwargs):
    """verify() from params['run_as']'s seat: in a child as that account, bounded by the probes' own time."""
    started = time.monotonic()
    rounds = 3 + exposure_jobs(specs) // params['concurrency']  # (one for the names resolved before the probes)
    try:
        findings, summary = run_as(params['run_as'], lambda: verify(specs, None, **kwargs),
                                   params['timeout'] * rounds + 5)
    except SeatError as exc:
        findings = [{'node': '*', 'check': 'exposure', 'expected': 'probes as %s' % params['run_as'],
                     'observed': 'error', 'outcome': VIOLATION, 'detail': str(exc)}]
        summary = summarise(findings, specs, [], started)
    summary['seat'] = params['run_as']
    return findings, summary


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[('cookie', 'cookie_file')],
                           supports_check_mode=True)
    params = module.params
    try:
        check_timeout(params['timeout'])
        if not 1 <= params['concurrency'] <= MAX_CONCURRENCY:
            raise ParamError('concurrency=%s must be from 1 to %d' % (params['concurrency'], MAX_CONCURRENCY))
        if not params['nodes']:
            raise ParamError('nodes is empty: a run that checks no node proves nothing; give the cluster\'s nodes '
                             '(e.g. groups.beam_nodes | beamsec.cluster.cluster_members(hostvars) | '
                             'beamsec.cluster.verify_nodes(hostvars))')
        check_seat(params)
        probe_tag.use_key(params['probe_key'])
        specs, node_warnings = node_specs(params)
        own = all(s.get('cookie_bytes') for s in specs)
        # exposure and wrong_cookie probes present a random cookie: they need none
        needs = set(params['checks']) & {'auth', 'facts', 'membership', 'plaintext', 'no_cert'}
        cookie, dummy, warnings = cookie_from(params, cookie_required=bool(needs) and not own)
        warnings = node_warnings + warnings
        tls = tls_from(params)
        no_cert = tls_from(dict(params, tls_certfile=None, tls_keyfile=None)) if tls is not None else None
    except ParamError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    kwargs = dict(tls=tls, no_cert_tls=no_cert, checks=params['checks'], topology=params['topology'],
                  hubs=params['hubs'], timeout=params['timeout'], concurrency=params['concurrency'])
    if params['run_as']:
        findings, summary = seat_verify(params, specs, **kwargs)
    else:
        findings, summary = verify(specs, cookie, **kwargs)
    msg = '%d nodes, %d findings, %d violations' % (summary['nodes'], summary['findings'], summary['violations'])
    if summary['violations'] and params['fail_on_violation']:
        bad = ['%s %s: %s' % (f['node'], f['check'], f['observed']) for f in findings if f['outcome'] == VIOLATION]
        module.fail_json(msg=msg + ': ' + '; '.join(bad[:10]), findings=findings, summary=summary)
    module.exit_json(changed=False, msg=msg, findings=findings, summary=summary)


if __name__ == '__main__':
    main()
