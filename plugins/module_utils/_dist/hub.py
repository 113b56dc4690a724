# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-way hub: reach every tenant without being an Erlang node.

An Erlang hub is one cluster with all its tenants: distribution is symmetric,
so code on any tenant can call the hub back over its link, read the other
tenants' cookies there and run anything on them. This hub is this package's
own client instead: it connects out as a hidden node, calls through ``rex``,
and executes nothing a tenant sends (rpc.py ignores every message but the
replies it waits for and answers output requests only; it never listens).

Tenants come from a JSON file: a list of {name, host, port, epmd_port,
cookie_file, tls, certfile, keyfile, cafile}; each cookie is read from its own
file when that tenant is reached, and goes nowhere else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
import re

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import (
    Deadline, names_resolved, tls_context)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import CookieError, read_cookie_file
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import Loop, run
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import connect_node_steps, split_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.shown import short

# what a tenant's outcome means to the operator of a hub
STATES = {'accepted': 'up', 'refused': 'down', 'timeout': 'down', 'unreachable': 'down', 'no_epmd': 'down',
          'not_registered': 'down', 'rejected': 'refused', 'not_allowed': 'refused', 'tls_rejected': 'tls_rejected',
          'tls_required': 'tls_required'}
_CONTROL = re.compile(u'[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]')
MAX_OUTPUT = 64 * 1024  # characters of a tenant's output printed per evaluation


class HubError(Exception):
    """Bad configuration or a tenant that is not in it: the message says what to fix."""


def terminal_text(text):
    """A tenant's text made safe for the operator's terminal: no escape sequences, no bidi tricks."""
    return _CONTROL.sub(u'\ufffd', text)


class Tenant:
    """One tenant as the hub reaches it."""

    KEYS = ('name', 'host', 'port', 'epmd_port', 'cookie_file', 'tls', 'certfile', 'keyfile', 'cafile')

    def __init__(self, entry):
        unknown = set(entry) - set(self.KEYS)
        if unknown:
            raise HubError('tenant %s: unknown keys %s' % (entry.get('name'), ', '.join(sorted(unknown))))
        try:
            self.short, node_host = split_node(entry.get('name', ''))
        except ValueError as exc:
            raise HubError('tenant name: %s' % exc)
        self.name = entry['name']
        self.host = entry.get('host') or node_host
        self.port = entry.get('port')
        self.epmd_port = entry.get('epmd_port') or 4369
        self.cookie_file = entry.get('cookie_file')
        if not self.cookie_file:
            raise HubError('tenant %s: set cookie_file, the file with its own cookie' % self.name)
        self.tls = entry.get('tls') is True
        self.tls_files = (entry.get('certfile'), entry.get('keyfile'), entry.get('cafile'))

    def connect(self, deadline):
        """A hidden connection to the tenant, bound to its name, with its own cookie and certificate."""
        return run(self.connect_steps(deadline))

    def connect_steps(self, deadline):
        """(steps) connect()"""
        try:
            cookie, dummy = read_cookie_file(self.cookie_file)
        except CookieError as exc:
            raise HubError('tenant %s: %s' % (self.name, exc))
        tls = tls_context(*self.tls_files) if self.tls else None
        return (yield from connect_node_steps(node=self.name, host=self.host, port=self.port,
                                              epmd_port=self.epmd_port, cookie=cookie, tls=tls, deadline=deadline))


def load(path):
    """The tenants of a hub, from its JSON file."""
    try:
        with open(path) as handle:
            entries = json.load(handle)
    except (OSError, ValueError) as exc:
        raise HubError('cannot read the tenants file %s: %s' % (path, exc))
    if not isinstance(entries, list):
        raise HubError('%s must hold a list of tenants' % path)
    return [Tenant(entry) for entry in entries]


def find(tenants, wanted):
    """A tenant by node name, or by its name part when that is unique."""
    matches = [t for t in tenants if wanted in (t.name, t.short, t.host)]
    if len(matches) != 1:
        problem = 'no such tenant' if not matches else 'ambiguous'
        raise HubError('%s: %s; tenants: %s' % (wanted, problem, ', '.join(t.name for t in tenants)))
    return matches[0]


def status(tenants, timeout, concurrency=64):
    """Every tenant's state (up, down, refused, tls_rejected, ...) with the reason, all within one timeout:
    every tenant's handshake in one event loop (loop.Loop), ``concurrency`` at a time."""
    def one(tenant):
        conn = None
        try:
            conn = yield from tenant.connect_steps(Deadline(timeout))
            return {'tenant': tenant.name, 'state': 'up', 'reason': 'handshake with its own cookie'}
        except (DistError, HubError) as exc:
            outcome = getattr(exc, 'outcome', 'error')
            return {'tenant': tenant.name, 'state': STATES.get(outcome, outcome), 'reason': short(str(exc), 200)}
        finally:
            if conn is not None:
                conn.close()

    states, faults = [None] * len(tenants), []

    def done(index):
        def record(value, error):
            states[index] = value
            if error is not None:
                faults.append(error)
        return record
    loop = Loop(concurrency)
    for index, tenant in enumerate(tenants):
        loop.spawn(functools.partial(one, tenant), done(index))
    with names_resolved([tenant.host for tenant in tenants], timeout):  # no tenant's resolver holds up the loop
        loop.run()
    if faults:  # a fault of ours (no DistError): raised, as it would be without the loop
        raise faults[0]
    return states


class Session:
    """Evaluations on one tenant over one connection; bindings kept between them, as a shell does."""

    def __init__(self, tenant, timeout):
        self.tenant, self.timeout = tenant, timeout
        self.conn = tenant.connect(Deadline(timeout))
        self.bindings = []  # erl_eval's bindings, kept on our side and sent back
        self.output = []

    def close(self):
        self.conn.close()

    def _call(self, module, function, args):
        return rpc.call(self.conn, module, function, args, timeout=self.timeout, output=self._print)

    def _print(self, text):
        if sum(len(chunk) for chunk in self.output) < MAX_OUTPUT:
            self.output.append(terminal_text(text))

    def evaluate(self, text):
        """(printed output, the value as the tenant prints it with ~tp): the tenant scans, parses
        and evaluates; a syntax error or an exception there is reported, never raised."""
        del self.output[:]
        try:
            scanned = self._call('erl_scan', 'string', [text])
            if not (isinstance(scanned, tuple) and scanned[0] == 'ok'):
                return ''.join(self.output), 'syntax error: %s' % short(scanned, 300)
            parsed = self._call('erl_parse', 'parse_exprs', [scanned[1]])
            if not (isinstance(parsed, tuple) and parsed[0] == 'ok'):
                return ''.join(self.output), 'syntax error: %s' % short(parsed, 300)
            value = self._call('erl_eval', 'exprs', [parsed[1], self.bindings])
            if not (isinstance(value, tuple) and len(value) == 3 and value[0] == 'value'):
                return ''.join(self.output), 'unexpected answer: %s' % short(value, 300)
            self.bindings = value[2]
            printed = self._call('io_lib', 'format', ['~tp', [value[1]]])
        except rpc.BadRpc as exc:
            return ''.join(self.output), 'exception: %s' % short(exc.reason, 2000)
        return ''.join(self.output), terminal_text(_flat_text(printed))

    def apply(self, module, function, args_text):
        """rpc: Module:Function(Args...), the arguments given as one Erlang list, read by the tenant."""
        try:
            scanned = self._call('erl_scan', 'string', [args_text.rstrip().rstrip('.') + '.'])
            term = self._call('erl_parse', 'parse_term', [scanned[1]]) if scanned[0] == 'ok' else scanned
            if not (isinstance(term, tuple) and term[0] == 'ok' and isinstance(term[1], list)):
                return '', 'arguments must be one Erlang list, e.g. [1, <<"x">>]: %s' % short(term, 300)
            value = self._call(module, function, term[1])
            printed = self._call('io_lib', 'format', ['~tp', [value]])
        except rpc.BadRpc as exc:
            return ''.join(self.output), 'exception: %s' % short(exc.reason, 2000)
        return ''.join(self.output), terminal_text(_flat_text(printed))


def _flat_text(chars):
    """io_lib's deep character list as text (bounded by the decoder's budget already)."""
    out, stack = [], [chars]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 0x110000:
            out.append(chr(item))
        elif isinstance(item, bytes):
            out.append(item.decode('utf-8', 'replace'))
    return ''.join(out)
