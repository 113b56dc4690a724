"""Peers that misbehave on purpose, on loopback: the cases no real node produces."""

import socket
import struct
import threading
import zlib

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import (
    DEFAULT_FLAGS, DFLAG_PUBLISHED, gen_digest)

LOOPBACK = '127.0.0.1'


class HostilePeer:
    """Listens on a free loopback port; ``behaviour(conn)`` runs for each client.

    Every accepted socket has a 10 s timeout and is closed by stop(), so a
    test can never leave a thread blocked forever.
    """

    def __init__(self, behaviour, accept=True):
        self.behaviour = behaviour
        self.server = socket.socket()
        self.server.bind((LOOPBACK, 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.clients = []
        self.errors = []
        self.thread = None
        if accept:
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()

    def _serve(self):
        try:
            client, dummy = self.server.accept()
        except OSError:
            return
        client.settimeout(10)
        self.clients.append(client)
        try:
            self.behaviour(client)
        except OSError as exc:
            self.errors.append(exc)

    def stop(self):
        for client in self.clients:
            client.close()
        self.server.close()
        if self.thread:
            self.thread.join(timeout=12)


def recv_frame(sock, header=2):
    size = struct.unpack('>H' if header == 2 else '>I', _exact(sock, header))[0]
    return _exact(sock, size)


def _exact(sock, count):
    data = b''
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError('client closed')
        data += chunk
    return data


def send_frame(sock, payload, header=2):
    sock.sendall(struct.pack('>H' if header == 2 else '>I', len(payload)) + payload)


def fake_handshake(sock, cookie, name=b'fake@127.0.0.1', know_cookie=True, challenge_kind=b'N', seen=None,
                   check_reply=True):
    """Play the accepting side: our challenge, then an ack (right or wrong digest). ``seen`` (a dict)
    gets the client's reply and our challenge; ``check_reply=False`` acks any cookie."""
    first = recv_frame(sock)
    send_frame(sock, b'sok')
    challenge = 0x12345678
    if challenge_kind == b'N':
        send_frame(sock, struct.pack('>cQIIH', b'N', DEFAULT_FLAGS | DFLAG_PUBLISHED, challenge, 7, len(name)) + name)
    else:
        send_frame(sock, struct.pack('>cHII', b'n', 5, (DEFAULT_FLAGS | DFLAG_PUBLISHED) & 0xFFFFFFFF, challenge) + name)
    complement = None
    if first[:1] == b'n' and challenge_kind == b'N':
        complement = recv_frame(sock)
    reply = recv_frame(sock)
    if seen is not None:
        seen.update(reply=reply, challenge=challenge)
    their_challenge = struct.unpack('>I', reply[1:5])[0]
    if check_reply and reply[5:] != gen_digest(challenge, cookie):
        sock.close()
        return first, complement, False
    digest = gen_digest(their_challenge, cookie if know_cookie else b'not-the-cookie')
    send_frame(sock, b'a' + digest)
    return first, complement, True


REG_SEND = 6
SEND = 2
APPLY = etf.Export(etf.Atom('erlang'), etf.Atom('apply'), 3)


def _pass_through(control, message=None):
    return b'p' + etf.encode(control) + (b'' if message is None else etf.encode(message))


class Raw:
    """A reply given as ETF bytes without the version byte; ``compress`` sends the whole
    {Ref, Reply} payload as one compressed term (tag 80), as term_to_binary(T, [compressed])."""

    def __init__(self, body, compress=False):
        self.body, self.compress = body, compress
        self._deflated = None

    def payload(self, ref):
        head = bytes((etf.SMALL_TUPLE_EXT, 2)) + etf.encode(ref)[1:]
        if not self.compress:
            return bytes((etf.VERSION,)) + head + self.body
        if self._deflated is None:  # the body once: a bomb's 64 MiB are not deflated per reply
            body = zlib.compressobj(9, zlib.DEFLATED, -15)
            self._deflated = body.compress(self.body) + body.flush()
        # a zlib stream: header, the head (full flush: the body's deflate needs no history), body, adler32
        first = zlib.compressobj(9, zlib.DEFLATED, -15)
        stream = (b'\x78\xda' + first.compress(head) + first.flush(zlib.Z_FULL_FLUSH) + self._deflated
                  + struct.pack('>I', zlib.adler32(self.body, zlib.adler32(head))))
        return bytes((etf.VERSION, etf.COMPRESSED)) + struct.pack('>I', len(head) + len(self.body)) + stream


def rex_calls(sock):
    """Each rex call {call, M, F, A, _} a connected client sends: (caller, ref, module, function, args); ticks
    and other messages are skipped."""
    while True:
        frame = recv_frame(sock, 4)
        if not frame:
            continue
        control, pos = etf.decode_from(frame, 1)
        if control[0] != REG_SEND or control[3] != 'rex':
            continue
        dummy, (caller, ref), (dummy, module, function, args, dummy) = etf.decode_from(frame, pos)[0]
        yield caller, ref, module, function, args


class HostileNode(HostilePeer):
    """A node that knows the cookie and answers under ``name``, then answers each rex call
    ``{call, M, F, A, _}`` with ``answer(module, function, args)``: a term (sent as the reply),
    a Raw (the reply's ETF body as given: terms no encoder makes), bytes (the whole frame), or
    None (no reply).
    ``before`` (frames, bytes each) goes out before the first reply: floods, io requests."""

    def __init__(self, cookie, answer, name='hostile@127.0.0.1', before=()):
        self.cookie, self.answer, self.name, self.before = cookie, answer, name.encode(), list(before)
        self.calls = []
        super(HostileNode, self).__init__(self._node)

    def _node(self, sock):
        fake_handshake(sock, self.cookie, name=self.name)
        for caller, ref, module, function, args in rex_calls(sock):
            self.calls.append((str(module), str(function), args))
            for raw in self.before:
                send_frame(sock, raw, 4)
            self.before = []
            reply = self._reply(str(module), str(function), args)
            if isinstance(reply, Raw):
                send_frame(sock, _pass_through((SEND, etf.Atom(''), caller)) + reply.payload(ref), 4)
            elif isinstance(reply, bytes):
                send_frame(sock, reply, 4)
            elif reply is not None:
                send_frame(sock, _pass_through((SEND, etf.Atom(''), caller), (ref, reply)), 4)

    def _reply(self, module, function, args):
        """``answer`` to one call; to lists:zipwith3(fun erlang:apply/3, Ms, Fs, As), the facts' one call, each
        call's answer in one list (a Raw if any is one), as OTP would: nothing if one is None, the whole frame if
        one is bytes, the first {badrpc, _} (a call that fails fails them all)."""
        if (module, function) != ('lists', 'zipwith3') or not args or args[0] != APPLY:
            return self.answer(module, function, args)
        answers = [self.answer(str(m), str(f), a) for m, f, a in zip(*args[1:])]
        for answer in answers:
            if answer is None or isinstance(answer, bytes) or (
                    isinstance(answer, tuple) and len(answer) == 2 and answer[0] == 'badrpc'):
                return answer
        raws = [answer for answer in answers if isinstance(answer, Raw)]
        if not raws:
            return answers
        body = b''.join(a.body if isinstance(a, Raw) else etf.encode(a)[1:] for a in answers)
        return Raw(bytes((etf.LIST_EXT,)) + struct.pack('>I', len(answers)) + body + bytes((etf.NIL_EXT,)),
                   compress=any(raw.compress for raw in raws))
