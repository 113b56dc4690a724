# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Driving a probe's steps: one probe, blocking (run), or many in one event loop (Loop).

A probe is written once, as a generator of its steps. Where it would wait for a socket it
yields (socket, events, end) and is resumed with True when the socket is ready, False when
``end`` (time.monotonic()) came first; it then tries again or raises Timeout itself. So the
same code runs a single probe (run() waits on its one socket) and a whole fleet's probes in
one thread (Loop waits on all their sockets at once, with no thread per probe).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
import itertools
import select
import selectors
import time
from collections import deque

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE
_POLL = {READ: select.POLLIN, WRITE: select.POLLOUT}


def run(steps):
    """Drive one probe's steps to their end, waiting on its socket; returns what they return."""
    try:
        wait = next(steps)
        while True:
            sock, events, end = wait
            poller = select.poll()
            poller.register(sock, _POLL[events])
            ready = False
            while not ready:
                left = end - time.monotonic()
                if left <= 0:
                    break
                ready = bool(poller.poll(max(1, int(left * 1000.0 + 0.999))))
            wait = steps.send(ready)
    except StopIteration as stop:
        return stop.value


class _Task:
    __slots__ = ('steps', 'done', 'sock', 'token')

    def __init__(self, steps, done):
        self.steps, self.done, self.sock, self.token = steps, done, None, 0


class Loop:
    """Many probes' steps in one thread: at most ``limit`` in flight (one socket each), the rest queued
    in order. Each probe's own deadline bounds it, so a hostile node costs its probes their timeout
    and no other probe anything but the loop's share of the CPU."""

    def __init__(self, limit):
        self.limit = max(1, limit)
        self._queue = deque()
        self._running = 0
        self._timers = []  # (end, seq, task, token); an entry whose token is stale is skipped
        self._seq = itertools.count()
        self._selector = selectors.DefaultSelector()

    def spawn(self, start, done):
        """Queue a probe: ``start()`` makes its steps when a slot is free (its deadline starts then);
        ``done(value, error)`` gets what they return, or the Exception they raised."""
        self._queue.append((start, done))

    def run(self):
        try:
            while self._queue or self._running:
                while self._queue and self._running < self.limit:
                    start, done = self._queue.popleft()
                    self._running += 1
                    try:
                        steps = start()
                    except Exception as exc:  # a fault is the probe's result, never the loop's end
                        self._finish(_Task(None, done), None, exc)
                        continue
                    self._step(_Task(steps, done), None)
                if self._running:
                    self._wait()
        finally:
            self._selector.close()

    def _wait(self):
        timers = self._timers
        while timers and timers[0][2].token != timers[0][3]:
            heapq.heappop(timers)
        timeout = max(0.0, timers[0][0] - time.monotonic()) if timers else None
        for key, dummy in self._selector.select(timeout):
            self._step(key.data, True)
        now = time.monotonic()
        while timers and (timers[0][2].token != timers[0][3] or timers[0][0] <= now):
            end, dummy, task, token = heapq.heappop(timers)
            if task.token == token:
                self._step(task, False)

    def _step(self, task, ready):
        if task.sock is not None:
            self._selector.unregister(task.sock)
            task.sock = None
            task.token += 1  # its timer is stale from now on
        try:
            sock, events, end = task.steps.send(ready)
        except StopIteration as stop:
            self._finish(task, stop.value, None)
        except Exception as exc:  # pylint: disable=broad-except
            self._finish(task, None, exc)
        else:
            task.sock = sock
            self._selector.register(sock, events, task)
            heapq.heappush(self._timers, (end, next(self._seq), task, task.token))

    def _finish(self, task, value, error):
        self._running -= 1
        task.done(value, error)
