# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fork server for pipelined Ansible modules (standard library only): each request (the module's
environment, then its AnsiballZ wrapper) runs in a child, as `ENV=... python < wrapper` would run it, and
gets back the exit code, stdout and stderr. A module run then costs a fork, not a process start (and, in
the lab, not a `podman exec`). Used by the lab's connection (lab/connection_plugins/lab_podman.py: one
server in each lab host) and the tests' (tests/support/connection_plugins/module_server.py).
Run: python fork_server.py SOCKET [LIB] (LIB: a copy of Ansible's modules and module_utils; stop it by its PID)."""

import atexit
import json
import os
import re
import shlex
import signal
import socket
import struct
import sys

HEADER = struct.Struct('!I')
LIMIT = 64 * 1024 * 1024
ASSIGNMENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')


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
        import traceback  # pylint: disable=import-outside-toplevel
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


def preload(lib):
    """Import Ansible's module_utils once, from ``lib`` (a copy of the controller's modules and module_utils:
    the payloads' version; once the package ``ansible`` is imported from there, its modules are found there
    too), so that no child imports them again; as module_server does on a machine that has Ansible."""
    sys.path.insert(0, lib)
    import ansible.module_utils.basic  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
    import ansible.module_utils.common.json  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel


def serve(path):
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
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


def pipelined_python(cmd, ours):
    """The environment of `/bin/sh -c 'NAME=value ... PYTHON && sleep 0'` (a pipelined module) where
    ``ours(PYTHON)`` says PYTHON is the server's interpreter, else None."""
    try:
        outer = shlex.split(cmd)
        inner = shlex.split(outer[2]) if outer[:2] == ['/bin/sh', '-c'] and len(outer) == 3 else []
    except ValueError:
        return None
    if inner[-3:] != ['&&', 'sleep', '0'] or not all(ASSIGNMENT.match(w) for w in inner[:-4]):
        return None
    if len(inner) < 4 or not ours(inner[-4]):
        return None
    return dict(word.split('=', 1) for word in inner[:-4])


def run(path, env, wrapper):
    """(code, stdout, stderr) of one module run by the server at ``path``; OSError when no server is there
    (nothing ran: the caller may run the module another way)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        raise
    try:
        send(conn, json.dumps(env).encode(), wrapper)
        code = int(receive(conn))
        return code, receive(conn), receive(conn)
    except (OSError, EOFError, ValueError) as error:
        return 1, b'', ('fork server: %s' % error).encode()
    finally:
        conn.close()


if __name__ == '__main__':
    if len(sys.argv) > 2:
        preload(sys.argv[2])
    serve(sys.argv[1])
