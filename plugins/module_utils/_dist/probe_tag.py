# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node name this collection's probes present: ``beamsec_probe_<nonce><tag>@host``.

Some probes fail authentication on purpose (a random cookie, a tenant's cookie at a hub), and the node
logs each as a failed handshake. The tag, an HMAC of the nonce under the probe key (a controller secret
that is not a cookie), lets dist_audit tell those from strangers' knocks: a stranger can copy the prefix,
not a tag for a nonce of its own, and a name it replays counts once. Without a key the name has no tag and
counts as a stranger's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import re
import secrets

PREFIX = 'beamsec_probe_'
NONCE, TAG = 8, 16  # hex digits
_NAME = re.compile(r"\A['\"]?%s([0-9a-f]{%d})([0-9a-f]{%d})@" % (PREFIX, NONCE, TAG))
_key = [None]  # this process's probe key: one module run, one key


def use_key(key):
    """Tag the names of this process's probes with key (a str; None or '' for no tag)."""
    _key[0] = key.encode('utf-8') if key else None


def _tag(key, nonce):
    return hmac.new(key, nonce.encode('ascii'), hashlib.sha256).hexdigest()[:TAG]


def probe_name(host):
    """A fresh probe name for a probe of host."""
    nonce = secrets.token_hex(NONCE // 2)
    return '%s%s%s@%s' % (PREFIX, nonce, _tag(_key[0], nonce) if _key[0] else '', host)


def our_nonce(name, key):
    """The nonce of one of our probes' names under key (as OTP prints it, maybe quoted), else None. Each of our
    probes has a fresh nonce: a caller counts a nonce once, so a name seen on the wire and replayed hides nothing."""
    found = _NAME.match(name or '')
    if not found or not key or not hmac.compare_digest(found.group(2), _tag(key.encode('utf-8'), found.group(1))):
        return None
    return found.group(1)
