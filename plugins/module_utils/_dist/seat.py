# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes from a local account's seat: a forked child that drops to the account's uid and gid (no
supplementary groups) and runs the probes there, so that the host's firewall judges its sockets by
that owner (nftables ``meta skuid``), exactly as it judges the account's own tools.

The parent stays root (its temporary files, its result) and reads the child's JSON answer through a
pipe, bounded in bytes and time; a child that dies, hangs or answers out of shape is an error, never
a result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pwd
import select
import signal
import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError

MAX_ANSWER = 16 * 1024 * 1024  # bytes of JSON from the child


class SeatError(DistError):
    outcome = 'error'


def account(name):
    """(uid, gid) of a local account; SeatError when there is none or it is root."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SeatError('there is no local account %r on this host' % name)
    if entry.pw_uid == 0:
        raise SeatError('%r is root: the local seat is an unprivileged account' % name)
    return entry.pw_uid, entry.pw_gid


def _child(write_fd, uid, gid, work):
    code = 1
    try:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SeatError('could not drop to uid %d' % uid)
        answer = json.dumps({'result': work()}).encode('utf-8')
        code = 0
    except Exception as exc:  # reported to the parent, which turns it into an error
        answer = json.dumps({'error': '%s: %s' % (type(exc).__name__, exc)}).encode('utf-8')
    view = memoryview(answer)
    while view:
        view = view[os.write(write_fd, view):]
    os._exit(code)


def run_as(name, work, timeout):
    """work() in a child running as the account ``name``; its JSON-able result, or SeatError."""
    if os.geteuid() != 0:
        raise SeatError('probing as %r needs root (the module drops to that account); run the task with become' % name)
    uid, gid = account(name)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(write_fd, uid, gid, work)
    os.close(write_fd)
    chunks, size, deadline = [], 0, time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                raise SeatError('the probes as %r did not end within %.1f s' % (name, timeout))
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER:
                raise SeatError('the probes as %r answered more than %d bytes' % (name, MAX_ANSWER))
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        try:
            os.kill(pid, signal.SIGKILL)  # ours, by PID; a no-op once it has exited
        except OSError:
            pass
        os.waitpid(pid, 0)
    try:
        answer = json.loads(b''.join(chunks).decode('utf-8'))
    except ValueError:
        raise SeatError('the probes as %r ended without an answer' % name)
    if not isinstance(answer, dict) or ('result' not in answer and 'error' not in answer):
        raise SeatError('the probes as %r answered out of shape' % name)
    if 'error' in answer:
        raise SeatError('the probes as %r failed: %s' % (name, answer['error']))
    return answer['result']
