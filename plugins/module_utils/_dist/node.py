# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connect to a node as a hidden node: EPMD lookup, TCP, TLS, handshake.

``connect_node`` returns a live NodeConnection (for rpc); ``probe`` reports
how far a connection gets as one outcome word and never raises.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import secrets
import threading
import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd, etf, probe_tag
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import (
    MESSAGE_FRAME_LIMIT, Connection, Deadline, open_tcp)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import (
    ACCEPTED, DistError, NoSuchHost, ProtocolError, Timeout)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import (
    DEFAULT_FLAGS, flag_names, handshake)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import run

PASS_THROUGH = 112
# Decoding costs up to ~100 bytes of Python objects per wire byte. Small frames (every
# fact a probe reads) decode at once; bigger ones two at a time in the whole process, so
# that many hostile nodes probed at once cannot add their worst cases up (threat model).
SMALL_FRAME = 16 * 1024
_BIG_DECODES = threading.BoundedSemaphore(2)


def split_node(node):
    """'name@host' -> ('name', 'host'); ValueError names what is wrong."""
    name, sep, host = str(node).partition('@')
    if not sep or not name or not host or '@' in host:
        raise ValueError("node %r is not of the form 'name@host'" % (node,))
    return name, host


class NodeConnection:
    """A completed handshake: send and receive distribution messages."""

    def __init__(self, conn, peer, our_node, creation, host, port):
        self.conn = conn
        self.peer = peer
        self.our_node = etf.Atom(our_node)
        self.creation = creation
        self.host = host
        self.port = port
        self.received = 0  # message bytes so far: a round trip's cap is counted on it
        self._serial = 0
        self._ref_base = None  # drawn at the first reference: a probe closed at once needs none

    @property
    def deadline(self):
        return self.conn.deadline

    @deadline.setter
    def deadline(self, value):
        self.conn.deadline = value

    def make_pid(self):
        self._serial += 1
        return etf.Pid(self.our_node, self._serial, 0, self.creation)

    def make_ref(self):
        # unique on this connection (replies are matched by it); one random draw per connection, not per call
        if self._ref_base is None:
            self._ref_base = (secrets.randbits(32), secrets.randbits(32))
        self._serial += 1
        return etf.Reference(self.our_node, self.creation, (self._serial,) + self._ref_base)

    def frame(self, control, message=None):
        """A pass-through message as it goes on the wire: 'p', the control tuple, then the payload, framed."""
        body = bytes((PASS_THROUGH,)) + etf.encode(control)
        if message is not None:
            body += etf.encode(message)
        return self.conn.frame(body)

    def send(self, control, message=None):
        """(steps)"""
        yield from self.conn.send(self.frame(control, message))

    def recv(self, budget=None):
        """(steps) The next (control, payload) from the node; ticks are answered on the way. ``budget``
        (an etf.Budget) may span several messages; by default each gets etf.MAX_OBJECTS."""
        while True:
            frame = yield from self.conn.recv_frame(MESSAGE_FRAME_LIMIT)
            self.received += len(frame)
            if not frame:
                yield from self.conn.send(b'\0\0\0\0')  # tick back, so the node keeps us
                continue
            if frame[0] != PASS_THROUGH:
                raise ProtocolError('message type %d: we asked for no atom cache' % frame[0], self.conn.stage)
            if len(frame) <= SMALL_FRAME:
                return self._decode(frame, budget)
            if not _BIG_DECODES.acquire(timeout=self.deadline.remaining(self.conn.stage)):
                raise Timeout('no turn to decode a %d-byte message within %gs' % (len(frame), self.deadline.timeout),
                              self.conn.stage)
            try:
                return self._decode(frame, budget)
            finally:
                _BIG_DECODES.release()

    def _decode(self, frame, budget):
        """The control term and the payload, under one object budget and the probe's deadline."""
        if budget is None:
            budget = etf.Budget(etf.MAX_OBJECTS, self.deadline)
        control, pos = etf.decode_from(frame, 1, budget=budget)
        payload = None
        if pos < len(frame):
            payload, pos = etf.decode_from(frame, pos, budget=budget)
        if pos != len(frame):
            raise ProtocolError('%d stray bytes after a message' % (len(frame) - pos), self.conn.stage)
        return control, payload

    def close(self):
        self.conn.close()


def connect_node(**kwargs):
    """connect_node_steps(), run on its own."""
    return run(connect_node_steps(**kwargs))


def connect_node_steps(node=None, host=None, port=None, cookie=b'', tls=None, server_hostname=None,
                       timeout=5.0, epmd_port=epmd.EPMD_PORT, version=6, flags=DEFAULT_FLAGS,
                       our_name=None, deadline=None, report=None, probe_for=None):
    """(steps) Handshake with ``node`` (through EPMD) or with ``host``:``port`` (EPMD-less).

    ``probe_for`` names the node a ``host``:``port`` probe is meant for, which the probe name's tag binds.

    ``tls`` is an ssl.SSLContext for TLS distribution. ``report`` (a dict), when
    given, is filled in as the steps succeed, so a caller learns how far a
    failed attempt got.
    """
    report = {} if report is None else report
    deadline = deadline or Deadline(timeout)
    name, node_host = split_node(node) if node else (None, None)
    host = host or node_host
    report.update(host=host, tls=tls is not None, version=version)
    if port is None:
        if name is None:
            raise ValueError('give a node name, or a host and a port')
        info = yield from epmd.port_please2_steps(host, name, epmd_port, deadline=deadline)
        port = info.port
        report['epmd'] = {'port': info.port, 'node_type': info.node_type,
                          'highest_version': info.highest_version, 'lowest_version': info.lowest_version}
    report['port'] = port
    conn = Connection((yield from open_tcp(host, port, deadline)), deadline)
    report['tcp_connected'] = True  # from here on the port is open, whatever follows
    try:
        if tls is not None:
            yield from conn.start_tls(tls, server_hostname or (host if tls.check_hostname else None))
            report['tls_info'] = conn.tls_info
        our_node = our_name or probe_tag.probe_name(node_host or host, str(node) if node else probe_for)
        creation = secrets.randbits(32) or 1
        peer = yield from handshake(conn, our_node, cookie, version=version, flags=flags, creation=creation,
                                    expect_name=str(node) if node else None)
    except BaseException:
        report['stage'] = conn.stage
        conn.close()
        raise
    report.update(stage='connected', peer_name=peer.name, peer_flags=list(flag_names(peer.flags)),
                  peer_creation=peer.creation, peer_version=peer.version, status=peer.status)
    return NodeConnection(conn, peer, our_node, creation, host, port)


def probe(**kwargs):
    """One connection attempt, closed at once: a report with an ``outcome``."""
    return run(probe_steps(**kwargs))


def probe_steps(**kwargs):
    """(steps) probe()"""
    report = {}
    started = time.monotonic()
    try:
        (yield from connect_node_steps(report=report, **kwargs)).close()
        report['outcome'] = ACCEPTED
        report['msg'] = 'handshake completed and the node proved it knows the cookie'
    except DistError as exc:
        report['outcome'] = exc.outcome
        report['msg'] = str(exc)
        if isinstance(exc, NoSuchHost):
            report['resolved'] = False  # nothing was tried
        report['stage'] = exc.stage or report.get('stage')
    report['elapsed_ms'] = round((time.monotonic() - started) * 1000.0, 3)
    return report
