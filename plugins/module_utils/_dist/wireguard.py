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

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import resolve
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
    ICMP, 'answered' when anything answered, 'not tried (...)' when the address does not resolve."""
    return run(knock_steps(address, port, timeout))


def knock_steps(address, port, timeout):
    """(steps) knock()"""
    try:
        family, sockaddr = resolve(address, port)[0]
    except NoSuchHost as exc:
        return 'not tried (%s)' % exc, 'no address for %s' % address
    deadline = time.monotonic() + timeout
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        return 'not tried (%s)' % exc, 'no socket here for the address of %s' % address
    with sock:
        try:
            sock.connect(sockaddr)  # connected: an ICMP error comes back as this socket's error
            sock.send(initiation())
            if not (yield sock, READ, deadline):  # (the driver looks once more before it says no)
                return 'silent', 'no answer to a handshake initiation in %.1f s' % timeout
            answer = sock.recv(MAX_ANSWER)  # readable: a datagram, or the ICMP error (raised here)
            return 'answered', '%d bytes back to a handshake initiation from no peer' % len(answer)
        except ConnectionRefusedError:
            return 'refused', 'ICMP port unreachable: nothing listens on UDP %s' % port
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                return 'unreachable', str(exc)
            return 'error (%s)' % (errno.errorcode.get(exc.errno, exc.errno)), str(exc)
