# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A connection to this machine whose modules run in children of a fork server: for tests that run a role
on many stand-in hosts of this machine (ANSIBLE_CONNECTION_PLUGINS=tests/support/connection_plugins).

Starting a Python that imports ansible.module_utils.basic costs ~0.2 s of CPU per module run, over 90 % of
a task on a local host: the node matrix (97 hosts x ~100 tasks) spent 10 minutes on it. This process
imports it once and forks a child per module run; the child runs the pipelined AnsiballZ wrapper as
`python` would (as __main__, the module's own code from its payload, real subprocesses, real files) and
sends back its exit code, stdout and stderr. Anything else (a command, become, a file transfer) runs as the
local connection runs it. Start the server with `python module_server.py SOCKET` (stop it by its PID) and
point BEAMSEC_MODULE_SERVER at SOCKET."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    author: beamsec.cluster maintainers (@beamsec)
    name: module_server
    short_description: this machine, modules run by a fork server
    description:
        - The local connection, but a pipelined Python module runs in a child of the fork server at
          C(BEAMSEC_MODULE_SERVER) instead of a new interpreter.
    options:
        become_success_timeout:
            type: int
            default: 10
            description: As for the local connection.
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description: As for the local connection.
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

import atexit
import json
import re
import shlex
import os
import signal
import socket
import struct
import sys

# imported once here, inherited by every child (the AnsiballZ payload has the same version's copy)
import ansible.module_utils.basic  # noqa: F401 pylint: disable=unused-import
import ansible.module_utils.common.json  # noqa: F401 pylint: disable=unused-import
from ansible.plugins.connection.local import Connection as LocalConnection

HEADER = struct.Struct('!I')
LIMIT = 64 * 1024 * 1024


def send(conn, *parts):
    for part in parts:
        conn.sendall(HEADER.pack(len(part)) + part)


def receive(conn):
    size = HEADER.unpack(_exactly(conn, HEADER.size))[0]
    if size > LIMIT:
        raise ValueError('message of %d bytes' % size)
    return _exactly(conn, size)


def _exactly(conn, size):
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError('connection closed')
        chunks.append(chunk)
        left -= len(chunk)
    return b''.join(chunks)


def _run(conn):
    """In the child: one module run, as `ENV=... python < wrapper` would do it."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    env = json.loads(receive(conn))
    wrapper = receive(conn)
    os.environ.update(env)
    outputs = [os.memfd_create('stdout'), os.memfd_create('stderr')]
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((null, 0), (outputs[0], 1), (outputs[1], 2)):
        os.dup2(fd, target)
    sys.argv = ['']
    code = 0
    try:
        exec(compile(wrapper, '<stdin>', 'exec'), {'__name__': '__main__', '__builtins__': __builtins__})  # pylint: disable=exec-used
    except SystemExit as status:
        code = status.code if isinstance(status.code, int) else (0 if status.code is None else 1)
    except BaseException:  # pylint: disable=broad-except
        import traceback
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # pylint: disable=protected-access  # what the module registered (its tmpdir's removal)
    sys.stdout.flush()
    sys.stderr.flush()
    results = []
    for fd in outputs:
        os.lseek(fd, 0, os.SEEK_SET)
        results.append(b''.join(iter(lambda fd=fd: os.read(fd, 1 << 20), b'')))
    send(conn, str(code).encode(), *results)


def serve(path):
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(64)
    while True:
        conn, dummy = server.accept()
        if os.fork() == 0:
            server.close()
            try:
                _run(conn)
            finally:
                os._exit(0)
        conn.close()


ASSIGNMENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')


def pipelined_python(cmd, interpreter):
    """The environment of `/bin/sh -c 'NAME=value ... PYTHON && sleep 0'` (a pipelined module) where PYTHON
    is the server's interpreter, else None."""
    try:
        outer = shlex.split(cmd)
        inner = shlex.split(outer[2]) if outer[:2] == ['/bin/sh', '-c'] and len(outer) == 3 else []
    except ValueError:
        return None
    if inner[-3:] != ['&&', 'sleep', '0'] or not all(ASSIGNMENT.match(w) for w in inner[:-4]):
        return None
    if len(inner) < 4 or os.path.realpath(inner[-4]) != os.path.realpath(interpreter):
        return None
    return dict(word.split('=', 1) for word in inner[:-4])


class Connection(LocalConnection):
    transport = 'module_server'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        env = pipelined_python(cmd, sys.executable) if in_data else None
        if env is None or self.become:
            return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(os.environ['BEAMSEC_MODULE_SERVER'])
            send(conn, json.dumps(env).encode(), in_data)
            code = int(receive(conn))
            return code, receive(conn), receive(conn)
        except (OSError, EOFError, ValueError) as error:
            return 1, b'', ('module server: %s' % error).encode()
        finally:
            conn.close()


if __name__ == '__main__':
    serve(sys.argv[1])
