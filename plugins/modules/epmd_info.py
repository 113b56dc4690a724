#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: epmd_info
short_description: What EPMD on a host tells anyone who asks
version_added: 0.1.0
description:
  - Sends EPMD the unauthenticated C(NAMES) request, as C(epmd -names) or nmap's epmd-info script do, and reports
    every node name and port it gives away, or why nothing answered.
  - Run it from an outsider to check that EPMD is not exposed, from a peer to check that it is reachable.
author: beamsec.cluster maintainers (@beamsec)
extends_documentation_fragment:
  - beamsec.cluster.attributes.INFO_MODULE
  - beamsec.cluster.attributes.ACTION_GROUP
options:
  host:
    description: Address of the host whose EPMD to ask.
    type: str
    required: true
  port:
    description: EPMD port.
    type: int
    default: 4369
  timeout:
    description: Seconds the request may take.
    type: float
    default: 5
  expect:
    description: Outcomes that count as success; the task fails on any other. Leave empty to only report.
    type: list
    elements: str
    choices: [answered, no_epmd, timeout, unreachable, protocol_error]
    default: []
'''

EXAMPLES = r'''
- name: From outside, EPMD must not answer
  beamsec.cluster.epmd_info:
    host: "{{ hostvars[item].ansible_host }}"
    expect: [no_epmd, timeout, unreachable]
  loop: "{{ groups.beam_nodes }}"

- name: From a peer, EPMD answers on the private address
  beamsec.cluster.epmd_info:
    host: "{{ node_dist_address }}"
    expect: answered
  register: epmd
'''

RETURN = r'''
outcome:
  description: C(answered), or why not (C(no_epmd) when refused, C(timeout), C(unreachable), C(protocol_error)).
  returned: always
  type: str
msg:
  description: The outcome in words.
  returned: always
  type: str
exposed:
  description: EPMD answered this vantage point.
  returned: always
  type: bool
epmd_port:
  description: The port EPMD says it runs on.
  returned: when answered
  type: int
names:
  description: The registered nodes, as name and port (the first 1000; RV(names_total) counts them all).
  returned: always
  type: list
  elements: dict
  sample: [{name: rabbit, port: 25672}]
names_total:
  description: How many names EPMD listed.
  returned: when answered
  type: int
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError

MAX_NAMES = 1000


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            port=dict(type='int', default=4369),
            timeout=dict(type='float', default=5.0),
            expect=dict(type='list', elements='str', default=[],
                        choices=['answered', 'no_epmd', 'timeout', 'unreachable', 'protocol_error']),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not 0 < params['port'] < 65536:
        module.fail_json(msg='port=%s is not a TCP port: use 1-65535' % params['port'])
    if params['timeout'] <= 0:
        module.fail_json(msg='timeout=%s must be a positive number of seconds' % params['timeout'])
    started = time.monotonic()
    result = dict(changed=False, host=params['host'], port=params['port'], names=[], exposed=False)
    try:
        epmd_port, registered = epmd.names(params['host'], params['port'], timeout=params['timeout'])
        # an answer may list tens of thousands of names; the result shows the first MAX_NAMES
        result.update(outcome='answered', exposed=True, epmd_port=epmd_port, names_total=len(registered),
                      names=[dict(name=name, port=port) for name, port in registered[:MAX_NAMES]],
                      msg='EPMD answered with %d name(s)' % len(registered))
    except DistError as exc:
        result.update(outcome=exc.outcome, msg=str(exc))
    result['elapsed_ms'] = round((time.monotonic() - started) * 1000.0, 3)
    if params['expect'] and result['outcome'] not in params['expect']:
        module.fail_json(**dict(result, msg='outcome %s, expected %s: %s' % (
            result['outcome'], ' or '.join(params['expect']), result['msg'])))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
