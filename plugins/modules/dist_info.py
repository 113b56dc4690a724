#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dist_info
short_description: Live distribution settings of a running Erlang node
version_added: 0.1.0
description:
  - Connects as a hidden node with the cookie and asks the node itself, through C(rpc) (the C(rex) server),
    what it runs with; configuration files can say one thing and the node do another.
  - Reports C(connect_all), C(dist_auto_connect), the protocol, the listen interface, range and actual sockets,
    C(net_ticktime), connected nodes and how the node finds EPMD.
  - Each fact is what the running kernel acts on, by OTP's own reading rules, not what was configured; the
    configured values are reported beside them. The node must answer under the name asked for, in the handshake
    and in C(node()) (else RV(outcome) is C(wrong_node)); any answer out of shape fails with C(protocol_error),
    and nothing the node sends reaches the result unbounded.
  - Fails, with RV(outcome), when the node cannot be reached or does not accept the cookie.
  - O(timeout) bounds the whole task, connection and every call together.
author: beamsec.cluster maintainers (@beamsec)
extends_documentation_fragment:
  - beamsec.cluster.dist
  - beamsec.cluster.attributes.INFO_MODULE
  - beamsec.cluster.attributes.ACTION_GROUP
'''

EXAMPLES = r'''
- name: Read what the node really runs with
  beamsec.cluster.dist_info:
    node: "app@{{ node_dist_address }}"
    cookie_file: /var/lib/app/.erlang.cookie
  register: live

- name: The hardening is in force
  ansible.builtin.assert:
    that:
      - not live.facts.connect_all
      - live.facts.dist_auto_connect == 'never'
      - live.facts.listen | map(attribute='address') | list == [node_dist_address]
'''

RETURN = r'''
outcome:
  description: C(accepted) on success, else why the connection failed (see M(beamsec.cluster.dist_auth)).
  returned: always
  type: str
msg:
  description: The outcome in words.
  returned: always
  type: str
connection:
  description: How the connection was made (host, port, EPMD answer, TLS details, peer flags).
  returned: always
  type: dict
facts:
  description: What the node reports about itself.
  returned: success
  type: dict
  contains:
    node:
      description: The node's name.
      type: str
    otp_release:
      description: C(erlang:system_info(otp_release)).
      type: str
      sample: '25'
    connect_all:
      description:
        - Whether the node connects transitively, as C(global) runs (its C(#conf{})); failing that, by its start-up
          rule (a boolean kernel env wins over the deprecated C(-connect_all false)). Null when it cannot be told.
      type: bool
    connect_all_source:
      description: Where RV(facts.connect_all) was read (C(global), C(kernel_env), C(init_argument), C(default)).
      type: str
    connect_all_kernel_env:
      description: C(application:get_env(kernel, connect_all)) value, null when unset.
      type: raw
    connect_all_init_argument:
      description: C(init:get_argument(connect_all)) values, null when absent.
      type: list
    dist_auto_connect:
      description:
        - What net_kernel does, C(never), C(once) or C(always) (it acts on the atoms C(never) and C(once) only;
          unset, a string or a typo auto-connects every time).
      type: str
    dist_auto_connect_configured:
      description: The kernel env as configured, in Erlang syntax (C("never") is a string), null when unset.
      type: str
    proto_dist:
      description: The carriers net_kernel listens with (its live C(#listen{}) records), e.g. C(inet_tls).
      type: str
    proto_dist_argument:
      description: The C(-proto_dist) arguments as given (OTP ignores them when the flag is given twice).
      type: list
    ssl_dist_optfile:
      description: The C(-ssl_dist_optfile) path, if any.
      type: str
    inet_dist_use_interface:
      description: Configured listen address, null when unset (all interfaces).
      type: str
    inet_dist_listen_min:
      description: Configured lower bound of the listen range.
      type: int
    inet_dist_listen_max:
      description: Configured upper bound of the listen range.
      type: int
    listen:
      description: The sockets net_kernel listens on (address, port, C(protocol) tcp or tls, C(proto_dist)).
      type: list
      elements: dict
    listen_port:
      description: Port of the first listen socket.
      type: int
    net_ticktime:
      description: C(net_kernel:get_net_ticktime()).
      type: raw
    nodes_visible:
      description: C(nodes(visible)).
      type: list
      elements: str
    nodes_hidden:
      description: C(nodes(hidden)), without this probe.
      type: list
      elements: str
    nodes_pending:
      description: C(nodes(connected)) that are neither visible nor hidden (connections being set up).
      type: list
      elements: str
    epmd_module:
      description: C(net_kernel:epmd_module()).
      type: str
    start_epmd:
      description: Whether the node would start an EPMD (false with C(-start_epmd false)).
      type: bool
    erl_epmd_port:
      description: C(-erl_epmd_port) or C(ERL_EPMD_PORT), null when neither is set.
      type: str
    erl_epmd_address:
      description: C(ERL_EPMD_ADDRESS) in the node's environment.
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import ACCEPTED, DistError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import connect_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import (
    CONNECTION_SPEC, MUTUALLY_EXCLUSIVE, ParamError, connect_kwargs)


def main():
    module = AnsibleModule(argument_spec=CONNECTION_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    try:
        kwargs, dummy, warnings = connect_kwargs(module.params)
    except ParamError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    report = {}
    conn = None
    deadline = Deadline(module.params['timeout'])  # one budget for the connection and every call
    try:
        conn = connect_node(report=report, deadline=deadline, **kwargs)
        facts = node_facts(conn, deadline=deadline)
    except DistError as exc:
        module.fail_json(msg='%s: %s' % (exc.outcome, exc), outcome=exc.outcome, connection=report)
    finally:
        if conn is not None:
            conn.close()
    module.exit_json(changed=False, outcome=ACCEPTED, msg='read %d facts' % len(facts),
                     connection=report, facts=facts)


if __name__ == '__main__':
    main()
