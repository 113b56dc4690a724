# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Initiator side of the distribution handshake (erts "Distribution Protocol").

send_name -> recv_status -> recv_challenge -> [send_complement] ->
send_challenge_reply -> recv_challenge_ack. Version 6 sends 'N'; version 5
sends the old 'n' (accepted by OTP 23/24, refused by OTP 25 and later) and a
complement when the node answers with a new 'N' challenge.

The node proves it knows the cookie only in challenge_ack, so nothing is
``accepted`` before that digest has been checked; a clean close right after
our challenge_reply (no byte of an answer) is the node's verdict that our
cookie is wrong. As OTP's dist_util does, the name in the node's challenge
must be the node we asked for, checked before our digest is sent: an impostor
on the address learns nothing it could crack offline.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import hashlib
import hmac
import secrets
import struct
from collections import namedtuple

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import (
    AcceptsAnyCookie, Closed, NotAllowed, ProtocolError, Rejected, WrongNode)

DFLAG_PUBLISHED = 0x01
DFLAG_ATOM_CACHE = 0x02
DFLAG_EXTENDED_REFERENCES = 0x04
DFLAG_DIST_MONITOR = 0x08
DFLAG_FUN_TAGS = 0x10
DFLAG_DIST_MONITOR_NAME = 0x20
DFLAG_HIDDEN_ATOM_CACHE = 0x40
DFLAG_NEW_FUN_TAGS = 0x80
DFLAG_EXTENDED_PIDS_PORTS = 0x100
DFLAG_EXPORT_PTR_TAG = 0x200
DFLAG_BIT_BINARIES = 0x400
DFLAG_NEW_FLOATS = 0x800
DFLAG_UNICODE_IO = 0x1000
DFLAG_DIST_HDR_ATOM_CACHE = 0x2000
DFLAG_SMALL_ATOM_TAGS = 0x4000
DFLAG_UTF8_ATOMS = 0x10000
DFLAG_MAP_TAG = 0x20000
DFLAG_BIG_CREATION = 0x40000
DFLAG_SEND_SENDER = 0x80000
DFLAG_BIG_SEQTRACE_LABELS = 0x100000
DFLAG_EXIT_PAYLOAD = 0x400000
DFLAG_FRAGMENTS = 0x800000
DFLAG_HANDSHAKE_23 = 0x1000000
DFLAG_UNLINK_ID = 0x2000000
DFLAG_MANDATORY_25_DIGEST = 0x4000000
DFLAG_SPAWN = 1 << 32
DFLAG_NAME_ME = 1 << 33
DFLAG_V4_NC = 1 << 34
DFLAG_ALIAS = 1 << 35

# What OTP 25 requires of a peer (kernel/include/dist.hrl MANDATORY_DFLAGS_25).
MANDATORY_DFLAGS_25 = (
    DFLAG_EXTENDED_REFERENCES | DFLAG_FUN_TAGS | DFLAG_EXTENDED_PIDS_PORTS | DFLAG_NEW_FUN_TAGS
    | DFLAG_EXPORT_PTR_TAG | DFLAG_BIT_BINARIES | DFLAG_NEW_FLOATS | DFLAG_UTF8_ATOMS
    | DFLAG_MAP_TAG | DFLAG_BIG_CREATION | DFLAG_HANDSHAKE_23)

# Ours: the mandatory set (spelled out for OTP 23/24, digested for 25+), what
# OTP 26 added to it, and nothing that needs an atom cache or fragments.
# DFLAG_PUBLISHED is absent: a probe is a hidden node, so it never joins the
# cluster's full mesh and connect_all never spreads it.
DEFAULT_FLAGS = (
    MANDATORY_DFLAGS_25 | DFLAG_MANDATORY_25_DIGEST | DFLAG_UNLINK_ID | DFLAG_V4_NC
    | DFLAG_DIST_MONITOR | DFLAG_DIST_MONITOR_NAME | DFLAG_SMALL_ATOM_TAGS | DFLAG_UNICODE_IO
    | DFLAG_EXIT_PAYLOAD | DFLAG_BIG_SEQTRACE_LABELS | DFLAG_SEND_SENDER)

FLAG_NAMES = dict((value, name[6:]) for name, value in list(globals().items())
                  if name.startswith('DFLAG_') and isinstance(value, int))

STATUSES = ('ok', 'ok_simultaneous', 'nok', 'not_allowed', 'alive')

Peer = namedtuple('Peer', 'name flags creation version status')


@functools.lru_cache(maxsize=32)  # a cluster has few distinct flag sets
def flag_names(flags):
    """('EXTENDED_REFERENCES', ...) for the bits set in ``flags``."""
    names = []
    while flags:
        bit = flags & -flags  # lowest set bit
        names.append(FLAG_NAMES.get(bit, 'BIT%d' % (bit.bit_length() - 1)))
        flags ^= bit
    return tuple(names)


def gen_digest(challenge, cookie):
    """md5(Cookie ++ integer_to_list(Challenge)), as dist_util:gen_digest/2."""
    return hashlib.md5(cookie + str(challenge).encode('ascii')).digest()


def gen_challenge():
    return secrets.randbits(32)


def send_name(conn, name, flags, creation, version):
    """(steps)"""
    raw = name.encode('utf-8')
    if version == 6:
        yield from conn.send_frame(struct.pack('>cQIH', b'N', flags, creation, len(raw)) + raw)
    else:
        yield from conn.send_frame(struct.pack('>cHI', b'n', 5, flags & 0xFFFFFFFF) + raw)


def recv_status(conn):
    """(steps) The node's 's' status; returns it, or raises for the refusals."""
    try:
        frame = yield from conn.recv_frame()
    except Closed:
        raise ProtocolError('the node closed the connection before sending a status: it refused our '
                            'send_name (version, flags or name), which says nothing about the cookie',
                            'recv_status')
    if not frame.startswith(b's'):
        raise ProtocolError('expected a status message, got %r' % frame[:16], 'recv_status')
    status = frame[1:].decode('latin-1')
    if status == 'not_allowed':
        raise NotAllowed('the node does not allow our node name (net_kernel:allow/1)', 'recv_status')
    if status == 'nok':
        raise ProtocolError('status nok: the node is connecting to us at the same time', 'recv_status')
    if status == 'alive':
        # A node of our name is connected already. Never replace it: with probe_name set to a
        # member's name, 'true' would cut that member's own link.
        yield from conn.send_frame(b'sfalse')
        raise ProtocolError('status alive: a node named as our probe is connected already; the probe does not '
                            'replace its connection', 'recv_status')
    elif status not in STATUSES:
        raise ProtocolError('unknown status %r' % status[:40], 'recv_status')
    return status


def recv_challenge(conn):
    """(steps) 'N' (v6) or 'n' (v5) challenge: (name, flags, challenge, creation, version)."""
    frame = yield from conn.recv_frame()
    try:
        if frame[:1] == b'N':
            flags, challenge, creation, nlen = struct.unpack_from('>QIIH', frame, 1)
            name, version = frame[19:19 + nlen], 6
            if len(name) != nlen:
                raise struct.error('name shorter than its length')
        elif frame[:1] == b'n':
            dummy, flags, challenge = struct.unpack_from('>HII', frame, 1)
            name, creation, version = frame[11:], None, 5
        else:
            raise ProtocolError('expected a challenge, got %r' % frame[:16], 'recv_challenge')
        return name.decode('utf-8'), flags, challenge, creation, version
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError('malformed challenge: %s' % exc, 'recv_challenge')


def check_peer_flags(flags):
    if flags & DFLAG_MANDATORY_25_DIGEST:
        return
    missing = MANDATORY_DFLAGS_25 & ~flags
    if missing:
        raise ProtocolError('the node lacks mandatory flags %s' % ','.join(flag_names(missing)), 'recv_challenge')


def handshake(conn, name, cookie, version=6, flags=DEFAULT_FLAGS, creation=None, expect_name=None):
    """(steps) Run the initiator handshake on ``conn``; return the Peer once its ack checks out.

    ``cookie`` is bytes; ``expect_name`` the node we want ('name@host'), None when
    only an address is known. Raises WrongNode when another node answers,
    Rejected when the node closes after our challenge_reply, AcceptsAnyCookie
    when it acks a reply it could not check, ProtocolError when it misbehaves,
    and the connection's own errors (Timeout, TlsRejected, TlsRequired ...).
    """
    if creation is None:
        creation = secrets.randbits(32) or 1
    conn.stage = 'send_name'
    yield from send_name(conn, name, flags, creation, version)
    conn.stage = 'recv_status'
    status = yield from recv_status(conn)
    conn.stage = 'recv_challenge'
    peer_name, peer_flags, their_challenge, peer_creation, peer_version = yield from recv_challenge(conn)
    if expect_name is not None and peer_name != expect_name:
        raise WrongNode('asked for %s, but the node there is %s (OTP refuses such a connection)'
                        % (expect_name, peer_name[:300]), 'recv_challenge')
    check_peer_flags(peer_flags)
    if version == 5 and peer_version == 6:
        conn.stage = 'send_complement'
        yield from conn.send_frame(struct.pack('>cII', b'c', flags >> 32, creation))
    our_challenge = gen_challenge()
    conn.stage = 'send_challenge_reply'
    yield from conn.send_frame(struct.pack('>cI', b'r', our_challenge) + gen_digest(their_challenge, cookie))
    conn.stage = 'recv_challenge_ack'
    try:
        ack = yield from conn.recv_frame()
    except Closed:
        raise Rejected('the node closed the connection after our challenge_reply: it does not accept '
                       'our cookie', 'recv_challenge_ack')
    if len(ack) != 17 or ack[:1] != b'a':
        raise ProtocolError('expected challenge_ack, got %r' % ack[:20], 'recv_challenge_ack')
    if not hmac.compare_digest(ack[1:], gen_digest(our_challenge, cookie)):
        # A node that checked our digest against its cookie would have closed; one that knows
        # our cookie would ack it right. So it acked a reply it never checked.
        raise AcceptsAnyCookie('the node acknowledged our challenge_reply with a digest that is not of our '
                               'cookie: it accepts a cookie it cannot know (or is an impostor)',
                               'recv_challenge_ack')
    conn.stage = 'connected'
    conn.header = 4
    return Peer(peer_name, peer_flags, peer_creation, peer_version, status)
