#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dist_audit
short_description: Who knocked on a node, from its own record of failed distribution handshakes, by source
version_added: 0.1.0
description:
  - Reads the node's own record of failed authentication over a window and counts it by source address and kind,
    with a sample of the claimed node names. C(challenge) is OTP's "Invalid challenge reply" (a wrong cookie), C(disallowed) its
    "Connection attempt from disallowed node" (C(net_kernel:allow/1)), C(tls) a TLS alert on the distribution port
    (no or a rejected client certificate, plain text to a TLS port).
  - OTP logs these without the peer's address. The node role's boot hook adds it, with a logger filter that finds the
    connection's socket in the process that reports (its C(boot.script)); reports from a node without the hook count
    from source C(unknown). The record is the node's own output, so it survives restarts and needs nothing running
    in the node; the journal of its systemd unit (O(unit)) or a file (O(log_file)).
  - The collection's own probes fail on purpose (a random cookie, a tenant's cookie at a hub); their node names carry a
    tag under O(probe_key), bound to the node probed and to the time the name was issued, and count as C(ours), each
    name once. A name without a valid tag for this node, issued outside the window, or seen before is a stranger's.
    TLS alerts carry no name and always count as strangers'.
  - A peer that resets its connection before OTP reports can leave its address C(unknown); a disallowed name whose
    connection is reset before OTP answers leaves no report at all (the firewall's per-source sets still count it).
  - A violation when strangers knocked more than O(threshold) times in the window, or when the record could not be
    read whole.
author: beamsec.cluster maintainers (@beamsec)
extends_documentation_fragment:
  - beamsec.cluster.attributes.INFO_MODULE
options:
  node:
    description: The node's name (name@host), for the finding and to check our probes' tags against.
    type: str
    required: true
  unit:
    description: The systemd unit whose journal holds the node's output (the node role's C(beam-<name>) unit).
    type: str
  log_file:
    description: Instead of O(unit), a file the node writes its output to; read whole, bounded by O(max_lines).
    type: path
  window:
    description: Seconds back from now that O(unit)'s journal is read.
    type: int
    default: 3600
  threshold:
    description: Strangers' knocks in the window above which the finding is a violation.
    type: int
    default: 20
  probe_key:
    description: The key of the collection's probe names (see M(beamsec.cluster.cluster_verify)); without it every
      knock counts as a stranger's.
    type: str
  max_lines:
    description: Lines of the record read at most; a longer record is a violation (too much to tell), not a quiet one.
    type: int
    default: 200000
  timeout:
    description: Seconds the read may take.
    type: float
    default: 30
'''

EXAMPLES = r'''
- name: Who knocked on the node in the last hour
  beamsec.cluster.dist_audit:
    node: app@10.0.0.1
    unit: beam-app
    probe_key: "{{ lookup('ansible.builtin.password', '.beamsec/probe.key', chars=['hexdigits'], length=32) }}"
  register: knocks
'''

RETURN = r'''
knocks:
  description: Knocks grouped by source address, kind and whether the name is one of ours, with up to three of the
    claimed node names; most first.
  returned: always
  type: list
  elements: dict
  sample:
    - {source: 10.0.0.9, kind: challenge, ours: false, count: 212, names: ["'x@10.0.0.9'"]}
summary:
  description: C(ours), C(strangers), strangers' counts C(by_kind) and C(by_source), C(threshold), C(lines_read) and
    C(incomplete) (why the record was not read whole, or null).
  returned: always
  type: dict
finding:
  description: The verdict, in cluster_verify's shape (node, check C(knocks), expected, observed, outcome, detail).
  returned: always
  type: dict
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.knocks import Record
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.record import read_file, read_journal


def finding(node, summary):
    observed = summary['strangers']
    good = summary['incomplete'] is None and observed <= summary['threshold']
    detail = ', '.join('%s: %d' % item for item in sorted(summary['by_source'].items(), key=lambda i: -i[1])[:5])
    if summary['incomplete']:
        detail = 'record not read whole (%s)%s' % (summary['incomplete'], '; ' + detail if detail else '')
    return {'node': node, 'check': 'knocks', 'expected': '<= %d from strangers' % summary['threshold'],
            'observed': observed, 'outcome': 'ok' if good else 'violation', 'detail': detail or None}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            node=dict(type='str', required=True),
            unit=dict(type='str'),
            log_file=dict(type='path'),
            window=dict(type='int', default=3600),
            threshold=dict(type='int', default=20),
            probe_key=dict(type='str', no_log=True),
            max_lines=dict(type='int', default=200000),
            timeout=dict(type='float', default=30.0),
        ),
        required_one_of=[('unit', 'log_file')],
        mutually_exclusive=[('unit', 'log_file')],
        supports_check_mode=True,
    )
    params = module.params
    for key, low in (('window', 1), ('threshold', 0), ('max_lines', 1)):
        if params[key] < low:
            module.fail_json(msg='%s=%s must be %d or more' % (key, params[key], low))
    if not 0 < params['timeout'] <= 3600:
        module.fail_json(msg='timeout=%s must be more than 0 and at most 3600 seconds' % params['timeout'])
    # our probes' names count for this node, issued within the window (a file has no window: no lower bound)
    record = Record(params['probe_key'], params['node'], None if params['log_file'] else time.time() - params['window'])
    try:
        if params['log_file']:
            read_file(params['log_file'], record, params['max_lines'], params['timeout'])
        else:
            read_journal(params['unit'], params['window'], record, params['max_lines'], params['timeout'])
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the record of %s: %s' % (params['node'], exc))
    knocks, summary = record.report(params['threshold'])
    verdict = finding(params['node'], summary)
    module.exit_json(changed=False, knocks=knocks[:100], summary=summary, finding=verdict,
                     msg='%d knocks from strangers, %d of ours' % (summary['strangers'], summary['ours']))


if __name__ == '__main__':
    main()
