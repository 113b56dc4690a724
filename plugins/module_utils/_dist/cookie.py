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


def random_cookie():
    """A cookie no node has: 256 bits of randomness."""
    return secrets.token_urlsafe(32).encode('ascii')
