# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Driving a probe's steps: one probe, blocking (run), or many in one event loop (Loop).

A probe is written once, as a generator of its steps. Where it would wait for a socket it
yields (socket, events, end) and is resumed with True when the socket is ready, False when
``end`` (time.monotonic()) came first; it then tries again or raises Timeout itself. So the
same code runs a single probe (run() waits on its one socket) and a whole fleet's probes in
one thread (Loop waits on all their sockets at once, with no thread per probe).

Before False, the socket is looked at once more without waiting: a probe whose driver came
late (a busy loop, a slow machine) must never take an answer that did come for none (an open
port for a filtered one, a WireGuard answer for silence).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
import itertools
import select
import time
from collections import deque

READ = select.POLLIN
WRITE = select.POLLOUT


def run(steps):
    """Drive one probe's steps to their end, waiting on its socket; returns what they return."""
    poller, polled, ready, returned = None, None, None, []
    while not returned:
        try:
            sock, events, end = steps.send(ready)
        except StopIteration as stop:
            returned.append(stop.value)
            break
        if sock is not polled:  # a socket of its own, or a new one (EPMD's, then the node's)
            poller = select.poll()
            poller.register(sock, events)
            polled = sock
        else:
            poller.modify(sock, events)
        ready = False
        while not ready:
            left = end - time.monotonic()
            ready = bool(poller.poll(max(1, int(left * 1000.0 + 0.999)) if left > 0 else 0))
            if left <= 0:
                break
    return returned[0]


def _ready_now(sock, events):
    """Whether ``sock`` is ready for ``events`` at this moment (no wait)."""
    poller = select.poll()
    poller.register(sock, events)
    return bool(poller.poll(0))


class _Task:
    __slots__ = ('steps', 'done', 'sock', 'fd', 'events', 'end', 'token')

    def __init__(self, steps, done):
        self.steps, self.done, self.sock, self.fd, self.events, self.end, self.token = steps, done, None, -1, 0, None, 0


class Loop:
    """Many probes' steps in one thread: at most ``limit`` in flight (one socket each), the rest queued
    in order. Each probe's own deadline bounds it, so a hostile node costs its probes their timeout
    and no other probe anything but the loop's share of the CPU. A probe's socket stays registered
    from one wait to the next (most waits are on the same socket)."""

    def __init__(self, limit):
        self.limit = max(1, limit)
        self._queue = deque()
        self._running = 0
        # (end, seq, task, token): a task's timer is pushed when its end changes (a probe's waits share one
        # deadline), so a peer that makes it wake often adds nothing here; an entry whose token is stale is skipped
        self._timers = []
        self._seq = itertools.count()
        self._tasks = {}  # fd -> the task waiting on it
        self._poller = select.epoll() if hasattr(select, 'epoll') else select.poll()
        self._ms = not hasattr(select, 'epoll')  # poll() takes milliseconds, epoll.poll() seconds

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
            if self._ms is False:
                self._poller.close()

    def _wait(self):
        timers = self._timers
        while timers and timers[0][2].token != timers[0][3]:
            heapq.heappop(timers)
        timeout = max(0.0, timers[0][0] - time.monotonic()) if timers else 1.0  # (every waiting probe has a timer)
        for fd, dummy in self._poller.poll(int(timeout * 1000.0 + 0.999) if self._ms else timeout):
            task = self._tasks.get(fd)
            if task is not None and task.fd == fd:
                self._step(task, True)
        now = time.monotonic()
        while timers and (timers[0][2].token != timers[0][3] or timers[0][0] <= now):
            end, dummy, task, token = heapq.heappop(timers)
            if task.token == token:
                task.end = None  # this timer is spent: a next wait, even until the same end, gets one of its own
                self._step(task, _ready_now(task.sock, task.events))

    def _step(self, task, ready):
        try:
            sock, events, end = task.steps.send(ready)
            self._watch(task, sock, events)  # a socket the poller refuses (closed, not a socket) ends this probe only
        except StopIteration as stop:
            self._finish(task, stop.value, None)
        except Exception as exc:  # pylint: disable=broad-except
            try:
                task.steps.close()  # its finally blocks run (sockets closed)
            except Exception:  # pylint: disable=broad-except  # a cleanup that fails too: the first error is told
                pass
            self._finish(task, None, exc)
        else:
            if end != task.end:
                task.end = end
                task.token += 1  # its earlier timer is stale from now on
                heapq.heappush(self._timers, (end, next(self._seq), task, task.token))

    def _watch(self, task, sock, events):
        if sock is task.sock and sock.fileno() == task.fd:  # (closed since: refused below, as a new one)
            if events != task.events:
                self._poller.modify(task.fd, events)
                task.events = events
            return
        self._forget(task)  # a new socket, even on the same descriptor (closed, then opened again)
        fd = sock.fileno()
        self._poller.register(fd, events)  # raises for a closed socket: the task holds none then
        task.sock, task.fd, task.events = sock, fd, events
        self._tasks[fd] = task

    def _forget(self, task):
        if task.sock is not None:
            if self._tasks.get(task.fd) is task:
                del self._tasks[task.fd]
            try:
                self._poller.unregister(task.fd)
            except (OSError, KeyError):  # closed already: the kernel dropped it
                pass
            task.sock, task.fd = None, -1

    def _finish(self, task, value, error):
        task.token = None  # every timer of it is stale
        self._forget(task)
        self._running -= 1
        task.done(value, error)
