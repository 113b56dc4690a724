#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dist_cookie
short_description: Set a running Erlang node's cookie without a restart
version_added: 0.1.0
description:
  - Connects to the node as a hidden node and sets, through C(rpc), the cookie it uses from now on,
    either its own default (C(erlang:set_cookie/1)) or the one it uses for one O(peer) (C(erlang:set_cookie/2)).
  - Established connections stay up; only new handshakes use the new cookie. This is what a zero-downtime
    rotation and a hub that knows each tenant's cookie are built on.
  - Connects with O(cookie) or O(cookie_file); when the node rejects that and O(peer) is not set, tries
    O(new_cookie) too, since a node that already runs with it (restarted from a rewritten file, or a second run)
    has nothing to change.
  - The current cookie is compared inside the module; no cookie, old or new, is returned or logged.
  - Runs anywhere that reaches the node; in check mode it connects and compares but sets nothing.
author: beamsec.cluster maintainers (@beamsec)
extends_documentation_fragment:
  - beamsec.cluster.dist
  - beamsec.cluster.attributes.ACTION_GROUP
options:
  new_cookie:
    description:
      - The cookie the node is to use. Secret; never logged. Mutually exclusive with O(new_cookie_file).
    type: str
  new_cookie_file:
    description: Path, on the machine that runs the module, of a file holding the new cookie.
    type: path
  peer:
    description:
      - Set the cookie the node uses for this node (C(name@host)) only, and leave its default alone.
    type: str
  allow_weak:
    description:
      - A new cookie the node role would refuse (fewer than 32 characters, one character class, a space, a known
        default such as C(monster); the C(beamsec.cluster.cookie_weakness) filter's rule) is refused unless this
        is true.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Connects and compares; sets nothing.
  diff_mode:
    support: none
    description: The values are secret; the task's C(changed) says whether they differ.
'''

EXAMPLES = r'''
- name: The node uses the new cookie from now on (connections stay up)
  beamsec.cluster.dist_cookie:
    node: "app@{{ node_dist_address }}"
    cookie: "{{ old_cookie }}"
    new_cookie: "{{ new_cookie }}"
  no_log: true

- name: The hub knows a tenant's own cookie
  beamsec.cluster.dist_cookie:
    node: "admin@10.0.0.1"
    cookie_file: /var/lib/beam/.erlang.cookie
    peer: "app@10.0.0.7"
    new_cookie: "{{ tenant_cookie }}"
  no_log: true
'''

RETURN = r'''
outcome:
  description: C(accepted) when the node was reached, else why not (see M(beamsec.cluster.dist_auth)).
  returned: always
  type: str
msg:
  description: What was done, in words (no secret).
  returned: always
  type: str
scope:
  description: C(default) for the node's own cookie, else the O(peer) it is for.
  returned: always
  type: str
connected_with:
  description: C(cookie) or C(new_cookie), the one the node accepted.
  returned: success
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import cookie_weakness
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import ACCEPTED, DistError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import connect_node, split_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import (
    CONNECTION_SPEC, MUTUALLY_EXCLUSIVE, ParamError, connect_kwargs, cookie_from)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.rpc import BadRpc, call


def _get_set(conn, peer, new, set_it, deadline):
    """(changed) after reading, and where it differs setting, the cookie for peer (None: the default)."""
    args = [Atom(peer)] if peer else []
    try:
        current = call(conn, 'erlang', 'get_cookie', args, deadline=deadline)
    except BadRpc as exc:
        if not peer or 'undef' not in repr(exc.reason):
            raise
        current = call(conn, 'auth', 'get_cookie', args, deadline=deadline)  # before OTP 24.1
    if current == new:
        return False
    if set_it:
        target = [Atom(peer)] if peer else [call(conn, 'erlang', 'node', deadline=deadline)]
        if call(conn, 'erlang', 'set_cookie', target + [Atom(new)], deadline=deadline) is not True:
            raise DistError('erlang:set_cookie did not return true', 'rpc')
    return True


def _connect(kwargs, new, try_new, report, deadline):
    try:
        return connect_node(report=report, deadline=deadline, **kwargs), 'cookie'
    except DistError as exc:
        if not (try_new and exc.outcome == 'rejected'):
            raise
    kwargs = dict(kwargs, cookie=new)
    return connect_node(report=report, deadline=deadline, **kwargs), 'new_cookie'


def main():
    spec = dict(CONNECTION_SPEC, new_cookie=dict(type='str', no_log=True), new_cookie_file=dict(type='path'),
                peer=dict(type='str'), allow_weak=dict(type='bool', default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=MUTUALLY_EXCLUSIVE + [('new_cookie', 'new_cookie_file')],
                           required_one_of=[('new_cookie', 'new_cookie_file')])
    peer = module.params['peer']
    try:
        if peer:
            try:
                split_node(peer)
            except ValueError as exc:
                raise ParamError('peer: %s; write it as name@host' % exc)
        kwargs, dummy, warnings = connect_kwargs(module.params)
        new, dummy, more = cookie_from(dict(cookie=module.params['new_cookie'],
                                            cookie_file=module.params['new_cookie_file']), prefix='new_')
    except ParamError as exc:
        module.fail_json(msg=str(exc), scope=peer or 'default')
    for warning in warnings + more:
        module.warn(warning)
    scope = peer or 'default'
    new = new.decode('ascii')
    weakness = cookie_weakness(new)
    if weakness and not module.params['allow_weak']:
        module.fail_json(msg='new_cookie is weak (%s): use a strong one (the node role generates 52 characters), '
                             'or set allow_weak: true' % weakness, scope=scope)
    report = {}
    conn = None
    deadline = Deadline(module.params['timeout'])
    try:
        conn, used = _connect(kwargs, new.encode('ascii'), not peer, report, deadline)
        changed = _get_set(conn, peer, new, not module.check_mode, deadline)
    except DistError as exc:
        module.fail_json(msg='%s: %s' % (exc.outcome, exc), outcome=exc.outcome, scope=scope)
    finally:
        if conn is not None:
            conn.close()
    verb = ('would set' if module.check_mode else 'set') if changed else 'already uses'
    module.exit_json(changed=changed, outcome=ACCEPTED, scope=scope, connected_with=used,
                     msg='%s the %s cookie' % (verb, 'default' if not peer else 'per-peer'))


if __name__ == '__main__':
    main()
