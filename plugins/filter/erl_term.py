# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that write Erlang terms into vm.args and sys.config."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: erl_term
short_description: A YAML value as Erlang term text
version_added: 0.1.0
description:
  - Booleans become C(true)/C(false), integers and floats stay numbers, strings become atoms (quoted when needed),
    lists become Erlang lists and dicts become maps. A string that must be an Erlang string (a charlist) is
    written with O(strings=charlist).
author: beamsec.cluster maintainers (@beamsec)
positional: strings
options:
  _input:
    description: The value.
    type: raw
    required: true
  strings:
    description: How to write a Python string, as an C(atom), a C(charlist) (C("...")) or a C(binary) (C(<<"...">>)).
    type: str
    choices: [atom, charlist, binary]
    default: atom
'''

EXAMPLES = r'''
- name: Kernel parameters for vm.args
  ansible.builtin.debug:
    msg: "-kernel dist_auto_connect {{ 'never' | beamsec.cluster.erl_term }}"   # -kernel dist_auto_connect never
'''

RETURN = r'''
_value:
  description: The Erlang term text.
  type: str
'''

import ipaddress
import math
import re

from ansible.errors import AnsibleFilterError

_BARE_ATOM = re.compile(r'^[a-z][A-Za-z0-9_@]*$')
_RESERVED = frozenset('after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let '
                      'maybe not of or orelse receive rem try when xor'.split())


def _quote(text, quote):
    # Non-ASCII as \x{...}: the term reads the same whatever encoding the file is read with.
    escaped = text.replace('\\', '\\\\').replace(quote, '\\' + quote).replace('\n', '\\n').replace('\t', '\\t')
    return quote + ''.join(c if ' ' <= c <= '~' else '\\x{%X}' % ord(c) for c in escaped) + quote


def erl_term(value, strings='atom'):
    if strings not in ('atom', 'charlist', 'binary'):
        raise AnsibleFilterError("erl_term: strings must be atom, charlist or binary, not %r" % (strings,))
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise AnsibleFilterError('erl_term: Erlang has no float %r' % value)
        mantissa, exp, exponent = repr(value).partition('e')
        if '.' not in mantissa:  # Erlang wants 1.0e20, not 1e+20
            mantissa += '.0'
        return mantissa + ('e' + exponent.lstrip('+') if exp else '')
    if isinstance(value, str):
        if strings == 'charlist':
            return _quote(value, '"')
        if strings == 'binary':
            return '<<%s/utf8>>' % _quote(value, '"')
        if _BARE_ATOM.match(value) and value not in _RESERVED:
            return value
        return _quote(value, "'")
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join(erl_term(item, strings) for item in value)
    if isinstance(value, dict):
        return '#{%s}' % ', '.join('%s => %s' % (erl_term(k, strings), erl_term(v, strings)) for k, v in value.items())
    if value is None:
        return 'undefined'
    raise AnsibleFilterError('erl_term: no Erlang term for a %s' % type(value).__name__)


def erl_ip(address):
    """'10.0.0.5' -> {10,0,0,5}; an IPv6 address -> an 8-tuple of integers."""
    try:
        parsed = ipaddress.ip_address(str(address).strip('[]'))
    except ValueError:
        raise AnsibleFilterError('erl_ip: %r is not an IP address' % (address,))
    if parsed.version == 4:
        return '{%s}' % ','.join(str(part) for part in parsed.packed)
    words = [int.from_bytes(parsed.packed[i:i + 2], 'big') for i in range(0, 16, 2)]
    return '{%s}' % ','.join(str(word) for word in words)


class FilterModule(object):
    def filters(self):
        return {'erl_term': erl_term, 'erl_ip': erl_ip}
