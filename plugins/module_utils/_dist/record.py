# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a node's record (the journal of its unit, or a file) into a knocks.Record, bounded in lines, bytes
and time: the record holds what strangers sent, and a record too long to read is said so, never cut quietly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import select
import signal
import subprocess
import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.knocks import MAX_LINE

MAX_BYTES = 64 * 1024 * 1024


def _ends(line):
    """A long line's start and end, which is all the record reads of it (bounded however long it grows)."""
    return line if len(line) <= 2 * MAX_LINE else line[:MAX_LINE] + b' ... ' + line[-MAX_LINE:]


def _lines(stream, record, max_lines, deadline):
    """Feed record the stream's lines, bounded in lines, bytes and time; the reason it stopped early, or None."""
    pending, size = b'', 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            return 'the read took longer than its timeout'
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            if pending:
                record.add(pending.decode('utf-8', 'replace'))
            return None
        size += len(chunk)
        if size > MAX_BYTES:
            return 'more than %d bytes' % MAX_BYTES
        lines = (pending + chunk).split(b'\n')
        pending = _ends(lines.pop())
        for line in lines:
            if record.lines >= max_lines:
                return 'more than %d lines' % max_lines
            record.add(_ends(line).decode('utf-8', 'replace'))


def read_file(path, record, max_lines, timeout):
    """A file the node writes its output to, into record (record.incomplete says when not whole)."""
    with open(path, 'rb') as stream:
        record.incomplete = _lines(stream, record, max_lines, time.monotonic() + timeout)


def read_journal(unit, window, record, max_lines, timeout):
    """The last window seconds of unit's journal, into record, streamed (Ansible's run_command would read all of
    it into memory first, with no time limit)."""
    deadline = time.monotonic() + timeout
    argv = ['journalctl', '--unit=' + unit, '--since=-%ds' % window, '--output=cat', '--no-pager', '--quiet']
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        record.incomplete = _lines(process.stdout, record, max_lines, deadline)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)  # ours, by PID
        process.wait()
        process.stdout.close()
    if process.returncode and not record.incomplete:
        record.incomplete = 'journalctl failed (exit %d)' % process.returncode
    elif not record.lines and not record.incomplete and not _ever_logged(unit, deadline):
        # an empty window is quiet only if the journal records this unit at all (systemd logs its starts there)
        record.incomplete = 'the journal holds nothing of unit %s: a wrong unit, or no journal' % unit


def _ever_logged(unit, deadline):
    left = max(deadline - time.monotonic(), 1.0)
    try:
        out = subprocess.run(['journalctl', '--unit=' + unit, '--lines=1', '--output=cat', '--no-pager', '--quiet'],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=left,
                             check=False).stdout
    except subprocess.TimeoutExpired:
        return False
    return bool(out.strip())
