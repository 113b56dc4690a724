#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dist_auth
short_description: Does an Erlang node authenticate as expected?
version_added: 0.1.0
description:
  - Runs the distribution handshake against a node as a hidden node and reports how it ended, as one O(expect) word.
  - C(accepted) only when the node proved in its challenge_ack that it knows the cookie.
  - C(rejected) only when the node sent its challenge (so our name, flags and protocol were acceptable) and closed the
    connection right after our challenge_reply. A probe refused earlier for another reason is never reported as
    C(rejected), so it can never read as "secure".
  - Without O(cookie) or O(cookie_file) a random 256-bit cookie is used, which checks that strangers are refused.
  - C(wrong_node) when another node answers than O(node) (OTP refuses such a connection); checked before our
    digest is sent. With only O(host) and O(port) there is no name to hold the node to.
  - C(accepts_any_cookie) when the node acknowledges our challenge_reply with a digest that is not of our cookie,
    so it accepted a cookie it cannot know.
author: beamsec.cluster maintainers (@beamsec)
extends_documentation_fragment:
  - beamsec.cluster.dist
  - beamsec.cluster.attributes.INFO_MODULE
  - beamsec.cluster.attributes.ACTION_GROUP
options:
  expect:
    description:
      - Outcomes that count as success; the task fails on any other. Leave empty to only report.
    type: list
    elements: str
    choices: [accepted, rejected, not_allowed, refused, timeout, unreachable, no_epmd, not_registered,
              tls_required, tls_rejected, protocol_error, wrong_node, accepts_any_cookie, rpc_failed]
    default: []
'''

EXAMPLES = r'''
- name: The right cookie is accepted (from a peer)
  beamsec.cluster.dist_auth:
    node: "app@{{ node_dist_address }}"
    cookie_file: /var/lib/app/.erlang.cookie
    expect: accepted

- name: A stranger's cookie is rejected (from the controller)
  beamsec.cluster.dist_auth:
    node: app@10.0.0.5
    expect: rejected
  delegate_to: localhost

- name: Plain TCP is cut off by a TLS node, an unknown client cert too
  beamsec.cluster.dist_auth:
    node: app@10.0.0.5
    tls: "{{ item.tls }}"
    tls_certfile: "{{ item.cert | default(omit) }}"
    tls_keyfile: "{{ item.key | default(omit) }}"
    tls_cafile: /etc/beamsec/ca.pem
    expect: "{{ item.expect }}"
  loop:
    - {tls: false, expect: tls_required}
    - {tls: true, cert: /tmp/foreign.pem, key: /tmp/foreign.key, expect: tls_rejected}

- name: An EPMD-less node, by address and port
  beamsec.cluster.dist_auth:
    host: 10.0.0.5
    port: 9100
    cookie: "{{ vault_cluster_cookie }}"
    expect: accepted
'''

RETURN = r'''
outcome:
  description: How the handshake ended.
  returned: always
  type: str
  sample: rejected
msg:
  description: The outcome in words, with the reason.
  returned: always
  type: str
stage:
  description: Last step reached (epmd_port_please, connect, tls, send_name, recv_status, recv_challenge,
    recv_challenge_ack, connected).
  returned: always
  type: str
  sample: recv_challenge_ack
reached_challenge:
  description: The node sent its challenge, so it accepted our name, flags and protocol; a C(rejected) is
    therefore about the cookie.
  returned: always
  type: bool
cookie_source:
  description: Where the presented cookie came from (cookie, cookie_file, random). Never the cookie itself.
  returned: always
  type: str
host:
  description: Address connected to.
  returned: always
  type: str
tcp_connected:
  description: The TCP connection was accepted (a C(timeout) without it means nothing answered the connect).
  returned: when it was
  type: bool
port:
  description: Distribution port used (from EPMD or given).
  returned: when known
  type: int
epmd:
  description: What EPMD answered to PORT_PLEASE2.
  returned: when EPMD was asked and answered
  type: dict
peer_name:
  description: Node name the peer announced in its challenge.
  returned: when the challenge was received
  type: str
peer_flags:
  description: Distribution capability flags of the peer (DFLAG_ names without the prefix).
  returned: when accepted
  type: list
  elements: str
peer_creation:
  description: Creation of the peer incarnation.
  returned: when accepted
  type: int
status:
  description: The node's send_status answer (ok, ok_simultaneous, alive).
  returned: when accepted
  type: str
tls_info:
  description: Negotiated TLS version and cipher, the node certificate subject, issuer and expiry.
  returned: when the TLS handshake completed
  type: dict
elapsed_ms:
  description: Time the probe took.
  returned: always
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import OUTCOMES
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import probe
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import (
    CONNECTION_SPEC, MUTUALLY_EXCLUSIVE, ParamError, connect_kwargs)

_PAST_CHALLENGE = ('send_complement', 'send_challenge_reply', 'recv_challenge_ack', 'connected')


def main():
    spec = dict(CONNECTION_SPEC, expect=dict(type='list', elements='str', default=[], choices=list(OUTCOMES)))
    module = AnsibleModule(argument_spec=spec, mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    expect = module.params['expect']
    try:
        kwargs, source, warnings = connect_kwargs(module.params, cookie_required='accepted' in expect)
    except ParamError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    result = probe(**kwargs)
    result.pop('tls', None)
    result.update(changed=False, cookie_source=source,
                  reached_challenge=result.get('stage') in _PAST_CHALLENGE)
    if expect and result['outcome'] not in expect:
        module.fail_json(**dict(result, msg='outcome %s, expected %s: %s' % (
            result['outcome'], ' or '.join(expect), result['msg'])))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
