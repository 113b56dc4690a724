# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every node-probing module shares, and their checks.

Matches doc_fragments/dist.py. Bad input raises ParamError, whose message
names the option and the fix, before any connection is made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re
import ssl

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import probe_tag
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import (
    CookieError, parse_cookie, random_cookie, read_cookie_file)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import split_node

CONNECTION_SPEC = dict(
    node=dict(type='str'),
    host=dict(type='str'),
    port=dict(type='int'),
    epmd_port=dict(type='int', default=4369),
    cookie=dict(type='str', no_log=True),
    cookie_file=dict(type='path'),
    tls=dict(type='bool', default=False),
    tls_certfile=dict(type='path'),
    tls_keyfile=dict(type='path', no_log=False),
    tls_cafile=dict(type='path'),
    tls_verify=dict(type='bool', default=True),
    tls_check_hostname=dict(type='bool', default=False),
    tls_server_name=dict(type='str'),
    handshake_version=dict(type='int', default=6, choices=[5, 6]),
    probe_name=dict(type='str'),
    probe_key=dict(type='str', no_log=True),
    timeout=dict(type='float', default=5.0),
)

MUTUALLY_EXCLUSIVE = [('cookie', 'cookie_file')]


MAX_TIMEOUT = 3600.0  # one probe's deadline; a longer one is a typo, not a plan
MAX_HOST = 253  # a DNS name's length; an address is shorter
MAX_ATOM = 255  # node names and cookies are atoms
_HOST = re.compile(r'^[A-Za-z0-9._:%-]+$')


class ParamError(ValueError):
    pass


def check_timeout(value, key='timeout'):
    """A finite, positive number of seconds, at most MAX_TIMEOUT."""
    if value is None or not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise ParamError('%s=%s must be a number of seconds above 0 and at most %d' % (key, value, MAX_TIMEOUT))


def check_host(value, key):
    """An IP address or a host name: ASCII, at most MAX_HOST characters."""
    if value is not None and (len(value) > MAX_HOST or not _HOST.match(value)):
        raise ParamError('%s=%s... must be an IP address or a host name of at most %d characters'
                         % (key, value[:40], MAX_HOST))


def check_node(value, key):
    """name@host, an atom (at most MAX_ATOM characters) whose host part is a host."""
    try:
        dummy, host = split_node(value)
    except ValueError as exc:
        raise ParamError('%s: %s; write it as name@host, e.g. app@10.0.0.5' % (key, exc))
    if len(value) > MAX_ATOM:
        raise ParamError('%s is %d characters: a node name is an atom of at most %d' % (key, len(value), MAX_ATOM))
    check_host(host, key + ' (its host part)')


def _check_port(params, key):
    value = params.get(key)
    if value is not None and not 0 < value < 65536:
        raise ParamError('%s=%s is not a TCP port: use 1-65535' % (key, value))


def connect_kwargs(params, cookie_required=True):
    """(kwargs for node.connect_node/probe, cookie_source, warnings)."""
    node = params.get('node')
    if node:
        check_node(node, 'node')
    elif not (params.get('host') and params.get('port')):
        raise ParamError('set node (name@host, looked up in EPMD), or host and port for an EPMD-less node')
    check_host(params.get('host'), 'host')
    check_host(params.get('tls_server_name'), 'tls_server_name')
    _check_port(params, 'port')
    _check_port(params, 'epmd_port')
    check_timeout(params['timeout'])
    if params.get('probe_name'):
        check_node(params['probe_name'], 'probe_name')

    cookie, source, warnings = cookie_from(params, cookie_required)
    probe_tag.use_key(params.get('probe_key'))

    return dict(
        node=node, host=params.get('host'), port=params.get('port'), epmd_port=params['epmd_port'],
        cookie=cookie, tls=tls_from(params), server_hostname=params.get('tls_server_name'),
        timeout=params['timeout'], version=params['handshake_version'], our_name=params.get('probe_name'),
    ), source, warnings


def tls_from(params):
    """The ssl.SSLContext the tls_* options describe, or None without tls."""
    names = ('tls_certfile', 'tls_keyfile', 'tls_cafile')
    if not params.get('tls'):
        given = [n for n in names if params.get(n)]
        if given:
            raise ParamError('%s given but tls is false: set tls: true for a TLS distribution node' % given[0])
        return None
    for name in names:
        path = params.get(name)
        if path and not os.access(path, os.R_OK):
            raise ParamError('%s=%s is not a readable file on this host' % (name, path))
    if params.get('tls_keyfile') and not params.get('tls_certfile'):
        raise ParamError('tls_keyfile needs tls_certfile, the certificate it belongs to')
    try:
        return tls_context(params.get('tls_certfile'), params.get('tls_keyfile'), params.get('tls_cafile'),
                           verify=params.get('tls_verify', True), check_hostname=params.get('tls_check_hostname'))
    except (ssl.SSLError, OSError) as exc:
        raise ParamError('tls_certfile/tls_keyfile/tls_cafile could not be loaded: %s' % exc)


def cookie_from(params, cookie_required=True, prefix=''):
    """(cookie bytes, its source, warnings) from the cookie/cookie_file options."""
    warnings = []
    if params.get('cookie') == '' or params.get('cookie_file') == '':
        # an unset vault variable, say: never a random cookie in its place
        raise ParamError('%s%s is empty: give the cookie, or leave the option out'
                         % (prefix, 'cookie' if params.get('cookie') == '' else 'cookie_file'))
    if params.get('cookie'):
        try:
            cookie = parse_cookie(params['cookie'].encode('utf-8'))
        except CookieError as exc:
            raise ParamError(prefix + 'cookie: %s' % exc)
        source = 'cookie'
    elif params.get('cookie_file'):
        try:
            cookie, warning = read_cookie_file(params['cookie_file'])
        except CookieError as exc:
            raise ParamError(prefix + 'cookie_file: %s' % exc)
        if warning:
            warnings.append(warning)
        source = 'cookie_file'
    elif cookie_required:
        raise ParamError('set cookie (vault it) or cookie_file (a path on the host that runs this module)')
    else:
        cookie, source = random_cookie(), 'random'
    if len(cookie) > MAX_ATOM:  # from either option
        raise ParamError('%s%s is %d characters: a cookie is an atom of at most %d'
                         % (prefix, source, len(cookie), MAX_ATOM))
    return cookie, source, warnings
