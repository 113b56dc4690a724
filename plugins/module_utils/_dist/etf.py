# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External Term Format codec (erts "External Term Format" chapter).

Mapping, Erlang -> Python on decode:
  integer -> int, float -> float, atom -> Atom (a str), true/false -> bool,
  tuple -> tuple, proper list -> list (a string is a list of ints),
  improper list -> ImproperList, binary -> bytes, bitstring -> BitBinary,
  map -> dict (MapPairs when keys are unhashable or collide in Python),
  pid/port/reference/export/fun -> Pid/Port/Reference/Export/Fun.
Encode takes the same types, plus: str -> charlist (an Erlang string),
bytearray -> binary, None -> the atom 'undefined'.

The decoder trusts nothing it reads: every length is checked against the
bytes left before anything is allocated, nesting is bounded and a
compressed term may not inflate beyond ``max_size``; any failure is a
DecodeError, never another exception.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import struct
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
MAX_OBJECTS = 1 << 20


class Budget:
    """Objects a decode may create and the deadline it must end by (placeholder)."""

    def __init__(self, objects, deadline=None):
        self.objects = objects
        self.deadline = deadline

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


def _mask_tail(data, bits):
    """Zero the unused low bits of the last byte, as Erlang does."""
    return data[:-1] + bytes((data[-1] & (0xFF << (8 - bits)) & 0xFF,))


class MapPairs(tuple):
    """A map whose keys cannot be Python dict keys: a tuple of (key, value)."""

    __slots__ = ()


# --------------------------------------------------------------------------- decode


class _Decoder:
    __slots__ = ('data', 'end', 'max_depth', 'max_size')

    def __init__(self, data, max_depth, max_size):
        self.data = data
        self.end = len(data)
        self.max_depth = max_depth
        self.max_size = max_size

    def need(self, pos, count):
        if count < 0 or pos + count > self.end:
            raise DecodeError('truncated term: need %d bytes at offset %d, have %d'
                              % (count, pos, self.end - pos))

    def term(self, pos, depth):
        if pos >= self.end:
            raise DecodeError('truncated term at offset %d' % pos)
        if depth > self.max_depth:
            raise DecodeError('term nested deeper than %d' % self.max_depth)
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
        return self._atom(pos + 2, _U16.unpack_from(self.data, pos)[0], 'latin-1')

    def small_atom(self, pos, depth):
        self.need(pos, 1)
        return self._atom(pos + 1, self.data[pos], 'latin-1')

    def atom_utf8(self, pos, depth):
        self.need(pos, 2)
        return self._atom(pos + 2, _U16.unpack_from(self.data, pos)[0], 'utf-8')

    def small_atom_utf8(self, pos, depth):
        self.need(pos, 1)
        return self._atom(pos + 1, self.data[pos], 'utf-8')

    def _atom(self, pos, count, encoding):
        self.need(pos, count)
        try:
            name = bytes(self.data[pos:pos + count]).decode(encoding)
        except UnicodeDecodeError:
            raise DecodeError('atom at offset %d is not valid %s' % (pos, encoding))
        if name == 'true':
            return True, pos + count
        if name == 'false':
            return False, pos + count
        return Atom(name), pos + count

    def atom_only(self, pos, depth):
        """An atom where the format demands one (node names, modules)."""
        value, pos = self.term(pos, depth)
        if isinstance(value, bool):
            return Atom('true' if value else 'false'), pos
        if not isinstance(value, Atom):
            raise DecodeError('expected an atom before offset %d' % pos)
        return value, pos

    # containers
    def small_tuple(self, pos, depth):
        self.need(pos, 1)
        return self._tuple(pos + 1, self.data[pos], depth)

    def large_tuple(self, pos, depth):
        self.need(pos, 4)
        return self._tuple(pos + 4, _U32.unpack_from(self.data, pos)[0], depth)

    def _tuple(self, pos, arity, depth):
        self.need(pos, arity)  # every element takes at least one byte
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
        return list(self.data[pos:pos + count]), pos + count

    def list(self, pos, depth):
        items = []
        term = self.term
        while True:
            self.need(pos, 4)
            count = _U32.unpack_from(self.data, pos)[0]
            pos += 4
            self.need(pos, count + 1)  # elements plus the tail
            for dummy in range(count):
                value, pos = term(pos, depth + 1)
                items.append(value)
            # A tail that is itself a list continues this one ([a|[b|c]] is
            # [a,b|c]); looping here keeps such chains off the Python stack.
            self.need(pos, 1)
            tag = self.data[pos]
            if tag == NIL_EXT:
                return items, pos + 1
            if tag == LIST_EXT:
                pos += 1
                continue
            tail, pos = term(pos, depth + 1)
            if isinstance(tail, list):
                return items + tail, pos
            return ImproperList(items, tail), pos

    def map(self, pos, depth):
        self.need(pos, 4)
        arity = _U32.unpack_from(self.data, pos)[0]
        pos += 4
        self.need(pos, 2 * arity)
        pairs = []
        term = self.term
        for dummy in range(arity):
            key, pos = term(pos, depth + 1)
            value, pos = term(pos, depth + 1)
            pairs.append((key, value))
        try:
            result = dict(pairs)
        except TypeError:
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
        return BitBinary(_mask_tail(data, bits), bits), pos + count

    # identifiers
    def new_pid(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 12)
        ident, serial, creation = struct.unpack_from('>III', self.data, pos)
        return Pid(node, ident, serial, creation), pos + 12

    def pid(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 9)
        ident, serial = struct.unpack_from('>II', self.data, pos)
        return Pid(node, ident, serial, self.data[pos + 8]), pos + 9

    def new_port(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 8)
        ident, creation = struct.unpack_from('>II', self.data, pos)
        return Port(node, ident, creation), pos + 8

    def v4_port(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 12)
        ident, creation = struct.unpack_from('>QI', self.data, pos)
        return Port(node, ident, creation), pos + 12

    def port(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 5)
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
        creation = _U32.unpack_from(self.data, pos)[0] if creation_size == 4 else self.data[pos]
        pos += creation_size
        ids = struct.unpack_from('>%dI' % count, self.data, pos)
        return Reference(node, creation, ids), pos + 4 * count

    def reference(self, pos, depth):
        node, pos = self.atom_only(pos, depth + 1)
        self.need(pos, 5)
        return Reference(node, self.data[pos + 4], (_U32.unpack_from(self.data, pos)[0],)), pos + 5

    def export(self, pos, depth):
        module, pos = self.atom_only(pos, depth + 1)
        function, pos = self.atom_only(pos, depth + 1)
        arity, pos = self.term(pos, depth + 1)
        if not isinstance(arity, int) or isinstance(arity, bool) or not 0 <= arity <= 255:
            raise DecodeError('bad EXPORT_EXT arity %r' % (arity,))
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
        return Fun(module, None, bytes(self.data[start:pos])), pos

    def compressed(self, pos, depth):
        if depth:
            raise DecodeError('compressed term inside a term')
        self.need(pos, 4)
        size = _U32.unpack_from(self.data, pos)[0]
        if size > self.max_size:
            raise DecodeError('compressed term claims %d bytes, limit %d' % (size, self.max_size))
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(bytes(self.data[pos + 4:]), size + 1)
        except zlib.error as exc:
            raise DecodeError('bad compressed term: %s' % exc)
        if len(raw) != size or not inflater.eof:
            raise DecodeError('compressed term inflates to a size other than %d' % size)
        inner = _Decoder(raw, self.max_depth, self.max_size)
        value, used = inner.term(0, depth + 1)
        if used != size:
            raise DecodeError('%d bytes left after the compressed term' % (size - used))
        return value, self.end - len(inflater.unused_data)


_DISPATCH = {
    SMALL_INTEGER_EXT: _Decoder.small_integer, INTEGER_EXT: _Decoder.integer,
    SMALL_BIG_EXT: _Decoder.small_big, LARGE_BIG_EXT: _Decoder.large_big,
    NEW_FLOAT_EXT: _Decoder.new_float, FLOAT_EXT: _Decoder.old_float,
    ATOM_EXT: _Decoder.atom, SMALL_ATOM_EXT: _Decoder.small_atom,
    ATOM_UTF8_EXT: _Decoder.atom_utf8, SMALL_ATOM_UTF8_EXT: _Decoder.small_atom_utf8,
    SMALL_TUPLE_EXT: _Decoder.small_tuple, LARGE_TUPLE_EXT: _Decoder.large_tuple,
    NIL_EXT: _Decoder.nil, STRING_EXT: _Decoder.string, LIST_EXT: _Decoder.list,
    MAP_EXT: _Decoder.map, BINARY_EXT: _Decoder.binary, BIT_BINARY_EXT: _Decoder.bit_binary,
    NEW_PID_EXT: _Decoder.new_pid, PID_EXT: _Decoder.pid,
    NEW_PORT_EXT: _Decoder.new_port, V4_PORT_EXT: _Decoder.v4_port, PORT_EXT: _Decoder.port,
    NEWER_REFERENCE_EXT: _Decoder.newer_reference, NEW_REFERENCE_EXT: _Decoder.new_reference,
    REFERENCE_EXT: _Decoder.reference, EXPORT_EXT: _Decoder.export,
    NEW_FUN_EXT: _Decoder.new_fun, FUN_EXT: _Decoder.old_fun, COMPRESSED: _Decoder.compressed,
}


def decode_from(data, pos=0, max_depth=MAX_DEPTH, max_size=MAX_SIZE, budget=None):
    """Decode one versioned term (``131 ...``) at ``pos``; return (term, next_pos)."""
    if pos >= len(data):
        raise DecodeError('no term at offset %d' % pos)
    if data[pos] != VERSION:
        raise DecodeError('bad version byte %d at offset %d (expected 131)' % (data[pos], pos))
    try:
        return _Decoder(data, max_depth, max_size).term(pos + 1, 0)
    except RecursionError:  # only on hosts with a tiny stack limit
        raise DecodeError('term nested too deeply for this interpreter')


def decode(data, max_depth=MAX_DEPTH, max_size=MAX_SIZE):
    """Decode exactly one versioned term; trailing bytes are an error."""
    value, pos = decode_from(data, 0, max_depth, max_size)
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


def encode(value, compressed=None):
    """Encode ``value`` as a versioned term; ``compressed`` is a zlib level."""
    out = bytearray((VERSION,))
    try:
        _encode(value, out, 0)
    except (struct.error, OverflowError, ValueError) as exc:
        raise EncodeError('cannot encode %r: %s' % (value, exc))
    if compressed is None:
        return bytes(out)
    body = bytes(out[1:])
    return bytes((VERSION, COMPRESSED)) + _U32.pack(len(body)) + zlib.compress(body, compressed)
