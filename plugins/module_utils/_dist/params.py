# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every node-probing module shares, and their checks.

Matches doc_fragments/dist.py. Bad input raises ParamError, whose message
names the option and the fix, before any connection is made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import ssl

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
    timeout=dict(type='float', default=5.0),
)

MUTUALLY_EXCLUSIVE = [('cookie', 'cookie_file')]


class ParamError(ValueError):
    pass


def _check_port(params, key):
    value = params.get(key)
    if value is not None and not 0 < value < 65536:
        raise ParamError('%s=%s is not a TCP port: use 1-65535' % (key, value))


def connect_kwargs(params, cookie_required=True):
    """(kwargs for node.connect_node/probe, cookie_source, warnings)."""
    node = params.get('node')
    if node:
        try:
            split_node(node)
        except ValueError as exc:
            raise ParamError('node: %s; write it as name@host, e.g. app@10.0.0.5' % exc)
    elif not (params.get('host') and params.get('port')):
        raise ParamError('set node (name@host, looked up in EPMD), or host and port for an EPMD-less node')
    _check_port(params, 'port')
    _check_port(params, 'epmd_port')
    if params['timeout'] <= 0:
        raise ParamError('timeout=%s must be a positive number of seconds' % params['timeout'])
    if params.get('probe_name'):
        try:
            split_node(params['probe_name'])
        except ValueError as exc:
            raise ParamError('probe_name: %s' % exc)

    cookie, source, warnings = cookie_from(params, cookie_required)

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

    return cookie, source, warnings
