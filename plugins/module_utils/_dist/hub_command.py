# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``beamsec-hub``: the one-way hub's command (installed by the hub role).

    beamsec-hub nodes                     every tenant: up, down, refused, tls_rejected, with the reason
    beamsec-hub eval TENANT 'Expr.'       evaluate on the tenant, print the value
    beamsec-hub rpc TENANT M F '[Args]'   Module:Function(Args...) on the tenant
    beamsec-hub remote TENANT             a shell on the tenant (bindings kept; Ctrl-D ends it)

Run as root it becomes the hub's own user before it reads anything: the cookies
and the key are that user's alone. Nothing secret is taken from the command line
or the environment, and nothing secret is printed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import pwd
import sys

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.hub import HubError, Session, find, load, status

CONFIG = '/etc/beamsec/hub/tenants.json'


def become(user):
    """Drop root for the hub's user (no supplementary groups), or refuse to run as another one."""
    entry = pwd.getpwnam(user)
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        os.environ['HOME'] = entry.pw_dir
    elif os.geteuid() != entry.pw_uid:
        raise HubError('run as root or as %s: the tenants\' cookies are readable by %s only' % (user, user))


def _show(out, printed, value):
    if printed:
        out.write(printed if printed.endswith('\n') else printed + '\n')
    out.write(value + '\n')


def remote(session, read, out, prompt):
    """Read expressions up to a full stop, evaluate each on the tenant; reconnect once if the link dropped
    (an idle shell misses the tenant's ticks), keeping the bindings."""
    pending = []
    while True:
        try:
            line = read(prompt if not pending else ' ' * (len(prompt) - 3) + '.. ')
        except EOFError:
            out.write('\n')
            return 0
        pending.append(line)
        text = '\n'.join(pending).strip()
        if not text.endswith('.'):
            continue
        pending = []
        try:
            printed, value = session.evaluate(text)
        except DistError:
            bindings = session.bindings
            session.close()
            session.__init__(session.tenant, session.timeout)
            session.bindings = bindings
            printed, value = session.evaluate(text)
        _show(out, printed, value)


def main(argv=None, config=CONFIG, user='beamsec-hub', read=input, out=sys.stdout):
    parser = argparse.ArgumentParser(prog='beamsec-hub', description=__doc__.splitlines()[0])
    parser.add_argument('--tenants', default=config, help='the tenants file (default %(default)s)')
    parser.add_argument('--timeout', type=float, default=3.0, help='seconds per tenant (default %(default)s)')
    parser.add_argument('--user', default=user, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('nodes', help='every tenant and its state')
    one = commands.add_parser('eval', help='evaluate an expression on a tenant')
    one.add_argument('tenant')
    one.add_argument('expression')
    call = commands.add_parser('rpc', help='call Module:Function(Args) on a tenant')
    call.add_argument('tenant')
    call.add_argument('module')
    call.add_argument('function')
    call.add_argument('args', nargs='?', default='[]')
    shell = commands.add_parser('remote', help='a shell on a tenant')
    shell.add_argument('tenant')
    args = parser.parse_args(argv)
    try:
        if args.timeout <= 0:
            raise HubError('--timeout must be a positive number of seconds')
        if args.user:
            become(args.user)
        tenants = load(args.tenants)
        if args.command == 'nodes':
            rows = status(tenants, args.timeout)
            width = max([len(r['tenant']) for r in rows] + [6])
            for row in rows:
                out.write('%-*s  %-12s %s\n' % (width, row['tenant'], row['state'], row['reason']))
            return 0 if all(r['state'] == 'up' for r in rows) else 1
        session = Session(find(tenants, args.tenant), args.timeout)
        try:
            if args.command == 'eval':
                _show(out, *session.evaluate(args.expression))
            elif args.command == 'rpc':
                _show(out, *session.apply(args.module, args.function, args.args))
            else:
                out.write('one-way hub on %s (Ctrl-D ends)\n' % session.tenant.name)
                return remote(session, read, out, '(%s)> ' % session.tenant.short)
        finally:
            session.close()
        return 0
    except (HubError, DistError) as exc:
        sys.stderr.write('beamsec-hub: %s: %s\n' % (getattr(exc, 'outcome', 'error'), exc))
        return 2
