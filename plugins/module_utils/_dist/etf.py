# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External Term Format codec (erts "External Term Format" chapter).

Mapping, Erlang -> Python on decode:
  integer -> int, float -> float, atom -> Atom (a str), true/false -> bool,
  tuple -> tuple, proper list -> list (a string is a list of ints),
  improper list -> ImproperList, binary -> bytes, bitstring -> BitBinary,
  map -> dict (MapPairs when keys are unhashable or equal in Python, and
  in a map of over SMALL_MAP keys, when any key is of a type whose hash
  a sender could choose: a float, a tuple, a big integer...),
  pid/port/reference/export/fun -> Pid/Port/Reference/Export/Fun.
Encode takes the same types, plus: str -> charlist (an Erlang string),
bytearray -> binary, None -> the atom 'undefined'.

The decoder trusts nothing it reads: every length is checked against the
bytes left before anything is allocated, nesting is bounded, a Budget caps
the objects made and the time taken (its deadline), a compressed term may
cost no more than an uncompressed one of its size, and no input costs more
than linear time; any failure is a DecodeError (or the deadline's Timeout),
never another exception.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import struct
import sys
import zlib
from collections import namedtuple

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DecodeError, EncodeError

VERSION = 131

NEW_FLOAT_EXT = 70
BIT_BINARY_EXT = 77
COMPRESSED = 80
NEW_PID_EXT = 88
NEW_PORT_EXT = 89
NEWER_REFERENCE_EXT = 90
SMALL_INTEGER_EXT = 97
INTEGER_EXT = 98
FLOAT_EXT = 99
ATOM_EXT = 100
REFERENCE_EXT = 101
PORT_EXT = 102
PID_EXT = 103
SMALL_TUPLE_EXT = 104
LARGE_TUPLE_EXT = 105
NIL_EXT = 106
STRING_EXT = 107
LIST_EXT = 108
BINARY_EXT = 109
SMALL_BIG_EXT = 110
LARGE_BIG_EXT = 111
NEW_FUN_EXT = 112
EXPORT_EXT = 113
NEW_REFERENCE_EXT = 114
SMALL_ATOM_EXT = 115
MAP_EXT = 116
FUN_EXT = 117
ATOM_UTF8_EXT = 118
SMALL_ATOM_UTF8_EXT = 119
V4_PORT_EXT = 120

MAX_DEPTH = 300
MAX_SIZE = 64 * 1024 * 1024

_U8 = struct.Struct('>B')
_U16 = struct.Struct('>H')
_U32 = struct.Struct('>I')
_I32 = struct.Struct('>i')
_U64 = struct.Struct('>Q')
_F64 = struct.Struct('>d')


class Atom(str):
    """An Erlang atom; ``Atom('ok') == 'ok'`` but encodes as an atom."""

    __slots__ = ()

    def __repr__(self):
        return 'Atom(%s)' % str.__repr__(self)


Pid = namedtuple('Pid', 'node id serial creation')
Port = namedtuple('Port', 'node id creation')
Reference = namedtuple('Reference', 'node creation ids')
Export = namedtuple('Export', 'module function arity')
BitBinary = namedtuple('BitBinary', 'data bits')
ImproperList = namedtuple('ImproperList', 'elements tail')


class Fun(namedtuple('Fun', 'module arity raw')):
    """A fun, kept opaque: ``raw`` is its encoding and is sent back as is."""


class Encoded(bytes):
    """A term of ours encoded once (no version byte), sent as is wherever it sits in a term: the same request to
    many nodes is not encoded again for each. Never made by the decoder."""


def _mask_tail(data, bits):
    """Zero the unused low bits of the last byte, as Erlang does."""
    return data[:-1] + bytes((data[-1] & (0xFF << (8 - bits)) & 0xFF,))


class MapPairs(tuple):
    """A map whose keys cannot be Python dict keys: a tuple of (key, value)."""

    __slots__ = ()


# --------------------------------------------------------------------------- decode

# What a decode may cost. A term makes at most one Python object per wire byte,
# of at most about 100 bytes each, so an uncompressed term is bounded by its own
# size; a budget caps a whole message (and checks its deadline). A compressed
# term is held to what an uncompressed one of its wire size could cost: it may
# inflate to INFLATE_RATIO times that size (INFLATE_FLOOR bytes whatever its
# size), and make OBJECT_FLOOR objects plus one per two wire bytes (the least
# an uncompressed term spends on any object but a [] or a string's character).
MAX_OBJECTS = 1 << 20  # per message: about 100 MB at worst; the connection layer's Budget
OBJECT_FLOOR = 1024
INFLATE_RATIO = 8
INFLATE_FLOOR = 16 * 1024
SMALL_MAP = 32  # a map up to this size is a dict even when its keys could collide (OTP's flatmap size too)
CHECK_EVERY = 4096  # objects between two looks at the deadline
ATOM_CACHE = 4096  # distinct atoms the decodes of a process share (a node name a thousand times is one object)
# encoded atom (tag, length, name) -> Atom, for every decode in this process: a fleet's replies name the
# same atoms, decoded once. Filled up to ATOM_CACHE names of at most MAX_ATOM bytes (OTP's own limit is 255
# characters) and then only read: a peer that sends many atoms slows the later decodes to the speed of no
# cache, and holds at most ATOM_CACHE such names (about 3 MiB) for the process's life.
MAX_ATOM = 255
_ATOMS = {}

_HASH_MODULUS = sys.hash_info.modulus


class Budget:
    """What decoding may cost: ``objects`` Python objects in all (every term,
    element and inflated sub-term counts), and a ``deadline``: any object whose
    ``remaining(stage)`` raises once past (connection.Deadline is one), asked
    every CHECK_EVERY objects. Decodes may share one: a distribution message is
    a control term and a payload, decoded back to back under one budget."""

    __slots__ = ('objects', 'deadline', 'used')

    def __init__(self, objects, deadline=None):
        self.objects = objects
        self.deadline = deadline
        self.used = 0

    def charge(self, count):
        """Count ``count`` more objects; return how many more may come before the next call."""
        self.used += count
        if self.used > self.objects:
            raise DecodeError('term makes more than %d objects' % self.objects)
        if self.deadline is not None:
            self.deadline.remaining('decode')
        return min(CHECK_EVERY, self.objects - self.used)


class _Inflated(Budget):
    """A compressed term's own cap (what an uncompressed term of its wire size
    could make), inside the budget it is charged to as well."""

    __slots__ = ('outer', 'wire')

    def __init__(self, wire, outer):
        super(_Inflated, self).__init__(OBJECT_FLOOR + wire // 2)
        self.outer = outer
        self.wire = wire

    def charge(self, count):
        window = self.outer.charge(count)
        self.used += count
        if self.used > self.objects:
            raise DecodeError('compressed term of %d bytes makes more than %d objects' % (self.wire, self.objects))
        return min(window, self.objects - self.used)


def _hash_safe(key):
    """Whether an attacker cannot make many such keys share one hash: atoms and
    binaries hash with a per-process random key (SipHash); an int of magnitude
    below the hash modulus is its own hash (-1 hashes as -2: one collision, no
    more); a bool hashes as 0 or 1."""
    kind = type(key)
    return kind is Atom or kind is bytes or kind is bool or (kind is int and -_HASH_MODULUS < key < _HASH_MODULUS)


class _Decoder:
    __slots__ = ('data', 'end', 'max_depth', 'max_size', 'budget', 'due', 'window', 'atoms')

    def __init__(self, data, max_depth, max_size, budget):
        self.data = data
        self.end = len(data)
        self.max_depth = max_depth
        self.max_size = max_size
        self.budget = budget
        # Objects are counted down here and passed on to the budget in batches.
        self.due = self.window = budget.charge(0)
        self.atoms = _ATOMS

    def charge(self, count):
        self.due -= count
        if self.due < 0:
            self.settle()

    def settle(self):
        """Pass the objects counted since the last call on to the budget."""
        self.due = self.window = self.budget.charge(self.window - self.due)

    def need(self, pos, count):
        if count < 0 or pos + count > self.end:
            raise DecodeError('truncated term: need %d bytes at offset %d, have %d'
                              % (count, pos, self.end - pos))

    def term(self, pos, depth):
        if pos >= self.end:
            raise DecodeError('truncated term at offset %d' % pos)
        if depth > self.max_depth:
            raise DecodeError('term nested deeper than %d' % self.max_depth)
        self.due -= 1  # charge(1), inlined: every term is an object
        if self.due < 0:
            self.settle()
        tag = self.data[pos]
        handler = _DISPATCH.get(tag)
        if handler is None:
            raise DecodeError('unknown tag %d at offset %d' % (tag, pos))
        return handler(self, pos + 1, depth)

    # numbers
    def small_integer(self, pos, depth):
        self.need(pos, 1)
        return self.data[pos], pos + 1

    def integer(self, pos, depth):
        self.need(pos, 4)
        return _I32.unpack_from(self.data, pos)[0], pos + 4

    def small_big(self, pos, depth):
        self.need(pos, 2)
        return self._big(pos + 2, self.data[pos], self.data[pos + 1])

    def large_big(self, pos, depth):
        self.need(pos, 5)
        return self._big(pos + 5, _U32.unpack_from(self.data, pos)[0], self.data[pos + 4])

    def _big(self, pos, count, sign):
        self.need(pos, count)
        if sign > 1:
            raise DecodeError('bad bignum sign %d' % sign)
        value = int.from_bytes(self.data[pos:pos + count], 'little')
        return (-value if sign else value), pos + count

    def new_float(self, pos, depth):
        self.need(pos, 8)
        return _F64.unpack_from(self.data, pos)[0], pos + 8

    def old_float(self, pos, depth):
        self.need(pos, 31)
        text = bytes(self.data[pos:pos + 31]).split(b'\0', 1)[0]
        try:
            return float(text.decode('ascii')), pos + 31
        except (UnicodeDecodeError, ValueError):
            raise DecodeError('bad FLOAT_EXT text %r' % text)

    # atoms
    def atom(self, pos, depth):
        self.need(pos, 2)
        return self._atom(pos - 1, pos + 2, _U16.unpack_from(self.data, pos)[0], 'latin-1')

    def small_atom(self, pos, depth):
        self.need(pos, 1)
        return self._atom(pos - 1, pos + 1, self.data[pos], 'latin-1')

    def atom_utf8(self, pos, depth):
        self.need(pos, 2)
        return self._atom(pos - 1, pos + 2, _U16.unpack_from(self.data, pos)[0], 'utf-8')

    def small_atom_utf8(self, pos, depth):
        self.need(pos, 1)
        return self._atom(pos - 1, pos + 1, self.data[pos], 'utf-8')

    def _atom(self, start, pos, count, encoding):
        """The atom whose tag is at ``start`` and name at ``pos``; decoded once in the process (up to
        ATOM_CACHE atoms; the cache key holds the tag, so Latin-1 and UTF-8 names stay apart)."""
        self.need(pos, count)
        end = pos + count
        key = self.data[start:end]
        atom = self.atoms.get(key)
        if atom is None:
            try:
                name = self.data[pos:end].decode(encoding)
            except UnicodeDecodeError:
                raise DecodeError('atom at offset %d is not valid %s' % (pos, encoding))
            atom = True if name == 'true' else False if name == 'false' else Atom(name)
            if count <= MAX_ATOM and len(self.atoms) < ATOM_CACHE:
                self.atoms[key] = atom
        return atom, end

    def atom_only(self, pos, depth):
        """An atom where the format demands one (node names, modules)."""
        value, pos = self.term(pos, depth)
        if isinstance(value, bool):
            return Atom('true' if value else 'false'), pos
        if not isinstance(value, Atom):
            raise DecodeError('expected an atom before offset %d' % pos)
        return value, pos

    # containers. Each level of nesting costs Python calls, which grow dear deep
    # in the stack, and hostile terms are deep: so both tuple tags have one
    # handler, and the bounds checks are inline, with need() called only to raise.
    def tuple(self, pos, depth):
        small = self.data[pos - 1] == SMALL_TUPLE_EXT
        if pos + 4 > self.end:
            self.need(pos, 1 if small else 4)
        if small:
            arity, pos = self.data[pos], pos + 1
        else:
            arity, pos = _U32.unpack_from(self.data, pos)[0], pos + 4
        if pos + arity > self.end:  # every element takes at least one byte
            self.need(pos, arity)
        if arity == 1:  # the deepest nesting per byte: spare it the list
            value, pos = self.term(pos, depth + 1)
            return (value,), pos
        items = []
        term = self.term
        for dummy in range(arity):
            value, pos = term(pos, depth + 1)
            items.append(value)
        return tuple(items), pos

    def nil(self, pos, depth):
        return [], pos

    def string(self, pos, depth):
        self.need(pos, 2)
        count = _U16.unpack_from(self.data, pos)[0]
        pos += 2
        self.need(pos, count)
        self.charge(count)
        return list(self.data[pos:pos + count]), pos + count

    def list(self, pos, depth):
        items = []
        term = self.term
        while True:
            if pos + 5 > self.end:  # the count, then elements and a tail of a byte or more
                self.need(pos, 5)
            count = _U32.unpack_from(self.data, pos)[0]
            pos += 4
            if pos + count + 1 > self.end:
                self.need(pos, count + 1)
            for dummy in range(count):
                value, pos = term(pos, depth + 1)
                items.append(value)
            # A tail that is itself a list continues this one ([a|[b|c]] is
            # [a,b|c]); looping here keeps such chains off the Python stack.
            if pos >= self.end:
                self.need(pos, 1)
            tag = self.data[pos]
            if tag == NIL_EXT:
                return items, pos + 1
            if tag == LIST_EXT:
                self.charge(1)  # no object, but a turn of this loop all the same
                pos += 1
                continue
            tail, pos = term(pos, depth + 1)
            if isinstance(tail, list):
                return items + tail, pos
            self.charge(1)
            return ImproperList(items, tail), pos

    def map(self, pos, depth):
        if pos + 4 > self.end:
            self.need(pos, 4)
        arity = _U32.unpack_from(self.data, pos)[0]
        pos += 4
        if pos + 2 * arity > self.end:
            self.need(pos, 2 * arity)
        self.charge(arity)  # the (key, value) tuples
        pairs = []
        term = self.term
        for dummy in range(arity):
            key, pos = term(pos, depth + 1)
            value, pos = term(pos, depth + 1)
            pairs.append((key, value))
        # Keys that share a hash cost a dict one comparison per key already in,
        # quadratic in the map's size; crafted ints, floats and tuples can all
        # share one. Past a few keys, only keys nobody can choose hashes for.
        if arity > SMALL_MAP and not all(_hash_safe(key) for key, dummy in pairs):
            return MapPairs(pairs), pos
        try:
            result = dict(pairs)
        except TypeError:  # a list or a map as a key
            return MapPairs(pairs), pos
        if len(result) != arity:  # 1, 1.0 and true are one key in Python
            return MapPairs(pairs), pos
        return result, pos

    # binaries
    def binary(self, pos, depth):
        self.need(pos, 4)
        count = _U32.unpack_from(self.data, pos)[0]
        pos += 4
        self.need(pos, count)
        return bytes(self.data[pos:pos + count]), pos + count

    def bit_binary(self, pos, depth):
        self.need(pos, 5)
        count = _U32.unpack_from(self.data, pos)[0]
        bits = self.data[pos + 4]
        pos += 5
        self.need(pos, count)
        if not (1 <= bits <= 8) or count == 0:
            raise DecodeError('bad BIT_BINARY_EXT: %d bytes, %d bits' % (count, bits))
        data = bytes(self.data[pos:pos + count])
        if bits == 8:
            return data, pos + count
        self.charge(1)
        return BitBinary(_mask_tail(data, bits), bits), pos + count

    # identifiers: each integer in one counts as an object too
    def new_pid(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 12)
        self.charge(3)
        ident, serial, creation = struct.unpack_from('>III', self.data, pos)
        return Pid(node, ident, serial, creation), pos + 12

    def pid(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 9)
        self.charge(3)
        ident, serial = struct.unpack_from('>II', self.data, pos)
        return Pid(node, ident, serial, self.data[pos + 8]), pos + 9

    def new_port(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 8)
        self.charge(2)
        ident, creation = struct.unpack_from('>II', self.data, pos)
        return Port(node, ident, creation), pos + 8

    def v4_port(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 12)
        self.charge(2)
        ident, creation = struct.unpack_from('>QI', self.data, pos)
        return Port(node, ident, creation), pos + 12

    def port(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 5)
        self.charge(2)
        return Port(node, _U32.unpack_from(self.data, pos)[0], self.data[pos + 4]), pos + 5

    def newer_reference(self, pos, depth):
        return self._reference(pos, depth, 4)

    def new_reference(self, pos, depth):
        return self._reference(pos, depth, 1)

    def _reference(self, pos, depth, creation_size):
        self.need(pos, 2)
        count = _U16.unpack_from(self.data, pos)[0]
        if count > 5:
            raise DecodeError('reference with %d id words' % count)
        node, pos = self.atom_only(pos + 2, depth + 1)
        self.need(pos, creation_size + 4 * count)
        self.charge(2 + count)  # creation, the ids and their tuple
        creation = _U32.unpack_from(self.data, pos)[0] if creation_size == 4 else self.data[pos]
        pos += creation_size
        ids = struct.unpack_from('>%dI' % count, self.data, pos)
        return Reference(node, creation, ids), pos + 4 * count

    def reference(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 5)
        self.charge(3)
        return Reference(node, self.data[pos + 4], (_U32.unpack_from(self.data, pos)[0],)), pos + 5

    def export(self, pos, depth):
        module, pos = self.atom_only(pos, depth + 1)
        function, pos = self.atom_only(pos, depth + 1)
        arity, pos = self.term(pos, depth + 1)
        if not isinstance(arity, int) or isinstance(arity, bool) or not 0 <= arity <= 255:
            # not %r: a hostile arity may be a bignum too long for repr() (or just long)
            raise DecodeError('bad EXPORT_EXT arity: a %s' % type(arity).__name__)
        return Export(module, function, arity), pos

    def new_fun(self, pos, depth):
        self.need(pos, 4 + 1 + 16 + 4 + 4)
        size = _U32.unpack_from(self.data, pos)[0]
        if size < 29:
            raise DecodeError('bad NEW_FUN_EXT size %d' % size)
        self.need(pos, size)
        arity = self.data[pos + 4]
        module, after = self.atom_only(pos + 29, depth + 1)
        if after > pos + size:
            raise DecodeError('NEW_FUN_EXT module runs past its size')
        self.charge(1)
        return Fun(module, arity, bytes(self.data[pos - 1:pos + size])), pos + size

    def old_fun(self, pos, depth):
        start = pos - 1
        self.need(pos, 4)
        free = _U32.unpack_from(self.data, pos)[0]
        self.need(pos + 4, 4 + free)
        pos = self.term(pos + 4, depth + 1)[1]  # pid
        module, pos = self.atom_only(pos, depth + 1)
        for dummy in range(2 + free):  # index, uniq, free variables
            pos = self.term(pos, depth + 1)[1]
        self.charge(1)
        return Fun(module, None, bytes(self.data[start:pos])), pos

    def compressed(self, pos, depth):
        if depth:
            raise DecodeError('compressed term inside a term')
        self.need(pos, 4)
        size = _U32.unpack_from(self.data, pos)[0]
        # Its wire size is known once inflated; the bytes left bound it before.
        limit = min(self.max_size, max(INFLATE_FLOOR, INFLATE_RATIO * (self.end - pos)))
        if size > limit:
            raise DecodeError('compressed term claims %d bytes, limit %d' % (size, limit))
        self.settle()  # the deadline, before zlib takes its time
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(memoryview(self.data)[pos + 4:], size + 1)
        except zlib.error as exc:
            raise DecodeError('bad compressed term: %s' % exc)
        if len(raw) != size or not inflater.eof:
            raise DecodeError('compressed term inflates to a size other than %d' % size)
        end = self.end - len(inflater.unused_data)
        wire = end - pos + 1  # tag, size and deflated bytes
        if size > max(INFLATE_FLOOR, INFLATE_RATIO * wire):
            raise DecodeError('compressed term of %d bytes inflates to %d, over %d times its size'
                              % (wire, size, INFLATE_RATIO))
        self.settle()  # and after
        inner = _Decoder(raw, self.max_depth, self.max_size, _Inflated(wire, self.budget))
        value, used = inner.term(0, depth + 1)
        if used != size:
            raise DecodeError('%d bytes left after the compressed term' % (size - used))
        inner.settle()
        self.settle()  # the budget has shrunk under us
        return value, end


_DISPATCH = {
    SMALL_INTEGER_EXT: _Decoder.small_integer, INTEGER_EXT: _Decoder.integer,
    SMALL_BIG_EXT: _Decoder.small_big, LARGE_BIG_EXT: _Decoder.large_big,
    NEW_FLOAT_EXT: _Decoder.new_float, FLOAT_EXT: _Decoder.old_float,
    ATOM_EXT: _Decoder.atom, SMALL_ATOM_EXT: _Decoder.small_atom,
    ATOM_UTF8_EXT: _Decoder.atom_utf8, SMALL_ATOM_UTF8_EXT: _Decoder.small_atom_utf8,
    SMALL_TUPLE_EXT: _Decoder.tuple, LARGE_TUPLE_EXT: _Decoder.tuple,
    NIL_EXT: _Decoder.nil, STRING_EXT: _Decoder.string, LIST_EXT: _Decoder.list,
    MAP_EXT: _Decoder.map, BINARY_EXT: _Decoder.binary, BIT_BINARY_EXT: _Decoder.bit_binary,
    NEW_PID_EXT: _Decoder.new_pid, PID_EXT: _Decoder.pid,
    NEW_PORT_EXT: _Decoder.new_port, V4_PORT_EXT: _Decoder.v4_port, PORT_EXT: _Decoder.port,
    NEWER_REFERENCE_EXT: _Decoder.newer_reference, NEW_REFERENCE_EXT: _Decoder.new_reference,
    REFERENCE_EXT: _Decoder.reference, EXPORT_EXT: _Decoder.export,
    NEW_FUN_EXT: _Decoder.new_fun, FUN_EXT: _Decoder.old_fun, COMPRESSED: _Decoder.compressed,
}


def decode_from(data, pos=0, max_depth=MAX_DEPTH, max_size=MAX_SIZE, budget=None):
    """Decode one versioned term (``131 ...``) at ``pos``; return (term, next_pos).

    ``budget`` (a Budget, which several calls may share) caps the objects made
    and checks a deadline. Without one, the term may make no more objects than
    OBJECT_FLOOR plus its wire bytes (MAX_OBJECTS at most), which no
    uncompressed term exceeds, and there is no deadline."""
    if pos >= len(data):
        raise DecodeError('no term at offset %d' % pos)
    if data[pos] != VERSION:
        raise DecodeError('bad version byte %d at offset %d (expected 131)' % (data[pos], pos))
    if not isinstance(data, bytes):
        data = bytes(data)  # so that slices are bytes, as atom cache keys must be
    if budget is None:
        budget = Budget(min(MAX_OBJECTS, OBJECT_FLOOR + len(data) - pos))
    decoder = _Decoder(data, max_depth, max_size, budget)
    try:
        value, pos = decoder.term(pos + 1, 0)
    except RecursionError:  # only on hosts with a tiny stack limit
        raise DecodeError('term nested too deeply for this interpreter')
    decoder.settle()
    return value, pos


def decode(data, max_depth=MAX_DEPTH, max_size=MAX_SIZE, budget=None):
    """Decode exactly one versioned term; trailing bytes are an error."""
    value, pos = decode_from(data, 0, max_depth, max_size, budget)
    if pos != len(data):
        raise DecodeError('%d trailing bytes after the term' % (len(data) - pos))
    return value


# --------------------------------------------------------------------------- encode


def _encode_atom(name, out):
    raw = name.encode('utf-8')
    if len(name) > 255:
        raise EncodeError('atom longer than 255 characters: %r...' % name[:20])
    if len(raw) < 256:
        out += bytes((SMALL_ATOM_UTF8_EXT, len(raw)))
    else:
        out.append(ATOM_UTF8_EXT)
        out += _U16.pack(len(raw))
    out += raw


def _encode_int(value, out):
    if 0 <= value <= 255:
        out += bytes((SMALL_INTEGER_EXT, value))
    elif -2147483648 <= value <= 2147483647:
        out.append(INTEGER_EXT)
        out += _I32.pack(value)
    else:
        magnitude = abs(value)
        raw = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, 'little')
        if len(raw) < 256:
            out += bytes((SMALL_BIG_EXT, len(raw)))
        else:
            out.append(LARGE_BIG_EXT)
            out += _U32.pack(len(raw))
        out.append(1 if value < 0 else 0)
        out += raw


def _encode_charlist(codes, out):
    if not codes:
        out.append(NIL_EXT)
    elif len(codes) < 65536 and all(0 <= c <= 255 for c in codes):
        out.append(STRING_EXT)
        out += _U16.pack(len(codes))
        out += bytes(codes)
    else:
        out.append(LIST_EXT)
        out += _U32.pack(len(codes))
        for code in codes:
            _encode_int(code, out)
        out.append(NIL_EXT)


def _encode_list(items, tail, out, depth):
    if not items:
        if tail is None:
            out.append(NIL_EXT)
        else:
            _encode(tail, out, depth + 1)
        return
    if tail is None and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= 255 for i in items):
        _encode_charlist(items, out)  # as erlang:term_to_binary/1 does
        return
    out.append(LIST_EXT)
    out += _U32.pack(len(items))
    for item in items:
        _encode(item, out, depth + 1)
    if tail is None:
        out.append(NIL_EXT)
    else:
        _encode(tail, out, depth + 1)


def _encode_node(node, out):
    _encode_atom(str(node), out)


def _encode(value, out, depth):
    if depth > MAX_DEPTH:
        raise EncodeError('value nested deeper than %d' % MAX_DEPTH)
    kind = type(value)
    if kind is bool:
        _encode_atom('true' if value else 'false', out)
    elif kind is int:
        _encode_int(value, out)
    elif kind is Atom:
        _encode_atom(value, out)
    elif kind is float:
        if math.isnan(value) or math.isinf(value):
            raise EncodeError('Erlang has no float %r' % value)
        out.append(NEW_FLOAT_EXT)
        out += _F64.pack(value)
    elif kind is tuple:
        if len(value) < 256:
            out += bytes((SMALL_TUPLE_EXT, len(value)))
        else:
            out.append(LARGE_TUPLE_EXT)
            out += _U32.pack(len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif kind is list:
        _encode_list(value, None, out, depth)
    elif kind is bytes or kind is bytearray:
        out.append(BINARY_EXT)
        out += _U32.pack(len(value))
        out += value
    elif kind is str:
        _encode_charlist([ord(c) for c in value], out)
    elif kind is dict or kind is MapPairs:
        pairs = value.items() if kind is dict else value
        out.append(MAP_EXT)
        out += _U32.pack(len(value))
        for key, item in pairs:
            _encode(key, out, depth + 1)
            _encode(item, out, depth + 1)
    elif value is None:
        _encode_atom('undefined', out)
    elif kind is Encoded:
        out += value
    else:
        _encode_special(value, out, depth)


def _encode_special(value, out, depth):
    if isinstance(value, Pid):
        out.append(NEW_PID_EXT)
        _encode_node(value.node, out)
        out += struct.pack('>III', value.id, value.serial, value.creation)
    elif isinstance(value, Port):
        if value.id > 0xFFFFFFFF:
            out.append(V4_PORT_EXT)
            _encode_node(value.node, out)
            out += struct.pack('>QI', value.id, value.creation)
        else:
            out.append(NEW_PORT_EXT)
            _encode_node(value.node, out)
            out += struct.pack('>II', value.id, value.creation)
    elif isinstance(value, Reference):
        out.append(NEWER_REFERENCE_EXT)
        out += _U16.pack(len(value.ids))
        _encode_node(value.node, out)
        out += _U32.pack(value.creation)
        out += struct.pack('>%dI' % len(value.ids), *value.ids)
    elif isinstance(value, Export):
        out.append(EXPORT_EXT)
        _encode_atom(str(value.module), out)
        _encode_atom(str(value.function), out)
        _encode_int(value.arity, out)
    elif isinstance(value, Fun):
        out += value.raw
    elif isinstance(value, BitBinary):
        if not 1 <= value.bits <= 8 or not value.data:
            raise EncodeError('bad bitstring: %d bytes, %d bits' % (len(value.data), value.bits))
        out.append(BIT_BINARY_EXT)
        out += _U32.pack(len(value.data))
        out.append(value.bits)
        out += _mask_tail(value.data, value.bits)
    elif isinstance(value, ImproperList):
        _encode_list(list(value.elements), value.tail, out, depth)
    elif isinstance(value, (str, int, tuple, list, dict)):
        _encode(_plain(value), out, depth)  # subclasses of the base types
    else:
        raise EncodeError('no Erlang term for a %s' % type(value).__name__)


def _plain(value):
    for base in (bool, int, str, tuple, list, dict):
        if isinstance(value, base):
            return base(value)
    return value


def encoded(value):
    """``value`` encoded once, as an Encoded term to put inside others (a list keeps its length, for messages)."""
    term = Encoded(encode(value)[1:])
    term.length = len(value) if isinstance(value, (list, tuple)) else None
    return term


def encode(value, compressed=None):
    """Encode ``value`` as a versioned term; ``compressed`` is a zlib level."""
    out = bytearray((VERSION,))
    try:
        _encode(value, out, 0)
    except (struct.error, OverflowError, ValueError) as exc:
        # not %r of the value: it may hold an int too long for repr(), and be large
        raise EncodeError('cannot encode a %s: %s' % (type(value).__name__, exc))
    if compressed is None:
        return bytes(out)
    body = bytes(out[1:])
    return bytes((VERSION, COMPRESSED)) + _U32.pack(len(body)) + zlib.compress(body, compressed)
