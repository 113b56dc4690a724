# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's own record of failed authentication, read from its output (the journal of its unit, or a file).

OTP reports "Connection attempt from node N rejected. Invalid challenge reply." and "Connection attempt
from disallowed node N" without the peer's address; the node role's boot hook installs a logger filter that
appends "[beamsec knock KIND from ADDRESS port PORT]" to those reports and to TLS alerts on the distribution
port (roles/node/templates/boot.script.j2). A report without the suffix (a node started without the hook)
still counts, from an unknown source.

Every line may be a stranger's: node names are the peer's own choice (OTP prints them quoted and escaped,
the suffix is anchored at the end of the line), lines and groups are bounded, and a record too long to read
whole is reported as such, never as quiet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import probe_tag

MAX_LINE = 4096  # characters at the start of a line looked at for OTP's words and the name...
MAX_TAIL = 128  # ...and at its end for the hook's suffix (a name too long to read does not hide the source)
MAX_GROUPS = 1000  # distinct (source, kind, ours) kept; the rest are counted under source "other"
MAX_NAMES = 3  # claimed names kept per group, as a sample
MAX_NAME = 255
KINDS = ('challenge', 'disallowed', 'tls')

_TAG = re.compile(r'\[beamsec knock (challenge|disallowed|tls) from (?:([0-9A-Fa-f.:]{2,45}) port \d{1,5}|(unknown))\]\s*\Z')
# the claimed name as OTP prints it: quoted ('...' for ~w; "..." as the boot hook escapes a disallowed one) or bare
_OTP = re.compile(r"""\*\* Connection attempt from (disallowed )?node ('(?:[^'\\]|\\.){0,%d}'|"(?:[^"\\]|\\.){0,%d}"|"""
                  r"""[^\s'"]{1,%d})(?: rejected\. Invalid challenge reply\.)? \*\*""" % (MAX_NAME, MAX_NAME, MAX_NAME))


def knock(line):
    """(kind, source, claimed node name or None) for a line of the record that reports a knock, else None."""
    line = line.rstrip('\r\n')
    otp = _OTP.search(line[:MAX_LINE])  # leftmost: OTP's own words come before any name
    tag = _TAG.search(line[-MAX_TAIL:])
    if tag:
        return tag.group(1), tag.group(2) or tag.group(3), otp.group(2) if otp else None
    if otp:  # OTP's report without the hook's suffix
        return ('disallowed' if otp.group(1) else 'challenge'), 'unknown', otp.group(2)
    return None


class Record:
    """Knocks counted by source address, kind and whether the name is one of our probes' for this node; a few
    claimed names kept per group (names are the peer's choice: many of them cost no more than one)."""

    def __init__(self, probe_key=None, node=None, not_before=None):
        self.key, self.node, self.not_before = probe_key, node, not_before
        self.groups = {}
        self.lines = 0
        self.seen = set()  # our probes' (issued, nonce): each counts as ours once
        self.incomplete = None

    def add(self, line):
        self.lines += 1
        found = knock(line)
        if found is None:
            return
        kind, source, name = found
        probe = probe_tag.our_probe(name, self.key, self.node, self.not_before) if kind != 'tls' else None
        ours = probe is not None and probe not in self.seen
        if ours:
            self.seen.add(probe)
        key = (source, kind, ours)
        if key not in self.groups and len(self.groups) >= MAX_GROUPS:
            key = ('other', kind, ours)
        group = self.groups.setdefault(key, {'count': 0, 'names': []})
        group['count'] += 1
        if name and len(group['names']) < MAX_NAMES and name not in group['names']:
            group['names'].append(name)

    def report(self, threshold):
        """(knocks, summary) of what was added; knocks sorted by count, largest first."""
        knocks = [{'source': source, 'kind': kind, 'ours': ours, 'count': group['count'], 'names': group['names']}
                  for (source, kind, ours), group in self.groups.items()]
        knocks.sort(key=lambda k: (-k['count'], k['source'], k['kind']))
        strangers = [k for k in knocks if not k['ours']]
        by_source = {}
        for found in strangers:
            by_source[found['source']] = by_source.get(found['source'], 0) + found['count']
        summary = {
            'ours': sum(k['count'] for k in knocks if k['ours']),
            'strangers': sum(k['count'] for k in strangers),
            'by_kind': dict((kind, sum(k['count'] for k in strangers if k['kind'] == kind)) for kind in KINDS),
            'by_source': by_source,
            'threshold': threshold,
            'lines_read': self.lines,
            'incomplete': self.incomplete,
        }
        return knocks, summary
