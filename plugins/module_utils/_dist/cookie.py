# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cookie files read exactly as OTP's auth module reads them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import secrets
import stat


class CookieError(ValueError):
    pass


def parse_cookie(raw):
    """auth:check_cookie/2: printable ASCII, then only CR, LF and spaces."""
    end = 0
    while end < len(raw) and 0x20 <= raw[end] <= 0x7E:
        end += 1
    if raw[end:].strip(b'\r\n '):
        raise CookieError('bad characters in cookie (only printable ASCII is allowed)')
    if end == 0:
        raise CookieError('the cookie is empty')
    return bytes(raw[:end])


def read_cookie_file(path):
    """(cookie bytes, warning or None). The warning repeats what OTP would refuse."""
    try:
        info = os.stat(path)
        with open(path, 'rb') as handle:
            raw = handle.read(4096)
    except (IOError, OSError) as exc:
        raise CookieError('cannot read cookie_file %s: %s' % (path, exc.strerror or exc))
    warning = None
    if info.st_mode & 0o077:
        warning = ('cookie_file %s has mode %s: OTP refuses a cookie file that group or others can access; '
                   'make it 0400' % (path, oct(stat.S_IMODE(info.st_mode))))
    return parse_cookie(raw), warning


# Cookies that ship as defaults somewhere (and so are tried first), in lower case.
KNOWN_DEFAULTS = ('monster', 'rabbit', 'riak', 'ejabberd', 'secret', 'nocookie', 'cookie', 'erlang', 'changeme',
                  'couchdb', 'emqxsecretcookie')
MIN_LENGTH = 32


def cookie_weakness(cookie, min_length=MIN_LENGTH):
    """Why a cookie is weak, or '' when it is not: the one rule the node role and dist_cookie apply."""
    text = cookie.decode('latin-1') if isinstance(cookie, bytes) else str(cookie)
    classes = sum(1 for test in (str.islower, str.isupper, str.isdigit) if any(test(c) for c in text))
    classes += any(not c.isalnum() for c in text)
    if len(text) < int(min_length):
        return 'it has %d characters, fewer than %s' % (len(text), min_length)
    if not all('!' <= c <= '~' for c in text):
        return 'it has a space or a character that is not printable ASCII'
    if text.lower() in KNOWN_DEFAULTS:
        return 'it is a known default'
    if classes < 2:
        return 'it uses one character class (use two of lower case, upper case, digits, others)'
    return ''


def random_cookie():
    """A cookie no node has: 256 bits of randomness."""
    return secrets.token_urlsafe(32).encode('ascii')
