# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a peer sent, made fit to show: in a module result, a message, a report.

A peer controls the size and shape of every term it sends. Whatever of it
reaches a result goes through ``shown`` (plain JSON types, bounded in depth,
items, text and integer size) or ``short`` (one bounded line of text), so a
20 MiB binary, a 300-deep term or a 2 KiB bignum cannot blow up the output,
the controller's display or JSON encoding (Python refuses to print integers of
over 4,300 digits).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re

MAX_TEXT = 256      # characters of one string
MAX_ITEMS = 64      # elements of one list or map shown
MAX_DEPTH = 8       # nesting shown
MAX_NODES = 1024    # values shown in all
MAX_CHARS = 16384   # characters of text shown in all
MAX_INT_BITS = 64   # larger integers are shown by their size


def _text(value, limit):
    if len(value) <= limit:
        return value
    return '%s...(%d more)' % (value[:limit], len(value) - limit)


class _Walk:
    __slots__ = ('left', 'chars')

    def __init__(self):
        self.left = MAX_NODES
        self.chars = MAX_CHARS

    def text(self, value):
        value = _text(value, max(0, min(MAX_TEXT, self.chars)))
        self.chars -= len(value)
        return value

    def value(self, value, depth):
        # local import-free dispatch on the decoded types (etf's are str/tuple subclasses)
        self.left -= 1
        if self.left < 0:
            return '...'
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return repr(value)  # no NaN or Infinity in JSON
        if value is None or isinstance(value, (bool, float)):
            return value
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                return '<integer of %d bits>' % value.bit_length()
            return value
        if isinstance(value, str):
            return self.text(str(value))
        if isinstance(value, (bytes, bytearray)):
            return self.text(bytes(value).decode('utf-8', 'replace') if len(value) <= MAX_TEXT
                             else '<binary of %d bytes: %r...>' % (len(value), bytes(value[:32])))
        if depth >= MAX_DEPTH:
            return '<%s nested deeper than %d>' % (type(value).__name__, MAX_DEPTH)
        if isinstance(value, dict):
            items = list(value.items())
            shown = dict((str(self.value(k, depth + 1)), self.value(v, depth + 1)) for k, v in items[:MAX_ITEMS])
            if len(items) > MAX_ITEMS:
                shown['...'] = '%d more' % (len(items) - MAX_ITEMS)
            return shown
        if isinstance(value, (list, tuple)):
            shown = [self.value(item, depth + 1) for item in value[:MAX_ITEMS]]
            if len(value) > MAX_ITEMS:
                shown.append('...(%d more)' % (len(value) - MAX_ITEMS))
            return shown
        return _text(type(value).__name__, MAX_TEXT)


def shown(value):
    """``value`` as bounded plain JSON types (lists, dicts, str, int, float, bool, None)."""
    return _Walk().value(value, 0)


def short(value, limit=MAX_TEXT):
    """One bounded line of text for a message."""
    if isinstance(value, str):
        return _text(value, limit)
    return _text(json.dumps(shown(value), sort_keys=True, default=str), limit)


def erl(value, limit=MAX_TEXT):
    """A term as Erlang would print it (~p, roughly), bounded: 'never' and "never" differ."""
    out, left = [], [MAX_NODES]
    _erl(value, out, left, 0)
    return _text(''.join(out), limit)


def _erl(value, out, left, depth):
    left[0] -= 1
    if left[0] < 0 or depth > MAX_DEPTH:
        out.append('...')
    elif isinstance(value, bool):
        out.append('true' if value else 'false')
    elif isinstance(value, str):  # an atom
        out.append(value if value.isidentifier() and value[:1].islower() else "'%s'" % value[:MAX_TEXT])
    elif isinstance(value, int):
        out.append(str(value) if value.bit_length() <= MAX_INT_BITS else '<integer of %d bits>' % value.bit_length())
    elif isinstance(value, (bytes, bytearray)):
        out.append('<<%s>>' % json.dumps(bytes(value[:MAX_TEXT]).decode('latin-1')))
    elif isinstance(value, list) and value and all(isinstance(c, int) and not isinstance(c, bool)
                                                   and 32 <= c < 127 for c in value[:MAX_TEXT]):
        out.append(json.dumps(''.join(chr(c) for c in value[:MAX_TEXT])))
    elif isinstance(value, (list, tuple)):
        out.append('[' if isinstance(value, list) else '{')
        for index, item in enumerate(value[:MAX_ITEMS]):
            out.append(',' if index else '')
            _erl(item, out, left, depth + 1)
        out.append(',...' if len(value) > MAX_ITEMS else '')
        out.append(']' if isinstance(value, list) else '}')
    else:
        out.append(short(value, 80))


_DIRECTIVE = re.compile(r'~(-?\d*)(?:\.\d*)?(?:\.\S)?(t?l?)([a-zA-Z~])')


def put_chars_text(request):
    """The text of an io put_chars request, bounded: {put_chars, Enc, Chars}, {put_chars, Chars},
    or io:format's {put_chars, Enc, io_lib, format, [Format, Args]} rendered here, roughly as
    io_lib does (~p ~w ~s ~n ~~ and the rest by value), without applying anything."""
    if len(request) in (2, 3):
        return _chars(request[-1])
    if len(request) == 5 and request[2:4] == ('io_lib', 'format') and isinstance(request[4], list) \
            and len(request[4]) == 2 and isinstance(request[4][1], list):
        return _format(_chars(request[4][0]), request[4][1])
    return short(request)


def _chars(value):
    out, stack, left = [], [value], MAX_CHARS
    while stack and left > 0:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item[:MAX_CHARS]))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 0x110000:
            out.append(chr(item))
            left -= 1
        elif isinstance(item, (bytes, str)):
            text = item.decode('utf-8', 'replace') if isinstance(item, bytes) else str(item)
            out.append(text[:left])
            left -= len(out[-1])
    return ''.join(out)


def _format(text, args):
    args, out, pos = list(args[:MAX_ITEMS]), [], 0
    for match in _DIRECTIVE.finditer(text):
        out.append(text[pos:match.start()])
        pos, kind = match.end(), match.group(3)
        if kind == 'n':
            out.append('\n')
        elif kind == '~':
            out.append('~')
        elif args:
            arg = args.pop(0)
            out.append(_chars(arg) if kind == 's' else erl(arg))
    out.append(text[pos:])
    return _text(''.join(out), MAX_CHARS)
