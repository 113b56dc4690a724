# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Framed TCP/TLS connection with one deadline for everything.

Every method that waits is a generator of steps (loop.py): it yields where it would block, so
one probe can run on its own (loop.run) or beside a fleet's others in one event loop (loop.Loop).
A frame is a big-endian length then that many bytes: 2-byte lengths during a
plain-TCP handshake, 4-byte lengths on TLS and after the handshake. Every read
waits at most until the deadline, and a length is checked against a limit
before a single byte of the body is read, so a hostile peer can neither stall
a probe past its timeout nor make it allocate what it claims.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import os
import socket
import ssl
import struct
import threading
import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import READ, WRITE
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import (
    Closed, ConnectTimeout, NoSuchHost, ProtocolError, Refused, Timeout, TlsRejected, TlsRequired, Truncated,
    Unreachable)

HANDSHAKE_FRAME_LIMIT = 4096  # the largest handshake message is a challenge with a 1020-byte name
# The largest reply a probe reads: nodes() of a 5,000-node cluster is ~150 KiB. A frame is
# buffered whole, so this bounds what a peer can make each probe hold (docs/threat-model.md).
MESSAGE_FRAME_LIMIT = 256 * 1024

READ_AHEAD = 65536  # bytes a read asks for
MAX_ADDRESSES = 8  # of one host name, tried at once; a name with more is not tried (never read as closed)
_RESOLVED = {}  # host name -> [(family, address)], or its NoSuchHost, while names_resolved() lasts
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}
_RESET = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}


class Deadline:
    """A point in time every blocking call of one probe must finish by."""

    def __init__(self, timeout):
        self.timeout = float(timeout)
        self.end = time.monotonic() + self.timeout

    def remaining(self, stage):
        left = self.end - time.monotonic()
        if left <= 0:
            raise Timeout('no answer within %gs (at %s)' % (self.timeout, stage), stage)
        return left


def _looks_like_tls(header):
    """A TLS record starts with content type 21/22 and major version 3."""
    return len(header) >= 2 and header[0] in (0x15, 0x16) and header[1] == 0x03


def _literal_family(host):
    """AF_INET or AF_INET6 for an IP address literal (no resolver call needed); None for a name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return family
        except (OSError, ValueError, TypeError):
            continue
    return None


def open_tcp(host, port, deadline, stage='connect', refused=Refused, nodelay=True):
    """(steps) TCP connect, non-blocking; every socket failure becomes a DistError with an outcome.
    A host name's addresses (resolve()) are all tried at once: the first to accept wins; when none does,
    the first one's error. The connect gets the time that was left before the resolver ran."""
    left = max(0.0, deadline.end - time.monotonic())
    addresses = resolve(host, port, stage)
    if len(addresses) > MAX_ADDRESSES:  # never "closed" for an address that was not tried
        raise NoSuchHost('%s has %d addresses, over the %d a probe tries' % (host, len(addresses), MAX_ADDRESSES),
                         stage)
    end = max(deadline.end, time.monotonic() + left)
    tried = [_start_connect(family, address) for family, address in addresses]
    sock, codes, untried = None, [], []
    for candidate, code in tried:
        if candidate is None:  # no socket of that family here (IPv6 switched off): the next address
            untried.append(code)
            continue
        if sock is None and code == errno.EINPROGRESS:
            try:
                code = yield from _connected(candidate, end)
            except OSError as exc:
                code = exc.errno
        if sock is None and code == 0:
            sock = candidate
        else:
            candidate.close()
            codes.append(code)
    if sock is None and untried:  # never "closed" for an address that was not tried
        raise NoSuchHost('%d of the %d addresses of %s not tried here: %s' % (
            len(untried), len(tried), host, os.strerror(untried[0] or 0)), stage)
    if sock is None:
        _connect_failed(codes[0], host, port, deadline, stage, refused)
    if nodelay:  # as OTP does for distribution; a one-shot EPMD request has no use for it
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def resolve(host, port, stage='connect'):
    """[(family, address)] of ``host`` (an address, or a name: resolved ahead by names_resolved(), else now,
    blocking); NoSuchHost when it does not resolve: nothing was tried, never evidence that a port is closed."""
    family = _literal_family(host)
    if family is not None:  # an address: no getaddrinfo
        return [(family, (host, int(port)))]
    found = _RESOLVED.get(host) or _getaddrinfo(host, stage)
    if isinstance(found, NoSuchHost):
        raise found.again()
    return [(family, (address[0], int(port)) + tuple(address[2:])) for family, address in found]


def _getaddrinfo(host, stage):
    try:
        return [(info[0], info[4]) for info in socket.getaddrinfo(host, 0, 0, socket.SOCK_STREAM)]
    except socket.gaierror as exc:
        raise NoSuchHost('cannot resolve %s: %s' % (host, exc.strerror), stage)
    except UnicodeError as exc:
        raise NoSuchHost('cannot resolve %s: %s' % (host, exc), stage)


@contextlib.contextmanager
def names_resolved(hosts, timeout):
    """While the block runs, these host names are resolved already: all at once beforehand, in threads (the
    resolver blocks), so that no probe of an event loop waits on the resolver and holds up the others. A name
    that does not resolve, or not within ``timeout``, is NoSuchHost for its probes: not tried, never closed."""
    names = sorted({host for host in hosts if _literal_family(host) is None and host not in _RESOLVED})
    found, todo = {}, list(reversed(names))

    def resolver():  # a daemon thread: one stuck in the resolver never holds the process at its exit
        while True:
            try:
                name = todo.pop()
            except IndexError:
                return
            try:
                found[name] = _getaddrinfo(name, 'resolve')
            except NoSuchHost as exc:
                found[name] = exc
            except Exception as exc:  # pylint: disable=broad-except  # the resolver failed: not tried either
                found[name] = NoSuchHost('cannot resolve %s: %s' % (name, type(exc).__name__), 'resolve')
    threads = [threading.Thread(target=resolver, daemon=True) for dummy in range(min(16, len(names)))]
    until = time.monotonic() + timeout
    for index, thread in enumerate(threads):
        try:
            thread.start()
        except RuntimeError:  # no more threads: those started do the rest, or the rest is not tried
            del threads[index:]
            break
    for thread in threads:
        thread.join(max(0.0, until - time.monotonic()))
    del todo[:]  # a thread still in the resolver takes no further name
    resolved = dict((name, found.get(name) or NoSuchHost('cannot resolve %s within %gs' % (name, timeout), 'resolve'))
                    for name in names)
    _RESOLVED.update(resolved)
    try:
        yield
    finally:
        for name in resolved:
            _RESOLVED.pop(name, None)


def _start_connect(family, address):
    """A non-blocking socket and its connect begun: (socket, 0 / EINPROGRESS / the error), or (None, the error)
    when this host makes no socket of that family."""
    try:
        sock = socket.socket(family, socket.SOCK_STREAM | getattr(socket, 'SOCK_NONBLOCK', 0))
    except OSError as exc:
        return None, exc.errno
    if sock.gettimeout() != 0.0:  # no SOCK_NONBLOCK here: the system call after all
        sock.setblocking(False)
    try:
        return sock, sock.connect_ex(address)
    except OSError as exc:
        return sock, exc.errno


def _connected(sock, end):
    """(steps) Wait for a non-blocking connect until ``end``: its error code, or ETIMEDOUT. (Even past
    ``end`` the driver looks at the socket once before it says no: an open port is never filtered.)"""
    if (yield sock, WRITE, end):
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return errno.ETIMEDOUT


def _connect_failed(code, host, port, deadline, stage, refused):
    if code == errno.ETIMEDOUT:  # nothing accepted the connection: filtered, not open
        raise ConnectTimeout('no TCP answer from %s:%s within %gs' % (host, port, deadline.timeout), stage)
    if code == errno.ECONNREFUSED:
        raise refused('connection to %s:%s refused' % (host, port), stage)
    if code in _UNREACHABLE:
        raise Unreachable('%s:%s unreachable: %s' % (host, port, os.strerror(code)), stage)
    raise ProtocolError('connect to %s:%s failed: %s' % (host, port, os.strerror(code or 0)), stage)


class Connection:
    """A socket, its framing (2 or 4 bytes) and the probe's deadline."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.tls = False  # until start_tls()
        self.header = 2
        self.stage = 'connect'
        self.tls_info = None
        self._buf = bytearray()
        if sock.gettimeout() != 0.0:  # open_tcp's sockets are non-blocking already: no system call
            sock.setblocking(False)

    # -- TLS
    def start_tls(self, context, server_hostname=None):
        """(steps) The TLS handshake, non-blocking like everything else."""
        self.stage = 'tls'
        del self._buf[:]
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname, do_handshake_on_connect=False)
            while True:
                try:
                    self.sock.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    yield from self._wait(READ)
                except ssl.SSLWantWriteError:
                    yield from self._wait(WRITE)
        except ssl.SSLCertVerificationError as exc:
            raise TlsRejected('the node certificate failed our verification: %s' % exc.verify_message, 'tls')
        except ssl.SSLError as exc:
            raise self._tls_error(exc)
        except Timeout:
            raise Timeout('TLS handshake unanswered within %gs: is this a TLS node?' % self.deadline.timeout, 'tls')
        except OSError as exc:
            raise self._os_error(exc)
        self.tls = True
        self.header = 4
        cert = self.sock.getpeercert()
        self.tls_info = {
            'version': self.sock.version(),
            'cipher': self.sock.cipher()[0],
            'peer_subject': _dn(cert.get('subject', ())) if cert else None,
            'peer_issuer': _dn(cert.get('issuer', ())) if cert else None,
            'peer_not_after': cert.get('notAfter') if cert else None,
        }

    def _tls_error(self, exc):
        """Only a TLS alert from the node (or our own check of its certificate) is a TLS refusal;
        a close without one is not, or a node that is no TLS node at all would pass no_cert."""
        reason = getattr(exc, 'reason', None) or str(exc)
        if 'WRONG_VERSION_NUMBER' in reason or 'RECORD_LAYER' in reason or 'PACKET_LENGTH_TOO_LONG' in reason:
            return ProtocolError('the peer does not speak TLS (%s)' % reason, self.stage)
        if 'ALERT' in reason or isinstance(exc, ssl.SSLCertVerificationError):
            return TlsRejected('TLS refused by the node: %s' % reason, self.stage)
        if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            if self.stage == 'tls':
                return ProtocolError('the peer closed the connection in the TLS handshake without a TLS alert '
                                     '(%s): no TLS refusal' % reason, self.stage)
            return Closed('the peer closed the TLS connection (at %s)' % self.stage, self.stage)
        return ProtocolError('TLS failed: %s' % reason, self.stage)

    def _os_error(self, exc):
        if exc.errno in _RESET:  # not a close: 'rejected' is a clean close only
            return ProtocolError('connection reset by the peer (at %s)' % self.stage, self.stage)
        return ProtocolError('socket error: %s' % exc, self.stage)

    # -- raw I/O, non-blocking. A write is tried first (there is room, as a rule); a read waits first (the answer
    # is not there yet, as a rule: one system call saved), a TLS read unless OpenSSL holds decrypted bytes the
    # socket no longer shows. Socket and TLS failures become DistErrors naming the stage.
    def _wait(self, events):
        """(steps) Until the socket is ready for ``events``; Timeout once the deadline has passed."""
        if not (yield self.sock, events, self.deadline.end):
            self.deadline.remaining(self.stage)  # raises Timeout once the deadline has passed
            raise Timeout('no answer within %gs (at %s)' % (self.deadline.timeout, self.stage), self.stage)

    def _io_error(self, exc):
        """The DistError of a socket or TLS failure."""
        return self._tls_error(exc) if isinstance(exc, ssl.SSLError) else self._os_error(exc)

    def send(self, data):
        """(steps) All of ``data``."""
        view = memoryview(data)
        while view:
            self.deadline.remaining(self.stage)
            events = None
            try:
                view = view[self.sock.send(view):]
            except (BlockingIOError, ssl.SSLWantWriteError):
                events = WRITE
            except ssl.SSLWantReadError:  # a TLS renegotiation or key update
                events = READ
            except OSError as exc:  # ssl.SSLError is one
                raise self._io_error(exc)
            if events is not None:
                yield from self._wait(events)

    def _recv_chunk(self):
        """(steps) Up to READ_AHEAD bytes; b'' when the peer has closed."""
        # a TLS read waits first too, unless OpenSSL holds decrypted bytes already (without read-ahead it
        # holds no others): a peer that keeps the socket full would otherwise never let the event loop turn
        events = None if self.tls and self.sock.pending() else READ
        while True:
            if events is not None:
                yield from self._wait(events)
            self.deadline.remaining(self.stage)  # on every read, so a dribbling peer cannot extend it
            try:
                return self.sock.recv(READ_AHEAD)
            except (BlockingIOError, ssl.SSLWantReadError):
                events = READ
            except ssl.SSLWantWriteError:
                events = WRITE
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b''  # a TLS close reported as an error: a close, as on plain TCP (where it came decides)
            except OSError as exc:
                raise self._io_error(exc)

    def recv_to_close(self, limit, complete=None):
        """(steps) What the peer sends until it closes (EPMD answers this way), or until
        ``complete(data)`` says the answer is whole, which saves waiting for the close."""
        data = bytes(self._buf)
        del self._buf[:]
        while not (complete and complete(data)):
            chunk = yield from self._recv_chunk()
            if not chunk:
                break
            data += chunk
            if len(data) > limit:
                raise ProtocolError('answer larger than %d bytes (at %s)' % (limit, self.stage), self.stage)
        return data

    # -- frames
    def frame(self, payload):
        return struct.pack('>H' if self.header == 2 else '>I', len(payload)) + payload

    def send_frame(self, payload):
        """(steps)"""
        yield from self.send(self.frame(payload))

    def recv_frame(self, limit=HANDSHAKE_FRAME_LIMIT):
        """(steps) One frame. The length is checked against ``limit`` before a byte of the body is waited
        for. Reads ahead (READ_AHEAD), so a status and a challenge sent back to back cost one system call.
        Closed only for a close between frames; a close inside one is Truncated, so that "the node closed
        after our message" is never read into a half-sent answer."""
        buf, header, size = self._buf, self.header, None
        while True:
            if size is None and len(buf) >= header:
                if not self.tls and _looks_like_tls(buf):
                    raise TlsRequired('the node answered with a TLS record: it runs TLS distribution', self.stage)
                size = struct.unpack_from('>H' if header == 2 else '>I', buf)[0]
                if size > limit:
                    raise ProtocolError('frame of %d bytes exceeds the %d-byte limit (at %s)'
                                        % (size, limit, self.stage), self.stage)
            if size is not None and len(buf) >= header + size:
                frame = bytes(buf[header:header + size])
                del buf[:header + size]
                return frame
            chunk = yield from self._recv_chunk()
            if chunk:
                buf += chunk
            elif size is not None:
                raise Truncated('the peer closed the connection inside a %d-byte frame (at %s)' % (size, self.stage),
                                self.stage)
            elif buf:
                raise Truncated('the peer closed the connection inside a frame header (at %s)' % self.stage,
                                self.stage)
            else:
                raise Closed('the peer closed the connection (at %s)' % self.stage, self.stage)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _dn(rdns):
    return ','.join('%s=%s' % pair for rdn in rdns for pair in rdn)


def tls_context(certfile=None, keyfile=None, cafile=None, verify=True, check_hostname=False):
    """Client context for TLS distribution: our certificate, the CA we trust.

    OTP clients check the node certificate against the node's host name only
    when configured to; ``check_hostname`` follows that choice.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = bool(check_hostname and verify)
    if verify:
        context.verify_mode = ssl.CERT_REQUIRED
        if cafile:
            context.load_verify_locations(cafile=cafile)
        else:
            context.load_default_certs()
    else:
        context.verify_mode = ssl.CERT_NONE
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    return context
