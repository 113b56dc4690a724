"""Fuzz the ETF decoder, every parser that reads a peer's bytes, the rpc layer and the facts.

Random and mutated inputs (bit flips, byte swaps, truncation, splices, huge
length fields) go to: etf.decode, the EPMD answer parsers, the handshake
(through a real socket pair, framing included) and post-handshake message
reading. A node that knows the cookie then answers, through NodeConnection
over an in-memory wire: rpc.calls() gets mutated streams of replies (right and
wrong refs, unhashable terms where a ref goes, badrpc, io requests, floods,
links and exits, ticks), and facts.node_facts() gets random well-formed terms
and mutations of what a hardened OTP 25 node answers, whose facts then go
through verify's findings and membership.

Each may raise only the client's own DistError; any other exception, an input
that takes over WATCHDOG seconds, memory growth, an rpc result other than the
model's, a result that is not bounded JSON, or an ``ok`` finding that the
oracle below (OTP 25's own rules, written apart from facts.py) does not
justify ("false ok") is a finding.

    python tests/fuzz/fuzz_dist.py --count 1000000 --seed 1
    python tests/fuzz/fuzz_dist.py --replay target_facts:123456   # one input, with its traceback
"""

# The oracle matches exact types on purpose: a Pid is a tuple subclass, an Atom a str, a bool an int.
# pylint: disable=unidiomatic-typecheck

import argparse
import collections
import ipaddress
import json
import random
import resource
import signal
import socket
import struct
import sys
import time
import traceback
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd, etf, facts, rpc, verify  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import (  # noqa: E402
    MESSAGE_FRAME_LIMIT, Connection, Deadline)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import (  # noqa: E402
    Closed, DistError, EncodeError, ProtocolError, Timeout)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import (  # noqa: E402
    DEFAULT_FLAGS, DFLAG_PUBLISHED, handshake)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import run as run_steps  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import NodeConnection  # noqa: E402
from tests.fuzz.terms import IPS, Terms, encode  # noqa: E402

WATCHDOG = 5.0
MESSAGE_LIMIT = 4096  # characters of an error message: it reaches module results (probe's msg) as it is
A = etf.Atom


class Hang(Exception):
    pass


def _seed_terms():
    node = A('n@h')
    return [
        0, 255, -1, 1 << 70, -(1 << 2100), 1.5, A('ok'), True, (), (1, A('a')), [], [1, 2, 3],
        list(range(300)), etf.ImproperList([1], 2), b'', b'abc', etf.BitBinary(b'\xe0', 3),
        {A('a'): [1, {b'k': 2.0}]}, etf.MapPairs([([1], 2)]), etf.Pid(node, 1, 2, 3),
        etf.Port(node, 1 << 40, 3), etf.Reference(node, 3, (1, 2, 3)), etf.Export(A('m'), A('f'), 2),
        (A('$gen_call'), (etf.Pid(node, 1, 0, 1), etf.Reference(node, 1, (1, 2, 3))),
         (A('call'), A('erlang'), A('node'), [], etf.Pid(node, 1, 0, 1))),
        tuple(range(260)), '\u011d' * 3, [A('x' * 255)], 1 << 16384,
    ]


def corpus():
    terms = _seed_terms()
    encoded = [etf.encode(t) for t in terms] + [etf.encode(terms, compressed=6)]
    # old and rarer tags, as OTP still reads them
    node = b's\x03n@h'
    encoded += [b'\x83g' + node + b'\0\0\0\1\0\0\0\2\3', b'\x83f' + node + b'\0\0\0\7\1',
                b'\x83e' + node + b'\0\0\0\5\1', b'\x83r\0\1' + node + b'\1\0\0\0\1',
                b'\x83c' + b'1.50000000000000000000e+00'.ljust(31, b'\0'), b'\x83d\0\2ok',
                b'\x83p' + struct.pack('>I', 34) + b'\1' + b'\0' * 16 + b'\0\0\0\0\0\0\0\0s\1m' + b'a\0a\0' + b'X']
    return encoded


def challenge_frame(name=b'peer@h', flags=DEFAULT_FLAGS | DFLAG_PUBLISHED):
    return struct.pack('>cQIIH', b'N', flags, 0x1234, 7, len(name)) + name


def framed(payload, header=2):
    return struct.pack('>H' if header == 2 else '>I', len(payload) & (0xFFFF if header == 2 else 0xFFFFFFFF)) \
        + payload


def handshake_transcripts():
    return [
        framed(b'sok') + framed(challenge_frame()) + framed(b'a' + b'\0' * 16),
        framed(b'salive') + framed(challenge_frame()),
        framed(b'snot_allowed'), framed(b'snok'),
        framed(b'sok') + framed(struct.pack('>cHII', b'n', 5, DEFAULT_FLAGS & 0xFFFFFFFF, 99) + b'old@h'),
        b'\x15\x03\x03\x00\x02\x02\x28',
    ]


def message_streams():
    ctl = etf.encode((2, A(''), etf.Pid(A('n@h'), 1, 0, 1)))
    msg = etf.encode((etf.Reference(A('n@h'), 1, (1, 2, 3)), A('ok')))
    return [framed(b'', 4) + framed(b'p' + ctl + msg, 4), framed(b'p' + ctl, 4), framed(b'\x83' + ctl, 4)]


def epmd_answers():
    return [b'\0\0\x11\x11name a at port 1\nname b at port 2\n',
            b'w\0' + struct.pack('>HBBHHH', 4000, 77, 0, 6, 5, 1) + b'a' + b'\0\0',
            b'w\1']


def mutate(rng, data, pool):
    data = bytearray(data)
    for dummy in range(rng.randint(1, 4)):
        choice = rng.random()
        if not data or choice < 0.1:
            data += bytes(rng.randrange(256) for dummy in range(rng.randint(1, 8)))
        elif choice < 0.35:
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        elif choice < 0.5:
            data[rng.randrange(len(data))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif choice < 0.6:
            del data[rng.randrange(len(data)):]
        elif choice < 0.7:
            pos = rng.randrange(len(data))
            del data[pos:pos + rng.randint(1, 8)]
        elif choice < 0.8:  # a length field gone huge
            pos = rng.randrange(len(data))
            data[pos:pos + 4] = rng.choice((b'\xff\xff\xff\xff', b'\x7f\xff\xff\xff', b'\x00\x10\x00\x00'))
        elif choice < 0.9:
            other = rng.choice(pool)
            cut = rng.randrange(len(other) + 1)
            data[rng.randrange(len(data)):] = other[cut:]
        else:
            pos = rng.randrange(len(data))
            data[pos:pos] = data[pos:pos + rng.randint(1, 16)]
    return bytes(data)


def random_bytes(rng):
    size = rng.choice((1, 2, 5, 16, 64, 300))
    prefix = rng.choice((b'', b'\x83', b'\x83P'))
    return prefix + bytes(rng.randrange(256) for dummy in range(size))


# -- targets: each returns normally or raises DistError


def target_decode(data):
    etf.decode(data)


def target_epmd(data):
    epmd.parse_names(data)
    epmd.parse_port2_resp(data)


def _feed(data):
    ours, theirs = socket.socketpair()
    theirs.sendall(data)
    theirs.shutdown(socket.SHUT_WR)
    return ours, theirs


def target_handshake(data):
    ours, theirs = _feed(data)
    conn = Connection(ours, Deadline(1.0))
    try:
        run_steps(handshake(conn, 'fuzz@h', b'cookie', version=random.choice((5, 6))))
    finally:
        ours.close()
        theirs.close()


def target_messages(data):
    ours, theirs = _feed(data)
    conn = Connection(ours, Deadline(1.0))
    conn.header = 4
    node = NodeConnection(conn, None, 'fuzz@h', 1, 'h', 1)
    try:
        for dummy in range(3):
            run_steps(node.recv())
    finally:
        ours.close()
        theirs.close()


# -- the rpc layer and the facts: a node that knows the cookie, after the handshake.
# NodeConnection runs as it is (recv, ticks, decoding under its deadline) over a Wire: an
# in-memory Connection that reads the node's frames from a script and records what we send.

NAME = 'hostile@127.0.0.1'
OTHER = 'b@127.0.0.1'
OURS = 'beamsec_probe_fuzz@127.0.0.1'
PORT = 40000
SEND, REG_SEND, SEND_SENDER, ALIAS_SEND = rpc.SEND, rpc.REG_SEND, rpc.SEND_SENDER, rpc.ALIAS_SEND
# control messages that deliver nothing: link, exit, unlink, group_leader, exit2, monitors, spawn, unlink_id
NOT_DELIVERIES = (1, 3, 4, 7, 8, 19, 20, 21, 29, 31, 35, 36, 0, 5, 99, -2, 255, 1 << 40)
STATE_LIMIT = 64      # elements of a server's state that facts.py documents it reads
JSON_LIMIT = 64 * 1024
COVERAGE = collections.Counter()  # facts read, rpc results checked, ok findings the oracle justified


FALSE_OK = 'false ok'
FALSE_OK_AMBIGUOUS = 'false ok (ambiguous state)'


class Defect(Exception):
    """What the run exists to find: ``kind`` names it ('false ok', 'rpc model', 'bound', ...)."""

    def __init__(self, kind, message):
        super(Defect, self).__init__('%s: %s' % (kind, message))
        self.kind = kind


class Peer:
    def __init__(self, name):
        self.name = name


class Wire:
    """What NodeConnection needs of a Connection, in memory: the node's frames come from
    ``script(wire)`` (called at the first read, when every request has been sent; b'' is a
    tick), the end of the script is a clean close, and every read checks the deadline."""

    def __init__(self, deadline, script, decode_sent=True):
        self.deadline = deadline
        self.decode_sent = decode_sent  # else only counted (the facts: their calls are checked by ref)
        self.stage = 'connected'
        self.header = 4
        self.tls = False
        self.script = script
        self.frames = None
        self.sent = []      # (control, payload) we sent, decoded
        self.ticks = 0
        self.read = 0       # frames read, ticks included
        self.ticks_read = 0

    def send_frame(self, body):
        if body[:1] != b'p':
            raise Defect('wire', 'a frame that is not a pass-through message: %r' % body[:20])
        if not self.decode_sent:
            self.sent.append(None)
            return
        control, pos = etf.decode_from(body, 1)
        payload = None
        if pos < len(body):
            payload, pos = etf.decode_from(body, pos)
        if pos != len(body):
            raise Defect('wire', 'stray bytes after a message we sent')
        self.sent.append((control, payload))

    def frame(self, body):
        return struct.pack('>I', len(body)) + body

    def send(self, data):
        """(steps: none, the wire is in memory) A tick, or whole frames (several in one write: a round trip's
        requests)."""
        yield from ()
        if data == b'\0\0\0\0':
            self.ticks += 1
            return
        data = bytes(data)
        while data:
            size = struct.unpack('>I', data[:4])[0] if len(data) >= 4 else -1
            if size <= 0 or len(data) < 4 + size:
                raise Defect('wire', 'raw bytes sent after the handshake that are not whole frames: %r' % data[:20])
            self.send_frame(data[4:4 + size])
            data = data[4 + size:]

    def recv_frame(self, limit):
        """(steps: none)"""
        yield from ()
        self.deadline.remaining(self.stage)
        if self.frames is None:
            self.frames = iter(self.script(self))
        frame = next(self.frames, None)
        if frame is None:
            raise Closed('the peer closed the connection (at %s)' % self.stage, self.stage)
        self.read += 1
        self.ticks_read += not frame
        if len(frame) > limit:
            raise ProtocolError('frame of %d bytes exceeds the %d-byte limit' % (len(frame), limit), self.stage)
        return frame

    def close(self):
        pass


class Recording(NodeConnection):
    """NodeConnection as it is, keeping the pids and refs it makes (in the order of the calls)."""

    def __init__(self, *args):
        super(Recording, self).__init__(*args)
        self.pids, self.refs = [], []

    def make_pid(self):
        self.pids.append(super(Recording, self).make_pid())
        return self.pids[-1]

    def make_ref(self):
        self.refs.append(super(Recording, self).make_ref())
        return self.refs[-1]


def node_connection(wire):
    return Recording(wire, Peer(NAME), OURS, 7, '127.0.0.1', PORT)


def _same(one, other):
    """Structural equality of decoded terms: types too, floats bit for bit (NaN is itself)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, float):
        return struct.pack('>d', one) == struct.pack('>d', other)
    if isinstance(one, dict):
        return len(one) == len(other) and all(
            _same(a, c) and _same(b, d) for (a, b), (c, d) in zip(one.items(), other.items()))
    if isinstance(one, (tuple, list)):
        return len(one) == len(other) and all(_same(a, b) for a, b in zip(one, other))
    return one == other


def _frame(control, payload=None, raws=None, compress=False):
    body = b'p' + encode(control, raws or {})
    if payload is None:
        return body
    data = encode(payload, raws or {})
    if compress:
        data = bytes((etf.VERSION, etf.COMPRESSED)) + struct.pack('>I', len(data) - 1) + zlib.compress(data[1:], 6)
    return body + data


def _decoded(frame):
    """(control, payload or None) of a pass-through frame."""
    control, pos = etf.decode_from(frame, 1)
    return control, (etf.decode_from(frame, pos)[0] if pos < len(frame) else None)


def _payload_of(frame):
    """The payload a frame carries, decoded as the client decodes it (the model's view)."""
    pos = etf.decode_from(frame, 1)[1]
    return etf.decode_from(frame, pos)[0]


def _sent_request(sent):
    """(me, ref, module, function, args) of a rex call we sent; a Defect if it is anything else."""
    control, payload = sent
    try:
        dummy, (me, ref), (call, module, function, args, leader) = payload
        good = (control == (REG_SEND, me, '', 'rex') and payload[0] == '$gen_call' and call == 'call'
                and leader == me and isinstance(ref, etf.Reference) and isinstance(me, etf.Pid))
    except (TypeError, ValueError):
        good = False
    if not good:
        raise Defect('rpc request', 'we sent %r' % (sent,))
    return me, ref, str(module), str(function), list(args)


def _args(args):
    """A call's arguments as terms (facts encodes its own once: etf.Encoded)."""
    return etf.decode(bytes((etf.VERSION,)) + args) if isinstance(args, etf.Encoded) else list(args)


def _as_sent(module, function, args):
    """A call as the node reads it (strings become charlists)."""
    return etf.decode(etf.encode((etf.Atom(module), etf.Atom(function), _args(args))))


def _asked(calls, expected):
    """The calls we sent are the ``expected`` ones (_as_sent), in order."""
    return len(calls) == len(expected) and all(
        _same((etf.Atom(m), etf.Atom(f), a), request) for (dummy, dummy, m, f, a), request in zip(calls, expected))


class Stream:
    """The node's side of a round trip: replies by ref, and noise of every kind. ``plan`` holds
    (frame, intent); intents are ('reply', index), ('tick',), ('noise',), ('io', sender, reply_as),
    ('garbage',) (a mutated frame: the model cannot tell), ('bad_type',) and ('too_big',)."""

    def __init__(self, rng, gen):
        self.rng, self.gen = rng, gen
        self.plan = []

    def delivery(self, me, ref):
        rng, gen = self.rng, self.gen
        kind = rng.random()
        if kind < 0.7:
            return (SEND, etf.Atom(''), me)
        if kind < 0.8:
            return (REG_SEND, gen.pid(), etf.Atom(''), etf.Atom('rex'))
        if kind < 0.9:
            return (SEND_SENDER, gen.pid(), me if rng.random() < 0.8 else gen.pid())
        return (ALIAS_SEND, gen.pid(), gen.ref())

    def reply(self, index, me, ref, value):
        compress = self.rng.random() < 0.05
        try:
            frame = _frame(self.delivery(me, ref), (ref, value), self.gen.raws, compress)
        except EncodeError:  # deeper than our encoder goes: the raw piece instead
            frame = _frame(self.delivery(me, ref), (ref, self.gen.raw('too deep')), self.gen.raws, compress)
        self.plan.append((frame, ('reply', index)))
        return frame

    def wrong_ref(self, ref):
        rng = self.rng
        node, creation, ids = ref
        kind = rng.randrange(7)
        if kind == 0 and ids:
            ids = list(ids)
            ids[rng.randrange(len(ids))] ^= 1 << rng.randrange(32)
            return etf.Reference(node, creation, tuple(ids))
        if kind == 1:
            return etf.Reference(etf.Atom('other@10.0.0.9'), creation, ids)
        if kind == 2:
            return etf.Reference(node, creation ^ 1, ids)
        if kind == 3:
            return etf.Reference(node, creation, ids[:1])
        if kind == 4:
            return tuple(ref)  # the same fields, as a plain tuple
        if kind == 5:
            return list(ids)
        return self.gen.ref()

    def unhashable(self, ref):
        gen = self.gen
        return self.rng.choice(([ref], {etf.Atom('ref'): ref}, etf.MapPairs([([1], ref)]), etf.ImproperList([ref], 1),
                                (ref, []), [], {}, etf.BitBinary(b'\xe0', 3), (etf.Atom('k'), {1: [ref]}), gen.big()))

    def io_request(self):
        """An io request: ('io', sender, reply_as) when the client should answer it, else ('noise',)."""
        rng, gen = self.rng, self.gen
        good_sender = rng.random() < 0.7
        sender = gen.pid() if good_sender else rng.choice((etf.Atom('user'), gen.ref(), [gen.pid()], 7))
        kind = rng.randrange(9)
        reply_as = (gen.ref(), gen.pid(), 0, 2 ** 16384, -5, True, (gen.ref(),), [1], b'r')[kind]
        good = good_sender and kind < 6
        request = rng.choice(((etf.Atom('put_chars'), etf.Atom('unicode'), 'hello'), (etf.Atom('get_line'), ''),
                              gen.term(2)))
        payload = (etf.Atom('io_request'), sender, reply_as, request)
        frame = _frame((SEND, etf.Atom(''), gen.pid()), payload, gen.raws)
        return frame, (('io', sender, reply_as, _io_answer(request)) if good else ('noise',))

    def noise(self, me, refs):
        """One message that answers none of our calls (or a tick)."""
        rng, gen = self.rng, self.gen
        ref = rng.choice(refs) if refs else gen.ref()
        kind = rng.randrange(12)
        if kind == 0:
            return _frame(self.delivery(me, ref), (self.wrong_ref(ref), gen.term(2)), gen.raws), ('noise',)
        if kind == 1:
            return _frame(self.delivery(me, ref), (self.unhashable(ref), gen.term(2)), gen.raws), ('noise',)
        if kind == 2:  # our ref, but not delivered: a link, an exit, a monitor
            control = (rng.choice(NOT_DELIVERIES), gen.pid(), me) + tuple(
                gen.term(2) for dummy in range(rng.randrange(3)))
            return _frame(control, (ref, gen.term(2)), gen.raws), ('noise',)
        if kind == 3:  # our ref, in the wrong shape
            payload = rng.choice(((ref,), (ref, gen.term(2), 1), [ref, gen.term(2)], {ref: 1}, ref, (ref, ref, ref)))
            return _frame(self.delivery(me, ref), payload, gen.raws), ('noise',)
        if kind in (4, 5):
            return self.io_request()
        if kind == 6:  # a link or an exit, no payload
            control = (rng.choice((1, 3, 4, 8, 19, 20, 21)), gen.pid(), me, gen.term(2))[:rng.randint(1, 4)]
            return _frame(control), ('noise',)
        if kind == 7:  # a control that is no tuple, or an empty one
            control = rng.choice((etf.Atom('send'), 2, [2, etf.Atom(''), me], (), b'\x02', gen.pid(), gen.ref()))
            return _frame(control, gen.term(2) if rng.random() < 0.5 else None, gen.raws), ('noise',)
        if kind == 8:  # any term, delivered
            return _frame(self.delivery(me, ref), gen.term(2), gen.raws), ('noise',)
        if kind == 9:  # a badrpc for a call we did not make
            return _frame(self.delivery(me, ref), (self.wrong_ref(ref), (etf.Atom('badrpc'), gen.term(2))),
                          gen.raws), ('noise',)
        if kind == 10:  # a delivery with a control of the wrong size
            control = (rng.choice((SEND, REG_SEND, SEND_SENDER, ALIAS_SEND)),) + (me,) * rng.choice((0, 1, 4))
            return _frame(control, gen.term(2), gen.raws), ('noise',)
        return b'', ('tick',)

    def oddity(self, me, refs):
        """A frame the model cannot follow (mutated bytes), or one that must end the round trip."""
        rng = self.rng
        base = self.noise(me, refs)[0] or _frame((SEND, etf.Atom(''), me), (rng.choice(refs), 1))
        kind = rng.randrange(4)
        if kind == 0:
            return bytes((rng.choice((0x83, 0x71, 0, 0xFF)),)) + base[1:], ('bad_type',)
        if kind == 1:
            return b'p' + b'\0' * MESSAGE_FRAME_LIMIT, ('too_big',)
        return mutate(rng, base, [base]), ('garbage',)

    def add(self, frame_and_intent):
        self.plan.append(frame_and_intent)

    def scatter(self, me, refs, count, oddities=0):
        """``count`` noise frames (a flood repeats the first 24) and ``oddities`` odd ones at random places."""
        made = [self.noise(me, refs) for dummy in range(min(count, 24))]
        for index in range(count):
            self.plan.insert(self.rng.randint(0, len(self.plan)), made[index] if index < len(made)
                             else self.rng.choice(made))
        for dummy in range(oddities):
            self.plan.insert(self.rng.randint(0, len(self.plan)), self.oddity(me, refs))

    def frames(self, tail, me, refs):
        for frame, dummy in self.plan:
            yield frame
        if tail == 'ticks':
            while True:
                yield b''
        if tail == 'noise':  # links, forever
            link = b'p' + etf.encode((1, me, me))
            while True:
                yield link


def model(plan, count, tail, raws):
    """What rpc.calls must do with these frames, from the intents alone: ('return', replies by index,
    io requests answered) or ('error', class, words of its message, io requests answered), or None
    when a mutated frame makes it unknowable. A frame the decoder may refuse (raw pieces, compressed,
    or long enough to nest MAX_DEPTH deep) is decoded here to tell; the others are what our encoder
    made of small terms."""
    pending, others, replies, answered, decodes = set(range(count)), 0, {}, [], set()
    if not pending:
        return ('return', replies, answered)
    for frame, intent in plan:
        kind = intent[0]
        if kind == 'tick':
            continue
        if kind == 'garbage':
            return None
        if kind not in ('bad_type', 'too_big') and id(frame) not in decodes and (
                len(frame) >= 2 * etf.MAX_DEPTH or b'\x83P' in frame or any(raw in frame for raw in raws.values())):
            try:  # a raw piece the decoder refuses ends the round trip there
                _decoded(frame)
            except DistError as exc:
                return ('error', type(exc), '', answered)
            decodes.add(id(frame))  # a flood repeats its frames
        if kind == 'bad_type':
            return ('error', ProtocolError, 'we asked for no atom cache', answered)
        if kind == 'too_big':
            return ('error', ProtocolError, 'exceeds', answered)
        if kind == 'reply' and intent[1] in pending:
            replies[intent[1]] = _payload_of(frame)[1]
            pending.discard(intent[1])
            if not pending:
                return ('return', replies, answered)
            continue
        if others >= rpc.MAX_MESSAGES:
            return ('error', ProtocolError, 'answer none of our', answered)
        others += 1
        if kind == 'io':
            answered.append(intent[1:])
    if tail == 'ticks':
        return ('error', Timeout, '', answered)
    if tail == 'noise':
        return ('error', ProtocolError, 'answer none of our', answered)
    return ('error', Closed, 'closed', answered)


RPC_CALLS = list(facts._CALLS) + [('erlang', 'whereis', (etf.Atom('rex'),)), ('io', 'format', ('~p~n', [1])),
                                  ('lists', 'seq', (1, 3)), ('m' * 255, 'f', ())]
RPC_SENT = [_as_sent(*call) for call in RPC_CALLS]


class RpcCase:
    """A round trip of 0 to 21 calls and a node that answers them in its own way."""

    def __init__(self, seed):
        rng = self.rng = random.Random(seed)
        self.gen = Terms(rng)
        self.stream = Stream(rng, self.gen)
        count = rng.choice((0, 1, 1, 2, 3, 4, 6, 8, 21))
        chosen = [rng.randrange(len(RPC_CALLS)) for dummy in range(count)]
        self.requests = [RPC_CALLS[index] for index in chosen]
        self.as_sent = [RPC_SENT[index] for index in chosen]
        self.tail = rng.choices(('close', 'ticks', 'noise'), (0.85, 0.05, 0.1))[0]
        self.timeout = 0.01 if self.tail == 'ticks' else 3.0  # ticks forever: only the deadline ends them
        roll = rng.random()
        self.noise = 0 if roll < 0.35 else rng.randint(1, 10) if roll < 0.93 else rng.choice(
            (rng.randint(240, 270), rng.randint(250, 600), 1000))
        self.oddities = 1 if rng.random() < 0.04 else 0

    def script(self, wire):
        rng, gen, stream = self.rng, self.gen, self.stream
        calls = [_sent_request(sent) for sent in wire.sent]
        if not _asked(calls, self.as_sent):
            raise Defect('rpc request', 'we sent %r for %r' % (calls, self.requests))
        me = calls[0][0] if calls else etf.Pid(etf.Atom(OURS), 1, 0, 7)
        refs = [ref for dummy, ref, dummy, dummy, dummy in calls]
        for index in rng.sample(range(len(calls)), len(calls)):
            fate = rng.random()
            if fate < 0.06:
                continue  # never answered
            if fate < 0.16:
                stream.reply(index, me, refs[index], (etf.Atom('badrpc'), gen.term(1)))
            else:
                stream.reply(index, me, refs[index], gen.term())
            if fate > 0.93:  # answered twice: the first one counts
                stream.reply(index, me, refs[index], gen.term(1))
        stream.scatter(me, refs, self.noise, self.oddities)
        return stream.frames(self.tail, me, refs)


def target_rpc(seed):
    case = RpcCase(seed)
    original = Deadline(60.0)
    wire = Wire(original, case.script)
    conn = node_connection(wire)
    started = time.monotonic()
    results, error = None, None
    try:
        results = rpc.calls(conn, case.requests, deadline=Deadline(case.timeout))
    except DistError as exc:
        error = exc
    elapsed = time.monotonic() - started
    count = len(case.requests)
    if wire.deadline is not original:
        raise Defect('rpc', 'the connection kept the round trip deadline')
    if elapsed > case.timeout + 1.0:
        raise Defect('bound: rpc', 'the round trip took %.2fs with a %.2fs deadline' % (elapsed, case.timeout))
    if wire.read - wire.ticks_read > count + rpc.MAX_MESSAGES + 1:
        raise Defect('bound: rpc', 'read %d messages for %d calls' % (wire.read - wire.ticks_read, count))
    if wire.ticks != wire.ticks_read:
        raise Defect('rpc', '%d ticks read, %d answered' % (wire.ticks_read, wire.ticks))
    extra = wire.sent[count:]
    if len(extra) > rpc.MAX_MESSAGES + 1:
        raise Defect('bound: rpc', 'sent %d messages besides our calls' % len(extra))
    for control, payload in extra:
        if not (isinstance(control, tuple) and len(control) == 3 and control[0] == SEND
                and isinstance(control[2], etf.Pid) and isinstance(payload, tuple) and len(payload) == 3
                and payload[0] == 'io_reply' and payload[2] in ('ok', (etf.Atom('error'), etf.Atom('request')))):
            raise Defect('rpc', 'we sent %s %s' % (_brief(control), _brief(payload)))
    expected = model(case.stream.plan, count, case.tail, case.gen.raws)
    if error is not None and ('more than %d objects' % rpc.ROUND_TRIP_OBJECTS in str(error)
                              or 'over %d bytes' % rpc.ROUND_TRIP_BYTES in str(error)):
        expected = None  # the round trip's own budget, which the model does not count: a bound, kept
        COVERAGE['rpc round-trip budget'] += 1
    if expected is not None and not (isinstance(error, Timeout) and elapsed >= case.timeout):
        _check_model(expected, results, error, extra, count)  # (the deadline may cut any round trip short)
        COVERAGE['rpc model checked'] += 1
    if error is not None:
        raise error
    COVERAGE['rpc returned'] += 1


def _check_model(expected, results, error, extra, count):
    answered = expected[-1]
    if expected[0] == 'return':
        if error is not None:
            raise Defect('rpc model', 'expected the replies, got %s: %s' % (type(error).__name__, error))
        if len(results) != count:
            raise Defect('rpc model', '%d results for %d calls' % (len(results), count))
        for index, result in enumerate(results):
            value = expected[1][index]
            if isinstance(value, tuple) and len(value) == 2 and type(value[0]) is etf.Atom and value[0] == 'badrpc':
                good = isinstance(result, rpc.BadRpc) and _same(result.reason, value[1])
            else:
                good = _same(result, value)
            if not good:
                raise Defect('rpc model', 'call %d returned %s, not %s' % (index, _brief(result), _brief(value)))
    else:
        dummy, kind, words, answered = expected
        if error is None or type(error) is not kind or words not in str(error):
            raise Defect('rpc model', 'expected %s (%s), got %s: %s' % (
                kind.__name__, words, type(error).__name__ if error else 'results', error or _brief(results)))
    if len(extra) != len(answered) or not all(
            _same(control[2], sender) and _same(payload[1], reply_as) and _same(payload[2], answer)
            for (control, payload), (sender, reply_as, answer) in zip(extra, answered)):
        raise Defect('rpc model', 'io replies %s, expected %s' % (_brief(extra), _brief(answered)))


def _io_answer(request):
    """The group leader's answer, by the io protocol: output (put_chars, or requests of put_chars only)
    is 'ok'; any other request, input or options, {error, request}."""
    def put_chars(one):
        return isinstance(one, tuple) and len(one) > 1 and type(one[0]) is etf.Atom and one[0] == 'put_chars'
    output = put_chars(request) or (
        isinstance(request, tuple) and len(request) == 2 and type(request[0]) is etf.Atom
        and request[0] == 'requests' and isinstance(request[1], list) and 0 < len(request[1]) <= 64
        and all(put_chars(one) for one in request[1]))
    return etf.Atom('ok') if output else (etf.Atom('error'), etf.Atom('request'))


def _brief(value):
    return verify.short(value, 200)


# -- the facts: what a hardened OTP 25 node answers, and what else it might


def key_of(call):
    module, function, args = call
    args = _args(args)
    return '%s:%s' % (module, function) + (':%s' % args[-1] if args else '')


KEYS = [key_of(call) for call in facts._CALLS]


def ip_tuple(address):
    ip = ipaddress.ip_address(address)
    return tuple(ip.packed) if ip.version == 4 else struct.unpack('>8H', ip.packed)


class Profile:
    """The node as it runs when all is well, and what the verifier is told to expect of it."""

    def __init__(self, rng):
        self.tls = rng.random() < 0.3
        self.address = rng.choices(('127.0.0.1', '::1', '10.0.0.5'), (0.8, 0.1, 0.1))[0]
        self.ip = ip_tuple(self.address)
        self.connect_all = rng.random() < 0.15
        self.expect_connect_all = self.connect_all if rng.random() < 0.8 else not self.connect_all
        self.expect_auto = rng.choices((None, 'never', 'once', 'always'), (0.25, 0.45, 0.15, 0.15))[0]
        self.auto = {'once': 'once', 'always': None}.get(self.expect_auto, 'never')
        self.ports = rng.choices((None, (PORT, PORT), (PORT - 5, PORT + 5), (PORT + 1, PORT + 9), (PORT, None)),
                                 (0.3, 0.4, 0.1, 0.1, 0.1))[0]
        self.members = [NAME] + ([OTHER] if rng.random() < 0.6 else [])
        self.topology = rng.choices(('mesh', 'hub_and_spoke'), (0.75, 0.25))[0]
        self.hubs = set(rng.sample(self.members, rng.randint(1, len(self.members))))
        self.peers = sorted(rng.sample([OTHER, 'c@10.0.0.7', 'evil@6.6.6.6'], rng.randint(0, 2))) \
            if rng.random() < 0.2 else None
        self.visible = sorted(expected_peers(NAME, self))
        self.other_visible = rng.choice(([NAME], [], [NAME, 'c@10.0.0.7']))

    def specs(self):
        expect = {'connect_all': self.expect_connect_all, 'dist_auto_connect': self.expect_auto}
        if self.ports:
            expect.update(listen_min=self.ports[0], listen_max=self.ports[1])
        if self.peers is not None:
            expect['peers'] = self.peers
        main = {'name': NAME, 'expect': expect}
        if self.address != '127.0.0.1':
            main['address'] = self.address
        return [main] + [{'name': name, 'expect': {}} for name in self.members[1:]]


def expected_peers(name, profile):
    """The README's rule: the peers given, else every other member (mesh), else hubs see all, spokes the hubs."""
    if name == NAME and profile.peers is not None:
        return set(profile.peers)
    others = set(profile.members) - {name}
    if profile.topology == 'mesh':
        return others
    return others if name in profile.hubs else profile.hubs - {name}


def listen_record(ip, port, tls, gen=None):
    return (etf.Atom('listen'), etf.Port(etf.Atom(NAME), 3, 7), etf.Pid(etf.Atom(NAME), 80, 0, 7),
            (etf.Atom('net_address'), (ip, port), 'localhost', etf.Atom('tls' if tls else 'tcp'),
             etf.Atom('inet6' if len(ip) == 8 else 'inet')),
            etf.Atom('inet_tls_dist' if tls else ('inet6_tcp_dist' if len(ip) == 8 else 'inet_tcp_dist')))


def kernel_state(listen):
    """net_kernel's #state{} as OTP 25 has it, with ``listen`` in its listen field (element 10)."""
    pid = etf.Pid(etf.Atom(NAME), 60, 0, 7)
    return (etf.Atom('state'), etf.Atom(NAME), etf.Atom('longnames'), (etf.Atom('tick'), pid, 15000, 4), 7000,
            etf.Reference(etf.Atom(NAME), 7, (1, 2, 3)), {}, {}, {}, listen, [], 0, False, {},
            etf.Atom('net_sup'), {})


def global_state(conf):
    """global's #state{} as OTP 25 has it, with ``conf`` in its conf field (element 2)."""
    pid = etf.Pid(etf.Atom(NAME), 61, 0, 7)
    return (etf.Atom('state'), conf, {}, [], [], [], etf.Atom(NAME), pid, pid, etf.Atom('no_trace'), False)


def normal(key, profile):
    """What a hardened OTP 25 node of this profile answers to each of the facts' calls."""
    A = etf.Atom
    env = {'connect_all': profile.connect_all, 'dist_auto_connect': A(profile.auto) if profile.auto else None,
           'inet_dist_listen_min': PORT, 'inet_dist_listen_max': PORT, 'inet_dist_use_interface': profile.ip}
    module, function = key.split(':')[:2]
    arg = key.split(':', 2)[2] if key.count(':') > 1 else None
    if (module, function) == ('application', 'get_env'):
        return A('undefined') if env[arg] is None else (A('ok'), env[arg])
    if (module, function) == ('init', 'get_argument'):
        if profile.tls and arg == 'proto_dist':
            return (A('ok'), [['inet_tls']])
        if profile.tls and arg == 'ssl_dist_optfile':
            return (A('ok'), [['/etc/beamsec/ssl_dist.conf']])
        return A('error')
    answers = {
        'os:getenv': False, 'erlang:nodes:visible': [A(n) for n in profile.visible], 'erlang:nodes:hidden': [A(OURS)],
        'erlang:nodes:connected': [A(n) for n in profile.visible] + [A(OURS)], 'erlang:node': A(NAME),
        'erlang:system_info:otp_release': '25', 'net_kernel:get_net_ticktime': 60,
        'net_kernel:epmd_module': A('erl_epmd'), 'logger:allow:dist_util': True, 'persistent_term:get': {},
        'sys:get_state:net_kernel': kernel_state([listen_record(profile.ip, PORT, profile.tls)]),
        'sys:get_state:global_name_server': global_state((A('conf'), profile.connect_all, True)),
    }
    return answers[key] if key in answers else answers['%s:%s' % (module, function)]


class Answers:
    """Plausible answers other than the normal one, call by call: the ones that are near a rule."""

    def __init__(self, rng, gen, profile):
        self.rng, self.gen, self.profile = rng, gen, profile

    def __call__(self, key):
        method = getattr(self, key.replace(':', '_').lower(), None) or getattr(self, '_'.join(key.split(':')[:2]))
        return method(key)

    def pick(self, *choices):
        return self.rng.choice(choices)

    def ok(self, value):
        return (etf.Atom('ok'), value)

    def application_get_env(self, key):
        gen, A = self.gen, etf.Atom
        arg = key.split(':')[2]
        if self.rng.random() < 0.15:
            return self.pick(A('undefined'), (A('ok'),), (A('ok'), 1, 2), A('ok'), (A('error'), A('x')))
        if arg == 'connect_all':
            value = self.pick(True, False, 'false', b'false', A('undefined'), 0, gen.raw('latin-1 false'), [False],
                              A('False'))
        elif arg == 'dist_auto_connect':
            value = self.pick(A('never'), A('once'), A('always'), 'never', b'never', 'once', A('Never'), A('never '),
                              gen.raw('latin-1 never'), (A('never'),), [A('never')], True, A('undefined'))
        elif arg == 'inet_dist_use_interface':
            value = self.pick(self.profile.ip, '127.0.0.1', b'127.0.0.1', *IPS)
        else:
            value = self.pick(PORT, PORT + 1, PORT - 1, PORT + 9, 0, 65535, 65536, -1, 2 ** 16384, 'x', 40000.0,
                              True, A('undefined'))
        return self.ok(value)

    def init_get_argument(self, key):
        gen, A, rng = self.gen, etf.Atom, self.rng
        if rng.random() < 0.03:  # as large as a frame holds: 64 value lists of 40 long binaries
            return self.ok([[b'%02d' % i + b'v' * 90 for dummy in range(40)] for i in range(64)])
        false = self.pick('false', 'true', b'false', False, True, gen.raw('string false'), gen.raw('list false'),
                          gen.raw('improper false'), gen.raw('latin-1 false'), '', 'false ', 'FALSE', 'inet_tls',
                          '4369')
        return self.pick(A('error'), self.ok([[false]]), self.ok([[false, 'x']]), self.ok([['true'], [false]]),
                         self.ok([[], [false]]), self.ok([]), self.ok([[]]), self.ok([[false], ['true']]),
                         self.ok([false]), self.ok(false), self.ok([['inet_tls'], ['inet_tcp']]),
                         (A('ok'), [[false]], 1), A('undefined'))

    def os_getenv(self, key):
        return self.pick(False, '4369', b'4369', etf.Atom('x'), True, '', '0.0.0.0', 'y' * 1100, [1 << 20])

    def erlang_nodes(self, key):
        rng, A = self.rng, etf.Atom
        pool = [NAME, OTHER, OURS, 'c@10.0.0.7', 'evil@6.6.6.6'] + self.profile.visible
        roll = rng.random()
        if roll < 0.02:
            return [A('n%d@10.0.%d.%d' % (i, i // 250, i % 250)) for i in range(rng.choice((3000, 10001)))]
        nodes = [A(rng.choice(pool)) for dummy in range(rng.randrange(5))]
        if roll < 0.3:
            nodes.insert(rng.randint(0, len(nodes)), self.pick('x@h', b'x@h', A('noat'), True, A(''), A('@'), 7,
                                                               A('x' * 254 + '@'), A(NAME + ' ')))
        return nodes

    def erlang_node(self, key):
        A = etf.Atom
        return self.pick(A(NAME), A(NAME), A(OURS), A(OTHER), NAME, NAME.encode(), A(NAME + ' '), A(NAME.upper()))

    def erlang_system_info(self, key):
        return self.pick('25', b'25', etf.Atom('25'), 25, '26', [], 'x' * 1025)

    def net_kernel_get_net_ticktime(self, key):
        A = etf.Atom
        return self.pick(60, 0, 1, -1, 2 ** 31, 2 ** 31 + 1, (A('ongoing_change_to'), 30),
                         (A('ongoing_change_to'), -1), (A('ongoing_change_to'), 2 ** 70), 60.0, True,
                         (A('ongoing_change_to'),), 2 ** 16384)

    def logger_allow(self, key):
        return self.pick(True, True, False, 'true', etf.Atom('true'), 1, [])

    def persistent_term_get(self, key):
        A, peer = etf.Atom, etf.Atom('peer@127.0.0.1')
        return self.pick({}, {}, A('undefined'), {peer: 1764720000000}, {peer: -1}, {peer: 2 ** 70}, {A('x'): 1},
                         {'peer@h': 1}, [], A('ok'), {peer: 1.5})

    def net_kernel_epmd_module(self, key):
        return self.pick(etf.Atom('erl_epmd'), etf.Atom('undefined'), 'erl_epmd', b'my_epmd', 7, False)

    def sys_get_state_net_kernel(self, key):
        rng, gen, profile, A = self.rng, self.gen, self.profile, etf.Atom

        def record():
            ip = profile.ip if rng.random() < 0.7 else rng.choice(IPS)
            port = PORT if rng.random() < 0.7 else self.pick(PORT + 1, PORT + 9, 0, 65535, 65536, -1, 2 ** 70, 'x')
            made = list(listen_record(ip, port, profile.tls))
            address = list(made[3])
            if rng.random() < 0.3:
                address[3] = self.pick(A('tcp'), A('tls'), 'tls', b'tls', A('TLS'), gen.raw('latin-1 tls'),
                                       A('undefined'), (A('tls'),), [A('tls')])
            if rng.random() < 0.15:
                made[4] = self.pick(A('inet_tcp_dist'), A('inet_tls_dist'), A('inet6_tls_dist'), 'inet_tls_dist',
                                    A('_dist'), A('x'), A('undefined'))
            made[3] = tuple(address)
            if rng.random() < 0.1:
                made[3] = self.pick(tuple(address[:4]), (A('net_address'), (ip,), 'h', A('tls'), A('inet')),
                                    (A('net_address'), [ip, port], 'h', A('tls'), A('inet')), ip)
            if rng.random() < 0.05:
                made = made[:4] if rng.random() < 0.5 else made + [A('extra')]
            return tuple(made)

        good = listen_record(profile.ip, PORT, profile.tls)
        records = [record() for dummy in range(self.pick(1, 1, 2, 3))]
        placement = rng.randrange(12)
        if placement < 4:
            return kernel_state(records)
        if placement == 4:
            return kernel_state(records[0])
        if placement == 5:  # two lists
            state = list(kernel_state(records))
            state[12] = [record()]
            return tuple(state)
        if placement == 6:  # a good list first, then a lone record elsewhere
            state = list(kernel_state([good]))
            state[13] = record()
            return tuple(state)
        if placement == 7:
            return kernel_state(records + [gen.term(2)])
        if placement == 8:
            return kernel_state([good] * 17 if rng.random() < 0.5 else [record()] * 17)
        if placement == 9:  # past the elements read
            return tuple(kernel_state([]) + (0,) * 60 + ([record()],)) if rng.random() < 0.5 else \
                tuple(kernel_state([good]) + (0,) * 60 + ([record()],))
        if placement == 10:
            return kernel_state(self.pick([], [[good]], ([good],), {A('listen'): [good]}))
        return self.pick(records, {A('listen'): records}, A('undefined'), (A('state'),), ())

    def sys_get_state_global_name_server(self, key):
        rng, gen, profile, A = self.rng, self.gen, self.profile, etf.Atom

        def conf():
            value = profile.connect_all if rng.random() < 0.5 else self.pick(
                True, False, A('undefined'), 'false', 0, b'false', gen.raw('latin-1 false'), None, [False])
            return self.pick((A('conf'), value, True), (A('conf'), value, True), (A('conf'), value),
                             (A('conf'), value, True, 1), etf.Port(A('conf'), 5, 1))

        placement = rng.randrange(10)
        if placement < 4:
            return global_state(conf())
        if placement == 4:  # two conf records
            state = list(global_state(conf()))
            state[4] = conf()
            return tuple(state)
        if placement == 5:
            return global_state([conf()] + ([conf()] if rng.random() < 0.5 else []))
        if placement == 6:  # one in another field
            state = list(global_state(self.pick(A('undefined'), {}, [])))
            state[rng.randrange(2, len(state))] = self.pick(conf(), [conf()], (conf(),))
            return tuple(state)
        if placement == 7:  # past the elements read
            return tuple(global_state(A('undefined')) + (0,) * 60 + (conf(),))
        if placement == 8:
            return global_state((A('conf'), gen.term(2), True))
        return self.pick([conf()], {A('conf'): conf()}, A('undefined'), (), (A('state'),), gen.term(1))

    def unreadable_global(self):
        """A global state with no #conf{} whose connect_all is a boolean: facts fall back on global's init rule."""
        A = etf.Atom
        return self.pick(A('undefined'), global_state(A('undefined')), global_state((A('conf'), A('undefined'), True)),
                         global_state((A('conf'), 'false', True)), global_state((A('conf'), False)), (A('state'),),
                         [(A('conf'), False, True)], global_state(etf.Port(A('conf'), 5, 1)),
                         tuple(global_state(A('undefined')) + (0,) * 60 + ((A('conf'), False, True),)))


# answers that go together: the rules that read several calls
SCENARIOS = (
    ('connect_all init rule', ('application:get_env:connect_all', 'init:get_argument:connect_all',
                               'sys:get_state:global_name_server')),
    ('connect_all kernel env', ('application:get_env:connect_all', 'sys:get_state:global_name_server')),
    ('listeners', ('sys:get_state:net_kernel',)),
    ('nodes', ('erlang:nodes:visible', 'erlang:nodes:hidden', 'erlang:nodes:connected')),
    ('dist_auto_connect', ('application:get_env:dist_auto_connect',)),
)


class FactsCase:
    """The answers of one node to the facts' calls: each the normal one, a plausible other, a mutation or
    a random term; all in the one reply, amid noise of every kind."""

    def __init__(self, seed):
        rng = self.rng = random.Random(seed)
        self.gen = Terms(rng)
        self.profile = Profile(rng)
        self.answers = [normal(key, self.profile) for key in KEYS]
        self.stream = Stream(rng, self.gen)
        self.noise = rng.randint(1, 12) if rng.random() < 0.15 else 0
        self.oddities = 1 if rng.random() < 0.02 else 0
        self.silent = rng.randrange(len(KEYS)) if rng.random() < 0.02 else None
        self.twice = rng.sample(range(len(KEYS)), rng.randint(1, 3)) if rng.random() < 0.05 else []
        plausible = Answers(rng, self.gen, self.profile)
        if rng.random() < 0.35:
            self.scenario(rng, plausible)
            return
        changed = rng.choices((0, 1, 2, 3, 6, len(KEYS)), (0.1, 0.35, 0.25, 0.15, 0.1, 0.05))[0]
        for index in rng.sample(range(len(KEYS)), changed):
            how = rng.random()
            if how < 0.55:
                self.answers[index] = plausible(KEYS[index])
            elif how < 0.8:
                self.answers[index] = self.gen.mutate(
                    self.answers[index] if rng.random() < 0.7 else plausible(KEYS[index]))
            elif how < 0.97:
                self.answers[index] = self.gen.term()
            else:
                self.answers[index] = (etf.Atom('badrpc'), self.gen.term(2))

    def scenario(self, rng, plausible):
        """The calls one rule reads, changed together (the rest normal)."""
        name, keys = rng.choice(SCENARIOS)
        for key in keys:
            self.answers[KEYS.index(key)] = plausible(key) if rng.random() < 0.9 else self.gen.mutate(plausible(key))
        if name == 'connect_all init rule' and rng.random() < 0.7:
            self.answers[KEYS.index('application:get_env:connect_all')] = etf.Atom('undefined')
        if name.startswith('connect_all') and rng.random() < 0.7:
            self.answers[KEYS.index('sys:get_state:global_name_server')] = plausible.unreadable_global()

    def reply(self):
        """The one reply to lists:zipwith3(fun erlang:apply/3, ...): every answer in a list, or, as OTP
        answers when one of the calls fails, that {badrpc, _}."""
        for answer in self.answers:
            if type(answer) is tuple and len(answer) == 2 and _is_atom(answer[0], 'badrpc'):
                return answer
        return list(self.answers)

    def script(self, wire):
        stream = self.stream
        if len(wire.sent) != 1 or len(self.conn.refs) != 1 or len(self.conn.pids) != 1:
            raise Defect('facts request', '%d calls sent, %d refs made' % (len(wire.sent), len(self.conn.refs)))
        me, refs = self.conn.pids[0], self.conn.refs  # the call itself: target_rpc checks its kind
        if self.silent is None:
            stream.reply(0, me, refs[0], self.reply())
        if self.twice:
            stream.reply(0, me, refs[0], self.gen.term(1))
        stream.scatter(me, refs, self.noise, self.oddities)
        return stream.frames('close', me, refs)

    def delivered(self):
        """The answers as the client reads them, from the first reply, by key."""
        for frame, intent in self.stream.plan:
            if intent[0] == 'reply':
                try:
                    answers = _payload_of(frame)[1]
                except DistError:  # a raw piece the decoder refuses: so will the client
                    return {}
                return dict(zip(KEYS, answers)) if type(answers) is list and len(answers) == len(KEYS) else {}
        return {}


def target_facts(seed):
    case = FactsCase(seed)
    wire = Wire(Deadline(4.0), case.script, decode_sent=False)
    conn = case.conn = node_connection(wire)
    read = facts.node_facts(conn, deadline=wire.deadline)  # a DistError ends the input here
    profile = case.profile
    COVERAGE['facts read'] += 1
    answers = case.delivered()
    if len(answers) != len(KEYS):
        raise Defect('facts', 'facts were read without every answer')
    if not _is_atom(answers['erlang:node'], NAME):
        raise Defect('wrong node', 'facts were read from a node that says it is %s' % _brief(answers['erlang:node']))
    targets = [verify.Target(spec, b'cookie') for spec in profile.specs()]
    found = verify._facts_findings(targets[0], read, profile.tls)  # pylint: disable=protected-access
    facts_by_node = {NAME: read}
    if len(targets) > 1:
        facts_by_node[OTHER] = {'nodes_visible': profile.other_visible, 'nodes_hidden': [], 'nodes_pending': [], 'partition': {}}
    member_findings, groups = verify.membership(targets, facts_by_node, profile.topology, profile.hubs)
    found += member_findings
    verify.summarise(found, targets, groups, time.monotonic())
    _check_bounded(read, found)
    false_oks, misread = [], []
    for finding in found:
        if finding['outcome'] not in (verify.OK, verify.VIOLATION):
            raise Defect('outcome', 'a finding with outcome %r' % (finding['outcome'],))
        if finding['outcome'] != verify.OK:
            continue
        why = justified(finding, answers, profile, facts_by_node)
        if why is not True:
            false_oks.append('%s on %s: %s' % (finding['check'], finding['node'], why))
            misread += [] if ambiguous(finding['check'], answers) else [finding['check']]
        else:
            COVERAGE['ok ' + finding['check']] += 1
    if false_oks:
        kind = '%s (%s)' % (FALSE_OK, ', '.join(sorted(set(misread)))) if misread else FALSE_OK_AMBIGUOUS
        raise Defect(kind, '; '.join(false_oks))


def _check_bounded(read, found):
    for what, value in (('findings', found), ('facts', dict((k, v) for k, v in read.items()
                                                            if not k.startswith('nodes_')))):
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise Defect('json', '%s are not JSON: %s' % (what, exc))
        if len(text) > JSON_LIMIT:
            biggest = max(value if isinstance(value, dict) else range(len(value)),
                          key=lambda k: len(json.dumps(value[k])))
            raise Defect('bound: ' + what, '%s of %d bytes as JSON (%s is the biggest)' % (what, len(text), biggest))
    for key in ('nodes_visible', 'nodes_hidden', 'nodes_pending'):
        if len(read[key]) > facts.MAX_NODES:
            raise Defect('bound: facts', '%s lists %d nodes' % (key, len(read[key])))


# -- the oracle: when a finding may be ok, by OTP 25's rules (kernel's net_kernel.erl, global.erl)
# and the README's table "What `ok` means", read from the answers as the node sent them.

FALSE = [ord(c) for c in 'false']


def _is_atom(value, name):
    return type(value) is etf.Atom and value == name


def _is_ok(answer):
    """{ok, Value}: application:get_env/2's and init:get_argument/1's answer when there is one."""
    return type(answer) is tuple and len(answer) == 2 and _is_atom(answer[0], 'ok')


def _records(state, tag, size=None):
    """Every ``tag`` record (of ``size`` elements) a server's state holds among the elements read,
    alone or in a list, by the element that holds it: the state is positive evidence only if all of
    them say so."""
    found = []
    for position, item in enumerate(state[:STATE_LIMIT] if isinstance(state, tuple) else ()):
        found.extend((position, record) for record in (item if type(item) is list else [item])
                     if isinstance(record, tuple) and record and _is_atom(record[0], tag)
                     and size in (None, len(record)))
    return found


def ambiguous(check, answers):
    """A state with more records of the kind this check reads than OTP's one field holds: #listen{}s
    in more than one element, or more than one #conf{} (a false ok there needs a node that fakes its
    state; else it is 'false ok': an answer misread)."""
    if check == 'connect_all':
        return len(_records(answers['sys:get_state:global_name_server'], 'conf')) > 1
    if check in ('proto_dist', 'listen_address', 'listen_port'):
        return len(set(position for position, dummy in _records(answers['sys:get_state:net_kernel'], 'listen'))) > 1
    return False


def _connect_all(answers):
    """What global runs with: its #conf{connect_all} when its state holds one with a boolean; else
    global's init: a boolean kernel env; unset, {ok, [["false" | _] | _]} of -connect_all is false,
    anything else true; a kernel env of another type stops global (None: no telling)."""
    confs = [record[1] for dummy, record in _records(answers['sys:get_state:global_name_server'], 'conf', 3)
             if type(record[1]) is bool]
    if confs:
        return set(confs)
    env = answers['application:get_env:connect_all']
    if _is_ok(env):
        return {env[1]} if type(env[1]) is bool else set()
    if not _is_atom(env, 'undefined'):
        return set()
    argument = answers['init:get_argument:connect_all']
    first = argument[1][0] if _is_ok(argument) and type(argument[1]) is list and argument[1] else None
    init_false = type(first) is list and bool(first) and type(first[0]) is list and first[0] == FALSE
    return {not init_false}


def _auto_connect(env):
    """net_kernel: {ok, never} and {ok, once} as they are; anything else auto-connects."""
    if _is_ok(env) and (_is_atom(env[1], 'never') or _is_atom(env[1], 'once')):
        return str(env[1])
    return 'always'


def _listeners(answers):
    """(address, port, protocol) of each #listen{} record; None when one has no #net_address{}."""
    found = []
    for dummy, record in _records(answers['sys:get_state:net_kernel'], 'listen', 5):
        address = record[3]
        if not (type(address) is tuple and len(address) == 5 and _is_atom(address[0], 'net_address')
                and type(address[1]) is tuple and len(address[1]) == 2):
            return None
        found.append((address[1][0], address[1][1], address[3]))
    return found


def _names(answer):
    if type(answer) is not list or not all(type(n) is etf.Atom for n in answer):
        return None
    return set(str(n) for n in answer)


def justified(finding, answers, profile, facts_by_node):
    """True when OTP 25, given these answers, acts as the ok finding says; else why not."""
    check, node = finding['check'], finding['node']
    if node != NAME:  # the other member's canned facts
        if check == 'membership':
            return set(facts_by_node[node]['nodes_visible']) == expected_peers(node, profile) or 'not its peers'
        if check in ('hidden_peers', 'partition_record'):  # canned: none hidden, nothing recorded
            return True
        return 'no such check is ok for %s' % node
    listeners = _listeners(answers)
    if check == 'connect_all':
        runs = _connect_all(answers)
        return profile.expect_connect_all in runs or 'global runs with connect_all %s' % (sorted(runs) or 'unknown')
    if check == 'dist_auto_connect':
        runs = _auto_connect(answers['application:get_env:dist_auto_connect'])
        return runs == profile.expect_auto or 'net_kernel auto-connects %s' % runs
    if check == 'proto_dist':
        return bool(listeners) and all(_is_atom(protocol, 'tls') for dummy, dummy, protocol in listeners) \
            or 'listeners %s' % _brief(listeners)
    if check == 'listen_address':
        return bool(listeners) and all(
            type(ip) is tuple and all(type(part) is int for part in ip) and ip == profile.ip
            for ip, dummy, dummy in listeners) or 'listeners %s' % _brief(listeners)
    if check == 'listen_port':
        low, high = profile.ports[0], profile.ports[1] or profile.ports[0]
        return bool(listeners) and all(type(port) is int and low <= port <= high for dummy, port, dummy in listeners) \
            or 'listeners %s' % _brief(listeners)
    if check == 'membership':
        visible = _names(answers['erlang:nodes:visible'])
        return visible == expected_peers(NAME, profile) or 'nodes(visible) %s' % _brief(sorted(visible or ()))
    if check == 'hidden_peers':
        visible, hidden, connected = (_names(answers['erlang:nodes:%s' % kind])
                                      for kind in ('visible', 'hidden', 'connected'))
        if None in (visible, hidden, connected):
            return 'nodes() that are not lists of atoms'
        unseen = (hidden | (connected - visible)) - {OURS}
        return not unseen or 'hidden or pending %s' % sorted(unseen)[:5]
    if check == 'partition_record':  # no record (no detector) or an empty one: nothing recorded
        record = answers['persistent_term:get:undefined']
        return _is_atom(record, 'undefined') or (type(record) is dict and not record) or 'record %s' % _brief(record)
    if check == 'knock_logging':  # logger:allow/2 answers a boolean; only true is a logged handshake
        return answers['logger:allow:dist_util'] is True or 'logger:allow %s' % _brief(answers['logger:allow:dist_util'])
    return 'the oracle knows no check %s' % check


def _alarm(signum, frame):
    raise Hang()


BYTE_POOLS = {
    target_decode: corpus,
    target_epmd: epmd_answers,
    target_handshake: handshake_transcripts,
    target_messages: message_streams,
}
WEIGHTS = {target_decode: 0.44, target_epmd: 0.12, target_handshake: 0.12, target_messages: 0.12,
           target_rpc: 0.10, target_facts: 0.10}
TARGETS = dict((target.__name__, target) for target in WEIGHTS)
KEPT_PER_KIND = 5  # findings kept with their input, per kind (all are counted)


def _shown_input(data):
    return data.hex()[:400] if isinstance(data, bytes) else data


def run(count, seed, report_every=0, weights=None):
    """``count`` inputs drawn over the targets by ``weights`` (a target's share); the stats."""
    rng = random.Random(seed)
    random.seed(seed)
    pools = dict((target, make()) for target, make in BYTE_POOLS.items())
    weights = weights or WEIGHTS
    stats = dict(count=0, seed=seed, accepted=0, errors=0, findings=[], finding_kinds={}, false_oks=0,
                 slowest_ms=0.0, slowest=None, per_target=dict((t.__name__, 0) for t in weights),
                 seconds_per_target=dict((t.__name__, 0.0) for t in weights))
    COVERAGE.clear()
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    previous = signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    targets = list(weights)

    def found(kind, target, data, message=''):
        stats['finding_kinds'][kind] = stats['finding_kinds'].get(kind, 0) + 1
        if stats['finding_kinds'][kind] <= KEPT_PER_KIND:
            stats['findings'].append((kind, target.__name__, _shown_input(data), message[:600]))

    try:
        for index in range(count):
            target = rng.choices(targets, [weights[t] for t in targets])[0]
            if target in pools:
                pool = pools[target]
                data = random_bytes(rng) if rng.random() < 0.1 else mutate(rng, rng.choice(pool), pool)
            else:
                data = rng.getrandbits(63)  # the seed the case is made from: --replay target:seed
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, WATCHDOG)
            try:
                target(data)
                stats['accepted'] += 1
            except DistError as exc:
                stats['errors'] += 1
                if len(str(exc)) > MESSAGE_LIMIT:
                    found('bound: message', target, data, 'a %s of %d characters: %s' % (
                        type(exc).__name__, len(str(exc)), str(exc)[:200]))
            except Hang:
                found('hang', target, data)
            except Defect as exc:
                found(exc.kind, target, data, str(exc))
                stats['false_oks'] += exc.kind.startswith(FALSE_OK)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                where = traceback.extract_tb(exc.__traceback__)[-1]
                found(type(exc).__name__, target, data, '%s (%s:%d)' % (exc, Path(where.filename).name, where.lineno))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            took = (time.monotonic() - t0) * 1000.0
            if took > stats['slowest_ms']:
                stats['slowest_ms'], stats['slowest'] = took, (target.__name__, _shown_input(data)
                                                               if not isinstance(data, bytes) else len(data))
            stats['per_target'][target.__name__] += 1
            stats['seconds_per_target'][target.__name__] += took / 1000.0
            stats['count'] = index + 1
            if report_every and (index + 1) % report_every == 0:
                elapsed = time.monotonic() - started
                print('%d inputs, %d findings, %d false oks, %.0f s' % (
                    index + 1, sum(stats['finding_kinds'].values()), stats['false_oks'], elapsed), flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    stats['seconds'] = round(time.monotonic() - started, 1)
    stats['slowest_ms'] = round(stats['slowest_ms'], 2)
    stats['seconds_per_target'] = dict((k, round(v, 1)) for k, v in stats['seconds_per_target'].items())
    stats['coverage'] = dict(sorted(COVERAGE.items()))
    stats['maxrss_growth_kib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_start
    return stats


def replay(which):
    """One input, outside the harness: its traceback, its findings."""
    name, dummy, data = which.partition(':')
    target = TARGETS[name]
    data = int(data) if target not in BYTE_POOLS else bytes.fromhex(data)
    if target is target_facts:
        case = FactsCase(data)
        for key, answer in zip(KEYS, case.answers):
            print('%-40s %s' % (key, verify.short(answer, 300)))
    target(data)
    print('no finding')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=1000000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--replay', metavar='TARGET:INPUT', help='run one input (a seed, or hex bytes) and show it')
    args = parser.parse_args()
    if args.replay:
        replay(args.replay)
        return 0
    stats = run(args.count, args.seed, report_every=100000)
    findings = stats.pop('findings')
    for key, value in stats.items():
        print('%-18s %s' % (key, value))
    for finding in findings:
        print('FINDING', finding)
    total = sum(stats['finding_kinds'].values())
    print('findings           %d' % total)
    return 1 if total else 0


if __name__ == '__main__':
    sys.exit(main())
