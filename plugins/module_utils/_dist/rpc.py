# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rpc:call/4 through the node's ``rex`` server, as a remote node would.

We send REG_SEND to ``rex`` with ``{'$gen_call', {Pid, Ref}, {call, M, F, A, Pid}}``
(what rpc:call/4 sends), then wait for ``{Ref, Reply}`` addressed to our pid.
Our pid doubles as the call's group leader, so io requests come back to us;
they are answered ``ok`` so that a function that prints does not hang.

The node decides what comes back. What a round trip keeps is bounded: at most
MAX_MESSAGES messages that answer none of the calls, ROUND_TRIP_BYTES of
frames and ROUND_TRIP_OBJECTS decoded objects in all (the replies are held
until the last one comes: a bound per message would let 22 replies add up),
all within the one deadline. Facts of a cluster of ~1,000 nodes fit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError, ProtocolError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom, Pid, Reference
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import run
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.shown import put_chars_text, short

SEND = 2
REG_SEND = 6
SEND_SENDER = 22
ALIAS_SEND = 33
_DELIVERIES = (SEND, REG_SEND, SEND_SENDER, ALIAS_SEND)
MAX_MESSAGES = 256  # besides the replies: io requests, links, stray sends
ROUND_TRIP_BYTES = 1024 * 1024
ROUND_TRIP_OBJECTS = 20000
_CALL, _GEN_CALL = Atom('call'), Atom('$gen_call')


class BadRpc(DistError):
    """The call reached the node but failed there: {badrpc, Reason}."""

    outcome = 'rpc_failed'

    def __init__(self, reason):
        super(BadRpc, self).__init__('badrpc: %s' % short(reason), 'rpc')
        self.reason = reason


def call(node_conn, module, function, args=(), timeout=5.0, deadline=None, output=None):
    """Return what Module:Function(Args...) returns on the node; BadRpc if it fails.

    ``deadline`` (shared by several calls) wins over ``timeout`` (this call alone);
    ``output(text)`` gets what the call prints (else it is dropped)."""
    return run(call_steps(node_conn, module, function, args, timeout, deadline, output))


def call_steps(node_conn, module, function, args=(), timeout=5.0, deadline=None, output=None):
    """(steps) call()"""
    result = (yield from calls_steps(node_conn, [(module, function, args)], timeout, deadline, output))[0]
    if isinstance(result, BadRpc):
        raise result
    return result


def calls(node_conn, requests, timeout=5.0, deadline=None, output=None):
    """calls_steps(), run on its own."""
    return run(calls_steps(node_conn, requests, timeout, deadline, output))


def calls_steps(node_conn, requests, timeout=5.0, deadline=None, output=None):
    """(steps) Several independent calls in one round trip: all are sent, then the replies are
    matched by reference (rex runs each call in a process of its own, so they may come
    back in any order). Returns the results in request order, a BadRpc where one failed."""
    me = node_conn.make_pid()
    pending = {}
    previous = node_conn.deadline
    node_conn.deadline = deadline or Deadline(timeout)
    node_conn.conn.stage = 'rpc ' + ', '.join('%s:%s/%s' % (m, f, getattr(a, 'length', len(a))) for m, f, a in requests[:3])
    try:
        pid = etf.encoded(me)
        rex, frames = etf.encoded((REG_SEND, pid, Atom(''), Atom('rex'))), []
        for index, (module, function, args) in enumerate(requests):
            ref = node_conn.make_ref()
            pending[ref] = index
            # args: a list, or etf.encoded once by a caller that sends the same calls to many nodes
            request = (_CALL, Atom(module), Atom(function), args if isinstance(args, etf.Encoded) else list(args), pid)
            frames.append(node_conn.frame(rex, (_GEN_CALL, (pid, ref), request)))
        yield from node_conn.conn.send(b''.join(frames))  # the whole round trip's requests in one write
        results = {}
        others, budget, first = 0, etf.Budget(ROUND_TRIP_OBJECTS, node_conn.deadline), node_conn.received
        while pending:
            control, payload = yield from node_conn.recv(budget)
            if node_conn.received - first > ROUND_TRIP_BYTES:
                raise ProtocolError('the node sent over %d bytes for %d calls' % (ROUND_TRIP_BYTES, len(requests)),
                                    node_conn.conn.stage)
            if not (isinstance(control, tuple) and control and control[0] in _DELIVERIES):
                others = _another(others, requests, node_conn)
                continue  # links, monitors, exits: nothing a probe waits for
            if (isinstance(payload, tuple) and len(payload) == 2 and isinstance(payload[0], Reference)
                    and payload[0] in pending):
                reply = payload[1]
                failed = isinstance(reply, tuple) and len(reply) == 2 and reply[0] == 'badrpc'
                results[pending.pop(payload[0])] = BadRpc(reply[1]) if failed else reply
                continue
            others = _another(others, requests, node_conn)
            yield from _answer_io(node_conn, payload, output)
        return [results[index] for index in range(len(requests))]
    finally:
        node_conn.deadline = previous


def _another(count, requests, node_conn):
    if count >= MAX_MESSAGES:
        raise ProtocolError('the node sent over %d messages that answer none of our %d calls'
                            % (MAX_MESSAGES, len(requests)), node_conn.conn.stage)
    return count + 1


def _answer_io(node_conn, payload, output=None):
    """(steps) The group-leader protocol, output only: put_chars gets 'ok' (its text goes to ``output``,
    rendered here: put_chars' M:F(A) is never applied); every other request, input included,
    {error, request}."""
    if isinstance(payload, tuple) and len(payload) == 4 and payload[0] == 'io_request':
        dummy, sender, reply_as, request = payload
        if isinstance(sender, Pid) and isinstance(reply_as, (Reference, Pid, int)):
            ok = _output(request)
            answer = Atom('ok') if ok else (Atom('error'), Atom('request'))
            yield from node_conn.send((SEND, Atom(''), sender), (Atom('io_reply'), reply_as, answer))
            if ok and output is not None:
                for single in (request[1] if request[0] == 'requests' else [request]):
                    output(put_chars_text(single))


def _put_chars(request):
    return isinstance(request, tuple) and len(request) > 1 and request[0] == 'put_chars'


def _output(request):
    """put_chars, or {requests, [put_chars, ...]} (one level, as io does)."""
    return _put_chars(request) or (
        isinstance(request, tuple) and len(request) == 2 and request[0] == 'requests'
        and isinstance(request[1], list) and 0 < len(request[1]) <= 64 and all(_put_chars(r) for r in request[1]))
