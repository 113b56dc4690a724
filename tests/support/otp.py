"""Real OTP nodes and a private EPMD for tests, on loopback, killed by PID."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd as epmd_client, node as dist_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError

LOOPBACK = '127.0.0.1'


def free_port():
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def hardened_args(port, auto_connect='never'):
    """What the roles give a node: connect_all off, dist_auto_connect ``auto_connect`` ('': OTP's default, unset),
    one port on loopback only."""
    return ['-kernel', 'connect_all', 'false'] + (['-kernel', 'dist_auto_connect', auto_connect] if auto_connect else []) + [
        '-kernel', 'inet_dist_listen_min', str(port), '-kernel', 'inet_dist_listen_max', str(port),
        '-kernel', 'inet_dist_use_interface', '{127,0,0,1}']


def random_cookie():
    return secrets.token_urlsafe(32)


def stop(proc, grace=5):
    """Kill what we started, by PID: TERM, then KILL."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class Epmd:
    """`epmd` in the foreground on a free loopback port: no clash with the host's."""

    def __init__(self, address=LOOPBACK):
        self.port = free_port()
        self.address = address
        self.proc = subprocess.Popen(['epmd', '-port', str(self.port), '-address', address],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                epmd_client.names(address, self.port, timeout=1)
                return
            except DistError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError('epmd did not start on port %d' % self.port)
                time.sleep(0.02)

    def stop(self):
        stop(self.proc)


class Node:
    """An `erl` node whose cookie lives in $HOME/.erlang.cookie (0400), never in argv."""

    def __init__(self, name, epmd, cookie=None, args=(), register=True, home=None):
        self.name = name if '@' in name else '%s@%s' % (name, LOOPBACK)
        self.short = self.name.split('@')[0]
        self.cookie = cookie or random_cookie()
        self.epmd = epmd
        self.home = Path(home or tempfile.mkdtemp(prefix='beamsec-node-'))
        self._made_home = home is None  # ours to remove when the node stops
        cookie_file = self.home / '.erlang.cookie'
        if not cookie_file.exists():
            cookie_file.write_text(self.cookie)
            cookie_file.chmod(0o400)
        self.log = self.home / 'node.log'
        self.host = self.name.split('@')[1]
        flag = '-sname' if '.' not in self.host and ':' not in self.host else '-name'
        env = dict(os.environ, HOME=str(self.home))
        if epmd is not None:
            env['ERL_EPMD_PORT'] = str(epmd.port)
        argv = ['erl', '-noshell', '-noinput', flag, self.name, '-start_epmd', 'false'] + list(args)
        with open(self.log, 'wb') as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, cwd=str(self.home))
        if register:
            try:
                self.wait_registered()
            except RuntimeError:
                self.stop()  # a node that failed to come up is still ours to kill
                raise

    def wait_registered(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('node %s exited: %s' % (self.name, self.log.read_text()))
            try:
                self.port = epmd_client.port_please2(self.epmd.address, self.short, self.epmd.port, timeout=1).port
                return
            except DistError:
                time.sleep(0.05)
        raise RuntimeError('node %s never registered: %s' % (self.name, self.log.read_text()))

    def connect(self, **kwargs):
        """A hidden connection to this node with its cookie, through its EPMD (the caller closes it)."""
        kwargs.setdefault('timeout', 5)
        kwargs.setdefault('cookie', self.cookie.encode())
        return dist_node.connect_node(node=self.name, epmd_port=self.epmd.port, **kwargs)

    def wait_listening(self, port, timeout=20):
        """For EPMD-less nodes: wait until the distribution port accepts (the caller stops the node)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('node %s exited: %s' % (self.name, self.log.read_text()))
            try:
                socket.create_connection((self.host if ':' in self.host else LOOPBACK, port), timeout=1).close()
                self.port = port
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('node %s never listened on %d' % (self.name, port))

    def stop(self):
        stop(self.proc)
        if self._made_home:
            shutil.rmtree(self.home, ignore_errors=True)
