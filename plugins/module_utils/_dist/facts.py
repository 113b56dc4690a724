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


class _Reader:
    def __init__(self, conn, deadline):
        self.conn = conn
        self.deadline = deadline

    def call(self, module, function, *args):
        return rpc.call(self.conn, module, function, args, deadline=self.deadline)

    def kernel_env(self, key):
        """application:get_env(kernel, Key): the value, or None when unset."""
        found = self.call('application', 'get_env', KERNEL, Atom(key))
        return found[1] if isinstance(found, tuple) else None

    def argument(self, flag):
        """init:get_argument(Flag): the list of value lists, or None when absent."""
        found = self.call('init', 'get_argument', Atom(flag))
        return [[text(v) for v in values] for values in found[1]] if isinstance(found, tuple) else None

    def last_argument(self, flag):
        values = self.argument(flag)
        return values[-1][0] if values and values[-1] else None

    def os_env(self, name):
        """os:getenv(Name) on the node; None when unset."""
        value = self.call('os', 'getenv', name)
        return None if value is False else text(value)

    def listen_sockets(self):
        """Sockets net_kernel owns that have no peer: its listen sockets."""
        kernel = self.call('erlang', 'whereis', Atom('net_kernel'))
        links = self.call('erlang', 'process_info', kernel, Atom('links'))
        found = []
        for item in (links[1] if isinstance(links, tuple) else []):
            if not isinstance(item, Port):
                continue
            if self.call('inet', 'peername', item)[0] != 'error':
                continue
            name = self.call('inet', 'sockname', item)
            if name[0] == 'ok':
                found.append({'address': ip_text(name[1][0]), 'port': name[1][1]})
        return found


def node_facts(conn, timeout=5.0, deadline=None):
    """Everything dist_info reports, as JSON-ready values; all calls share one deadline."""
    read = _Reader(conn, deadline or Deadline(timeout))
    connect_all_env = read.kernel_env('connect_all')
    connect_all_arg = read.argument('connect_all')
    auto_connect = read.kernel_env('dist_auto_connect')
    hidden = [str(n) for n in read.call('erlang', 'nodes', Atom('hidden')) if n != conn.our_node]
    listen_min = read.kernel_env('inet_dist_listen_min')
    listen_max = read.kernel_env('inet_dist_listen_max')
    sockets = read.listen_sockets()
    return {
        'node': str(read.call('erlang', 'node')),
        'otp_release': text(read.call('erlang', 'system_info', Atom('otp_release'))),
        'connect_all': connect_all_env is not False and connect_all_arg != [['false']],
        'connect_all_kernel_env': connect_all_env,
        'connect_all_init_argument': connect_all_arg,
        'dist_auto_connect': text(auto_connect) if auto_connect is not None else 'once',
        'dist_auto_connect_configured': auto_connect is not None,
        'proto_dist': read.last_argument('proto_dist') or 'inet_tcp',
        'ssl_dist_optfile': read.last_argument('ssl_dist_optfile'),
        'inet_dist_use_interface': ip_text(read.kernel_env('inet_dist_use_interface')),
        'inet_dist_listen_min': listen_min,
        'inet_dist_listen_max': listen_max if listen_max is not None else listen_min,
        'listen': sockets,
        'listen_port': sockets[0]['port'] if sockets else None,
        'net_ticktime': jsonable(read.call('net_kernel', 'get_net_ticktime')),
        'nodes_visible': [str(n) for n in read.call('erlang', 'nodes', Atom('visible'))],
        'nodes_hidden': hidden,
        'epmd_module': text(read.call('net_kernel', 'epmd_module')),
        'start_epmd': read.last_argument('start_epmd') != 'false',
        'erl_epmd_port': read.last_argument('erl_epmd_port') or read.os_env('ERL_EPMD_PORT'),
        'erl_epmd_address': read.os_env('ERL_EPMD_ADDRESS'),
    }
