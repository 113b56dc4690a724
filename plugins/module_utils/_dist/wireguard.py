# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An outsider's knock on a WireGuard port: a handshake initiation without any peer's key.

WireGuard answers only a message whose MAC1 is keyed from its own public key and whose static key
is a peer's; anything else is dropped without a word. So from an outsider's seat the port must stay
silent: any answer is a service that talks to strangers (not WireGuard, or a proxy in front of it).
An ICMP "port unreachable" says nothing listens there (the port is closed, which exposes nothing).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import socket
import struct
import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import MAX_ADDRESSES, resolve
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import NoSuchHost
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import READ, run

INITIATION = 1
INITIATION_SIZE = 148  # type, reserved, sender, ephemeral 32, static 32+16, timestamp 12+16, mac1 16, mac2 16
MAX_ANSWER = 2048

# what an outsider may see: nothing, or that nothing listens
QUIET = ('silent', 'refused', 'unreachable')


def initiation():
    """A message shaped as WireGuard's handshake initiation, from no one: random keys, a MAC1 that cannot match."""
    return struct.pack('<B3xI', INITIATION, struct.unpack('<I', os.urandom(4))[0]) + os.urandom(INITIATION_SIZE - 8)


def knock(address, port, timeout):
    """(observed, detail): 'silent' when nothing came back within the timeout, 'refused' or 'unreachable' from
    ICMP, 'answered' when anything answered, 'not tried (...)' when the address does not resolve. A name is
    knocked at every address it has, all at once: the loudest answer is the name's."""
    return run(knock_steps(address, port, timeout))


def knock_steps(address, port, timeout):
    """(steps) knock()"""
    try:
        addresses = resolve(address, port)
    except NoSuchHost as exc:
        return 'not tried (%s)' % exc, 'no address for %s' % address
    if len(addresses) > MAX_ADDRESSES:  # never "silent" for an address that was not knocked
        return ('not tried (%d addresses)' % len(addresses),
                '%s has %d addresses, over the %d a knock tries' % (address, len(addresses), MAX_ADDRESSES))
    deadline = time.monotonic() + timeout
    results, sockets = [], []
    try:
        for family, sockaddr in addresses:  # every initiation sent before any wait: each gets the whole timeout
            try:
                sock = socket.socket(family, socket.SOCK_DGRAM)
            except OSError as exc:
                results.append(('not tried (%s)' % exc, 'no socket here for this address', sockaddr[0]))
                continue
            sockets.append((sock, sockaddr))
            sock.setblocking(False)  # a datagram poll saw may be dropped before recv (a bad checksum): never block
            try:
                sock.connect(sockaddr)  # connected: an ICMP error comes back as this socket's error
                sock.send(initiation())
            except OSError as exc:
                results.append(_failed(exc, port) + (sockaddr[0],))
                sock.close()
        for sock, sockaddr in sockets:
            if sock.fileno() >= 0:
                results.append((yield from _answer(sock, deadline, timeout, port)) + (sockaddr[0],))
    finally:
        for sock, dummy in sockets:
            sock.close()
    results.sort(key=lambda result: _LOUDNESS.get(result[0], 0))
    detail = results[0][1] if len(results) == 1 else '; '.join('%s %s: %s' % (where, observed, detail)
                                                               for observed, detail, where in results)
    return results[0][0], detail


# the order a name's results are reported in: first what is not quiet (an answer, an error, an address not knocked:
# each a violation), then the quiet ones
_LOUDNESS = {'silent': 1, 'unreachable': 2, 'refused': 3}


def _answer(sock, deadline, timeout, port):
    """(steps) What came back on one knocked address by the deadline."""
    while True:
        if not (yield sock, READ, deadline):  # (the driver looks once more before it says no)
            return 'silent', 'no answer to a handshake initiation in %.1f s' % timeout
        try:
            answer = sock.recv(MAX_ANSWER)  # readable: a datagram, or the ICMP error (raised here)
        except BlockingIOError:
            continue  # nothing after all: wait on, until the deadline
        except OSError as exc:
            return _failed(exc, port)
        return 'answered', '%d bytes back to a handshake initiation from no peer' % len(answer)


def _failed(exc, port):
    if isinstance(exc, ConnectionRefusedError):
        return 'refused', 'ICMP port unreachable: nothing listens on UDP %s' % port
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return 'unreachable', str(exc)
    return 'error (%s)' % (errno.errorcode.get(exc.errno, exc.errno)), str(exc)
