# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EPMD client: NAMES_REQ and PORT_PLEASE2_REQ (erts "Distribution Protocol").

Each request is one TCP connection: a 2-byte length, the request, and EPMD
answers and closes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import struct
from collections import namedtuple

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Connection, Deadline, open_tcp
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import (
    NoEpmd, NotRegistered, ProtocolError)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import run

EPMD_PORT = 4369
NAMES_REQ = 110
PORT_PLEASE2_REQ = 122
PORT2_RESP = 119
NAMES_LIMIT = 1024 * 1024
MAX_NAME = 255  # EPMD's MAXSYMLEN: a longer name is no EPMD's answer

NODE_TYPES = {77: 'normal', 72: 'hidden'}

NodeInfo = namedtuple('NodeInfo', 'name port node_type protocol highest_version lowest_version extra')

_NAME_LINE = re.compile(r'^name (.+) at port (\d+)$')


def _request(host, port, payload, deadline, stage, complete=None):
    """(steps) One request, the answer up to EPMD's close (or until ``complete`` says it is whole)."""
    sock = yield from open_tcp(host, port, deadline, stage, refused=NoEpmd, nodelay=False)
    conn = Connection(sock, deadline)
    conn.stage = stage
    try:
        yield from conn.send(struct.pack('>H', len(payload)) + payload)
        return (yield from conn.recv_to_close(NAMES_LIMIT, complete))
    finally:
        conn.close()


def parse_names(answer):
    """NAMES_RESP: (EPMD's port, [(name, port), ...])."""
    if len(answer) < 4:
        raise ProtocolError('EPMD NAMES answer of %d bytes is too short' % len(answer), 'epmd_names')
    epmd_port = struct.unpack('>I', answer[:4])[0]
    registered = []
    for line in answer[4:].decode('latin-1').splitlines():
        match = _NAME_LINE.match(line)
        if match and len(match.group(1)) <= MAX_NAME and len(match.group(2)) <= 5:
            registered.append((match.group(1), int(match.group(2))))
        elif line.strip():
            raise ProtocolError('unexpected EPMD NAMES line %r' % line[:80], 'epmd_names')
    return epmd_port, registered


def _port2_resp_complete(answer):
    """A whole PORT2_RESP: the error form, or all its length-prefixed fields."""
    if len(answer) < 2:
        return False
    if answer[1] != 0:
        return True
    if len(answer) < 14:
        return False
    end = 12 + struct.unpack_from('>H', answer, 10)[0]
    return len(answer) >= end + 2 and len(answer) >= end + 2 + struct.unpack_from('>H', answer, end)[0]


def parse_port2_resp(answer, name=''):
    """PORT2_RESP: a NodeInfo, or NotRegistered when EPMD has no such node."""
    if len(answer) < 2 or answer[0] != PORT2_RESP:
        raise ProtocolError('bad PORT2_RESP %r' % answer[:16], 'epmd_port_please')
    if answer[1] != 0:
        raise NotRegistered('EPMD has no node named %r' % name, 'epmd_port_please')
    try:
        node_port, node_type, protocol, high, low, nlen = struct.unpack_from('>HBBHHH', answer, 2)
        end = 12 + nlen
        node_name = answer[12:end].decode('utf-8')
        elen = struct.unpack_from('>H', answer, end)[0]
        extra = answer[end + 2:end + 2 + elen]
        if len(node_name.encode('utf-8')) != nlen or len(extra) != elen:
            raise struct.error('lengths run past the answer')
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError('truncated PORT2_RESP: %s' % exc, 'epmd_port_please')
    return NodeInfo(node_name, node_port, NODE_TYPES.get(node_type, node_type), protocol, high, low, extra)


def names(host, port=EPMD_PORT, timeout=5.0, deadline=None):
    """NAMES_REQ: EPMD's own port and every (name, port) it registers."""
    return run(names_steps(host, port, timeout, deadline))


def names_steps(host, port=EPMD_PORT, timeout=5.0, deadline=None):
    """(steps) names()"""
    deadline = deadline or Deadline(timeout)
    return parse_names((yield from _request(host, port, bytes((NAMES_REQ,)), deadline, 'epmd_names')))


def port_please2(host, name, port=EPMD_PORT, timeout=5.0, deadline=None):
    """PORT_PLEASE2_REQ: where the node ``name`` (the part before '@') listens."""
    return run(port_please2_steps(host, name, port, timeout, deadline))


def port_please2_steps(host, name, port=EPMD_PORT, timeout=5.0, deadline=None):
    """(steps) port_please2()"""
    deadline = deadline or Deadline(timeout)
    request = bytes((PORT_PLEASE2_REQ,)) + name.encode('utf-8')
    try:
        answer = yield from _request(host, port, request, deadline, 'epmd_port_please', _port2_resp_complete)
        return parse_port2_resp(answer, name)
    except NotRegistered as exc:
        raise NotRegistered('EPMD at %s:%s has no node named %r' % (host, port, name), exc.stage)
