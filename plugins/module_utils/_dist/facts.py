# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live distribution facts of a node, read over an authenticated connection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import struct

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom, Port

KERNEL = Atom('kernel')


def text(value):
    """An Erlang string, atom or binary as Python text; None for 'undefined'."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, Atom):
        return None if value == 'undefined' else str(value)
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, list) and all(isinstance(c, int) and not isinstance(c, bool) for c in value):
        return ''.join(chr(c) for c in value)
    return value


def ip_text(value):
    """{127,0,0,1} -> '127.0.0.1'; an 8-tuple -> compressed IPv6 text ('::1'), as ip(8) prints it."""
    if isinstance(value, tuple) and len(value) in (4, 8) and all(isinstance(part, int) for part in value):
        try:
            if len(value) == 4:
                return str(ipaddress.IPv4Address(bytes(value)))
            return str(ipaddress.IPv6Address(struct.pack('>8H', *value)))
        except (ValueError, struct.error):
            pass
    return None if value is None else str(value)


def jsonable(value):
    """Any decoded term as plain JSON types, for facts that have no fixed shape."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, (Atom, bytes)):
        return text(value)
    if isinstance(value, dict):
        return dict((str(jsonable(k)), jsonable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return repr(value)


_ARGUMENTS = ('connect_all', 'proto_dist', 'ssl_dist_optfile', 'start_epmd', 'erl_epmd_port')
_KERNEL_ENV = ('connect_all', 'dist_auto_connect', 'inet_dist_listen_min', 'inet_dist_listen_max',
               'inet_dist_use_interface')
_CALLS = (
    [('application', 'get_env', (KERNEL, Atom(key))) for key in _KERNEL_ENV]
    + [('init', 'get_argument', (Atom(flag),)) for flag in _ARGUMENTS]
    + [('os', 'getenv', (name,)) for name in ('ERL_EPMD_PORT', 'ERL_EPMD_ADDRESS')]
    + [('erlang', 'nodes', (Atom('hidden'),)), ('erlang', 'nodes', (Atom('visible'),)), ('erlang', 'node', ()),
       ('erlang', 'system_info', (Atom('otp_release'),)), ('net_kernel', 'get_net_ticktime', ()),
       ('net_kernel', 'epmd_module', ()), ('erlang', 'whereis', (Atom('net_kernel'),))]
)


def _checked(results):
    for result in results:
        if isinstance(result, rpc.BadRpc):
            raise result
    return results


def _listen_sockets(conn, kernel, deadline):
    """Sockets net_kernel owns that have no peer: its listen sockets (two more round trips)."""
    links = _checked(rpc.calls(conn, [('erlang', 'process_info', (kernel, Atom('links')))], deadline=deadline))[0]
    ports = [item for item in (links[1] if isinstance(links, tuple) else []) if isinstance(item, Port)]
    answers = _checked(rpc.calls(conn, [(m, f, (port,)) for port in ports for m, f in
                                        (('inet', 'peername'), ('inet', 'sockname'))], deadline=deadline))
    found = []
    for index in range(0, len(answers), 2):
        peer, name = answers[index], answers[index + 1]
        if peer[0] == 'error' and name[0] == 'ok':
            found.append({'address': ip_text(name[1][0]), 'port': name[1][1]})
    return found


def node_facts(conn, timeout=5.0, deadline=None):
    """Everything dist_info reports, as JSON-ready values: every independent call in one round trip,
    all under one deadline."""
    deadline = deadline or Deadline(timeout)
    answers = _checked(rpc.calls(conn, _CALLS, deadline=deadline))
    env = {key: (found[1] if isinstance(found, tuple) else None) for key, found in zip(_KERNEL_ENV, answers)}
    args = {flag: ([[text(v) for v in values] for values in found[1]] if isinstance(found, tuple) else None)
            for flag, found in zip(_ARGUMENTS, answers[len(_KERNEL_ENV):])}
    last = {flag: (values[-1][0] if values and values[-1] else None) for flag, values in args.items()}
    epmd_port, epmd_address, hidden, visible, name, release, ticktime, epmd_module, kernel = \
        answers[len(_KERNEL_ENV) + len(_ARGUMENTS):]
    sockets = _listen_sockets(conn, kernel, deadline)
    connect_all_env, auto_connect = env['connect_all'], env['dist_auto_connect']
    listen_min, listen_max = env['inet_dist_listen_min'], env['inet_dist_listen_max']
    return {
        'node': str(name),
        'otp_release': text(release),
        'connect_all': connect_all_env is not False and args['connect_all'] != [['false']],
        'connect_all_kernel_env': connect_all_env,
        'connect_all_init_argument': args['connect_all'],
        'dist_auto_connect': text(auto_connect) if auto_connect is not None else 'once',
        'dist_auto_connect_configured': auto_connect is not None,
        'proto_dist': last['proto_dist'] or 'inet_tcp',
        'ssl_dist_optfile': last['ssl_dist_optfile'],
        'inet_dist_use_interface': ip_text(env['inet_dist_use_interface']),
        'inet_dist_listen_min': listen_min,
        'inet_dist_listen_max': listen_max if listen_max is not None else listen_min,
        'listen': sockets,
        'listen_port': sockets[0]['port'] if sockets else None,
        'net_ticktime': jsonable(ticktime),
        'nodes_visible': [str(n) for n in visible],
        'nodes_hidden': [str(n) for n in hidden if n != conn.our_node],
        'epmd_module': text(epmd_module),
        'start_epmd': last['start_epmd'] != 'false',
        'erl_epmd_port': last['erl_epmd_port'] or (None if epmd_port is False else text(epmd_port)),
        'erl_epmd_address': None if epmd_address is False else text(epmd_address),
    }
