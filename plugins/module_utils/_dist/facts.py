# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live distribution facts of a node, read over an authenticated connection.

Each fact is what the running kernel acts on, read by OTP 25's own rules
(kernel's net_kernel.erl and global.erl), not what was configured:
- connect_all: global's own #conf{} as it runs; failing that, its init rule
  (a boolean kernel env wins, else ``-connect_all false``, else true).
- dist_auto_connect: net_kernel acts on ``{ok, never}`` and ``{ok, once}``
  only; anything else, a string typo or unset, auto-connects every time.
- proto_dist and the listen sockets: net_kernel's live #listen{} records
  (module, protocol, bound address), not the -proto_dist argument, which OTP
  ignores when it is given twice.

Every answer is checked for its shape; a node that answers with anything
else raises ProtocolError (a finding), never another exception, and nothing
it sends reaches a result unbounded (shown.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import json
import struct

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf, rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import ProtocolError, WrongNode
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import run
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.kernel import AUTO_CONNECT, AUTO_CONNECT_DEFAULT
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.shown import MAX_TEXT, erl, short, shown

KERNEL = Atom('kernel')
MAX_NODES = 5000      # nodes() of the largest cluster a probe accepts
MAX_NAME = 255        # characters of an atom, as OTP allows
MAX_ARGUMENTS = 4     # -flag values (lists, and values in each) a fact keeps
MAX_FACTS = 1024 * 1024  # characters of all the facts as JSON
MAX_LISTENERS = 16    # net_kernel listens once per -proto_dist module
MAX_STATE = 64        # elements of a server's state tuple searched
_EPOCH = datetime.datetime(1970, 1, 1)
_LAST_MS = 253402300799999  # 9999-12-31T23:59:59.999Z: the last instant datetime can show


class _Shape(ProtocolError):
    """A fact of the wrong type: a broken or a lying node."""


def _bad(what, value):
    raise _Shape('the node answered %s with %s' % (what, short(value, 120)), 'facts')


def text(value, what='a text'):
    """An Erlang string, atom or binary as Python text (bounded); None for 'undefined'."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, Atom):
        return None if value == 'undefined' else str(value)
    if isinstance(value, bytes) and len(value) <= 4 * MAX_TEXT:
        return value.decode('utf-8', 'replace')
    if (isinstance(value, list) and len(value) <= 4 * MAX_TEXT
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 0x110000 for c in value)):
        return ''.join(chr(c) for c in value)
    return _bad(what, value)


def _int(value, what, low=0, high=65535):
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return _bad(what, value)


def ip_text(value):
    """{127,0,0,1} -> '127.0.0.1'; an 8-tuple -> compressed IPv6 text ('::1'), as ip(8) prints it."""
    if isinstance(value, tuple) and len(value) in (4, 8) and all(
            isinstance(part, int) and not isinstance(part, bool) for part in value):
        try:
            if len(value) == 4:
                return str(ipaddress.IPv4Address(bytes(value)))
            return str(ipaddress.IPv6Address(struct.pack('>8H', *value)))
        except (ValueError, struct.error):
            pass
    return _bad('an IP address', value)


def _env(answer, what):
    """application:get_env/2: the value, or None when unset."""
    if answer == 'undefined':
        return None
    if isinstance(answer, tuple) and len(answer) == 2 and answer[0] == 'ok':
        return answer[1]
    return _bad(what, answer)


def _argument(answer, what):
    """init:get_argument/1: [[value, ...], ...] as text, or None when absent. OTP's arguments
    are charlists; an atom or a binary there is not what init would hand global or net_kernel."""
    if answer == 'error':
        return None
    if (isinstance(answer, tuple) and len(answer) == 2 and answer[0] == 'ok' and isinstance(answer[1], list)
            and len(answer[1]) <= MAX_ARGUMENTS
            and all(isinstance(v, list) and len(v) <= MAX_ARGUMENTS and all(_charlist(c) for c in v)
                    for v in answer[1])):
        return [[text(v, what) for v in values] for values in answer[1]]
    return _bad(what, answer)


def _charlist(value):
    return isinstance(value, list) and len(value) <= 4 * MAX_TEXT and all(
        isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 0x110000 for c in value)


def _nodes(answer, what):
    if isinstance(answer, list) and len(answer) <= MAX_NODES and all(
            isinstance(n, Atom) and '@' in n and len(n) <= MAX_NAME for n in answer):
        return [str(n) for n in answer]
    return _bad(what, answer)


def _boolean(answer, what):
    if answer is not True and answer is not False:
        _bad(what, answer)
    return answer


def _getenv(answer, what):
    return None if answer is False else text(answer, what)


_ARGUMENTS = ('connect_all', 'proto_dist', 'ssl_dist_optfile', 'start_epmd', 'erl_epmd_port')
_KERNEL_ENV = ('connect_all', 'dist_auto_connect', 'inet_dist_listen_min', 'inet_dist_listen_max',
               'inet_dist_use_interface')
_CALLS = (
    [('application', 'get_env', (KERNEL, Atom(key))) for key in _KERNEL_ENV]
    + [('init', 'get_argument', (Atom(flag),)) for flag in _ARGUMENTS]
    + [('os', 'getenv', (name,)) for name in ('ERL_EPMD_PORT', 'ERL_EPMD_ADDRESS')]
    + [('erlang', 'nodes', (Atom(kind),)) for kind in ('visible', 'hidden', 'connected')]
    + [('erlang', 'node', ()), ('erlang', 'system_info', (Atom('otp_release'),)),
       ('net_kernel', 'get_net_ticktime', ()), ('net_kernel', 'epmd_module', ()),
       ('sys', 'get_state', (Atom('net_kernel'),)), ('sys', 'get_state', (Atom('global_name_server'),))]
    # would OTP log a failed handshake (dist_util's error reports), primary and module levels as they run
    + [('logger', 'allow', (Atom('error'), Atom('dist_util')))]
    # the partition detector's record (the node role's boot.script), absent where no detector runs
    + [('persistent_term', 'get', (Atom('beamsec_partition'), Atom('undefined')))]
)
# All of them in one rex call, lists:zipwith3(fun erlang:apply/3, Modules, Functions, Arguments): one
# request, one process on the node, one reply to decode (not 22 of each); encoded once, here, for every node.
# Any call that fails fails them all ({badrpc, _}), as any one failed call fails the facts.
_APPLY = etf.Export(Atom('erlang'), Atom('apply'), 3)
_ZIPPED = etf.encoded([_APPLY, [Atom(m) for m, f, a in _CALLS], [Atom(f) for m, f, a in _CALLS],
                       [list(a) for m, f, a in _CALLS]])


def _records(state, tag, arity):
    """The records ``tag`` of ``arity`` fields in a server's state: one element holding them (a list
    of them, or one alone). Records in two places, or a list with one malformed, are no state OTP
    keeps: a shape error, never a pick of the one that reads well."""
    if not isinstance(state, tuple):
        return _bad('its server state', state)
    found = []
    for item in state[:MAX_STATE]:
        if isinstance(item, tuple) and item and item[0] == tag:
            found.append([item])
        elif isinstance(item, list) and any(isinstance(r, tuple) and r and r[0] == tag for r in item):
            found.append(item)
    if not found:
        return []
    records = found[0]
    if len(found) > 1 or len(records) > MAX_LISTENERS or not all(
            isinstance(r, tuple) and len(r) == arity + 1 and r[0] == tag for r in records):
        return _bad('its server state (%s records)' % tag, state)
    return records


def listeners(state):
    """net_kernel's #listen{listen, accept, address = #net_address{}, module} records."""
    found = []
    for record in _records(state, 'listen', 4):
        address, module = record[3], record[4]
        if not (isinstance(address, tuple) and len(address) == 5 and address[0] == 'net_address'
                and isinstance(address[1], tuple) and len(address[1]) == 2 and isinstance(module, Atom)
                and isinstance(address[3], Atom)):  # the protocol is an atom (tcp, tls): "tls" is none
            return _bad('a #listen{} record', record)
        module = str(module)
        found.append({'address': ip_text(address[1][0]), 'port': _int(address[1][1], 'a listen port'),
                      'protocol': text(address[3], 'a listen protocol'),
                      'proto_dist': module[:-5] if module.endswith('_dist') else module})
    return found


def connect_all(global_state, env, argument):
    """(what global does, where that was read): global's #conf{connect_all}, else its init rule."""
    conf = _records(global_state, 'conf', 2) if isinstance(global_state, tuple) else []
    if conf:  # global keeps one #conf{} with a boolean: anything else is no state global runs with
        return (conf[0][1], 'global') if len(conf) == 1 and isinstance(conf[0][1], bool) else (None, 'invalid conf')
    if isinstance(env, bool):
        return env, 'kernel_env'
    if env is not None:
        return None, 'invalid kernel env'  # global refuses to start with it: no telling what runs
    if argument and argument[0] and argument[0][0] == 'false':
        return False, 'init_argument'
    return True, 'default'


def node_facts(conn, timeout=5.0, deadline=None):
    """Everything dist_info reports, as JSON-ready values: every call in one rex call,
    under one deadline. Raises WrongNode when node() is not the node we handshook with."""
    return run(node_facts_steps(conn, timeout, deadline))


def node_facts_steps(conn, timeout=5.0, deadline=None):
    """(steps) node_facts()"""
    deadline = deadline or Deadline(timeout)
    answers = yield from rpc.call_steps(conn, 'lists', 'zipwith3', _ZIPPED, deadline=deadline)
    if not isinstance(answers, list) or len(answers) != len(_CALLS):
        _bad('its %d calls' % len(_CALLS), answers)
    env = dict((key, _env(found, 'application:get_env(kernel, %s)' % key))
               for key, found in zip(_KERNEL_ENV, answers))
    args = dict((flag, _argument(found, 'init:get_argument(%s)' % flag))
                for flag, found in zip(_ARGUMENTS, answers[len(_KERNEL_ENV):]))
    last = dict((flag, (values[-1][0] if values and values[-1] else None)) for flag, values in args.items())
    (epmd_port, epmd_address, visible, hidden, connected, name, release, ticktime, epmd_module,
     kernel_state, global_state, logs_handshakes, partition) = answers[len(_KERNEL_ENV) + len(_ARGUMENTS):]
    if not isinstance(name, Atom) or len(name) > MAX_NAME or str(name) != conn.peer.name:
        raise WrongNode('node() is %s, but the handshake was with %s' % (short(name, 300), conn.peer.name), 'facts')
    visible, hidden = _nodes(visible, 'nodes(visible)'), _nodes(hidden, 'nodes(hidden)')
    connected = _nodes(connected, 'nodes(connected)')
    ours = str(conn.our_node)
    sockets = listeners(kernel_state)
    connect_all_value, connect_all_source = connect_all(global_state, env['connect_all'], args['connect_all'])
    auto_connect = env['dist_auto_connect']
    listen_min = None if env['inet_dist_listen_min'] is None else _int(env['inet_dist_listen_min'], 'listen_min')
    listen_max = None if env['inet_dist_listen_max'] is None else _int(env['inet_dist_listen_max'], 'listen_max')
    interface = env['inet_dist_use_interface']
    facts = {
        'node': str(name),
        'otp_release': text(release, 'otp_release'),
        'connect_all': connect_all_value,
        'connect_all_source': connect_all_source,
        'connect_all_kernel_env': shown(env['connect_all']),
        'connect_all_init_argument': args['connect_all'],
        'dist_auto_connect': str(auto_connect) if isinstance(auto_connect, Atom) and auto_connect in AUTO_CONNECT
        else AUTO_CONNECT_DEFAULT,
        'dist_auto_connect_configured': None if auto_connect is None else erl(auto_connect),
        'proto_dist': ' '.join(sock['proto_dist'] for sock in sockets) or None,
        'proto_dist_argument': args['proto_dist'],
        'ssl_dist_optfile': last['ssl_dist_optfile'],
        'inet_dist_use_interface': None if interface is None else ip_text(interface),
        'inet_dist_listen_min': listen_min,
        'inet_dist_listen_max': listen_max if listen_max is not None else listen_min,
        'listen': sockets,
        'listen_port': sockets[0]['port'] if sockets else None,
        'net_ticktime': _ticktime(ticktime),
        'nodes_visible': visible,
        'nodes_hidden': [n for n in hidden if n != ours],
        'nodes_pending': sorted(set(connected) - set(visible) - set(hidden) - {ours}),
        'epmd_module': text(epmd_module, 'net_kernel:epmd_module()'),
        'start_epmd': last['start_epmd'] != 'false',
        'erl_epmd_port': last['erl_epmd_port'] or _getenv(epmd_port, 'ERL_EPMD_PORT'),
        'erl_epmd_address': _getenv(epmd_address, 'ERL_EPMD_ADDRESS'),
        'logs_failed_handshakes': _boolean(logs_handshakes, 'logger:allow(error, dist_util)'),
        'partition': _partition(partition),
    }
    size = len(json.dumps(facts))
    if size > MAX_FACTS:
        raise _Shape('the node\'s facts come to %d characters, over %d' % (size, MAX_FACTS), 'facts')
    return facts


def _partition(answer):
    """The detector's record, #{Peer => since (ms of system time)}, as {peer: ISO 8601 UTC}; None where none runs."""
    if answer == 'undefined':
        return None
    if not (isinstance(answer, dict) and len(answer) <= MAX_NODES and all(
            isinstance(peer, Atom) and '@' in peer and len(peer) <= MAX_NAME for peer in answer)):
        return _bad('its partition record', answer)
    record = {}
    for peer, since in answer.items():
        since = _int(since, 'the start of a partition', 0, _LAST_MS)
        # exact milliseconds (a float of seconds can round 123 ms down to 122)
        record[str(peer)] = (_EPOCH + datetime.timedelta(milliseconds=since)).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
    return record


def _ticktime(value):
    """An integer, or {ongoing_change_to, T} while net_kernel changes it."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == 'ongoing_change_to':
        return {'ongoing_change_to': _int(value[1], 'net_ticktime', 1, 1 << 31)}
    return _int(value, 'net_ticktime', 1, 1 << 31)
