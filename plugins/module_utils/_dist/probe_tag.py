# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node name this collection's probes present: ``beamsec_probe_<issued><nonce><tag>@host``.

Some probes fail authentication on purpose (a random cookie, a tenant's cookie at a hub), and the node
logs each as a failed handshake. The tag, an HMAC under the probe key (a controller secret that is not a
cookie) of the time the name was issued, a fresh nonce and the node the probe is for, lets dist_audit tell
those from strangers' knocks. A node sees the names of the probes made of it, in clear text without TLS:
bound to that node and to its issue time, and counted once, such a name hides nothing when replayed at
another node, later, or again. Without a key the name has no tag and counts as a stranger's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import re
import secrets
import time

PREFIX = 'beamsec_probe_'
_NAME = re.compile(r"\A['\"]?%s([0-9a-f]{8})([0-9a-f]{8})([0-9a-f]{16})@" % PREFIX)
SLACK = 300  # seconds of clock difference between the prober and the node
_key = [None]  # this process's probe key: one module run, one key


def use_key(key):
    """Tag the names of this process's probes with key (a str; None or '' for no tag)."""
    _key[0] = key.encode('utf-8') if key else None


def _tag(key, issued, nonce, target):
    return hmac.new(key, ('%s|%s|%s' % (issued, nonce, target or '')).encode('utf-8'), hashlib.sha256).hexdigest()[:16]


def probe_name(host, target=None):
    """A fresh probe name for a probe of the node target (name@host), reached at host."""
    nonce = secrets.token_hex(4)
    if not _key[0]:
        return '%s%s@%s' % (PREFIX, nonce, host)
    issued = '%08x' % int(time.time())
    return '%s%s%s%s@%s' % (PREFIX, issued, nonce, _tag(_key[0], issued, nonce, target), host)


def our_probe(name, key, target, not_before=None, now=None):
    """The (issued, nonce) of one of our probes' names (as OTP prints it, maybe quoted) made for target under key
    and issued from not_before on (seconds since the epoch), else None. The caller counts each once."""
    found = _NAME.match(name or '')
    if not found or not key:
        return None
    issued = int(found.group(1), 16)
    now = time.time() if now is None else now
    if issued > now + SLACK or (not_before is not None and issued < not_before - SLACK):
        return None
    if not hmac.compare_digest(found.group(3), _tag(key.encode('utf-8'), found.group(1), found.group(2), target)):
        return None
    return found.group(1) + found.group(2)
