"""Hub-and-spoke verification as tenants grow (issue 14): 10, 100, 1,000 tenants.

Measured, in this run:
- real: 10 OTP tenants on loopback, each with its own cookie, every controller check of verify.yml
  (auth, wrong_cookie, facts, membership, hub_pivot, tenant_cookie).
- simulated: 100 and 1,000 tenants played by this process (one loopback address each, port 9100): each
  completes the handshake with its own cookie only and answers the facts' calls as a hardened OTP 25
  node does (tests/support/hostile_facts.py). The client does all its real work; the peers are cheap.
- the O(N) cookie distinctness (keyed digests) alone.
Modelled (not measured at the large sizes; their inputs are measured here):
- before: every tenant's cookie presented to every other tenant by one dist_auth task per pair
  (N(N-1) loop items at the per-item cost measured below), and every tenant probing all N-1 others
  from its own seat, each probe that the firewall drops waiting the whole timeout, 64 at a time.
- after: no cross-cookie probe at all, and each tenant probes k sampled tenants (verify.yml's
  beamsec_verify_sample, default 5): one timeout per tenant host, all hosts at once.
Target: 1,000 tenants verified in under 60 s on 2 cores.
Usage: python benchmarks/tenant_scale.py [sizes...]
"""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import (  # noqa: E402
    Target, tenant_cookies, verify)
from tests.support.hostile import SEND, _pass_through, fake_handshake, rex_calls, send_frame  # noqa: E402
from tests.support.hostile_facts import normal  # noqa: E402
from tests.support.otp import Epmd, Node, free_port, hardened_args, random_cookie  # noqa: E402

A = etf.Atom
PORT = 9100
TIMEOUT = 3.0       # verify.yml's beamsec_verify_timeout
SAMPLE = 5          # verify.yml's beamsec_verify_sample
CONCURRENCY = 64    # cluster_verify's default
CHECKS = ('auth', 'wrong_cookie', 'facts', 'membership', 'hub_pivot', 'tenant_cookie')
MAX_SIMULATED = 4000  # a bound on the threads and sockets this process makes


class SimulatedTenant:
    """A tenant on its own loopback address: the handshake with its own cookie, then the facts' answers."""

    def __init__(self, index):
        self.address = '127.77.%d.%d' % (index // 250, index % 250 + 1)
        self.name = 'tenant%d@%s' % (index, self.address)
        self.cookie = random_cookie().encode()
        self.server = socket.create_server((self.address, PORT), backlog=64)
        threading.Thread(target=self._accept, daemon=True).start()

    def spec(self):
        return {'name': self.name, 'port': PORT, 'cookie_bytes': self.cookie,
                'expect': {'listen_min': PORT, 'listen_max': PORT}}

    def _accept(self):
        while True:
            try:
                sock, dummy = self.server.accept()
            except OSError:
                return
            sock.settimeout(TIMEOUT * 3)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _answer(self, module, function, args):
        address = tuple(int(p) for p in self.address.split('.'))
        if (module, function) == ('application', 'get_env'):
            env = {'inet_dist_listen_min': PORT, 'inet_dist_listen_max': PORT, 'inet_dist_use_interface': address}
            if str(args[1]) in env:
                return (A('ok'), env[str(args[1])])
        if (module, function) == ('erlang', 'node'):
            return A(self.name)
        if (module, function) == ('sys', 'get_state') and str(args[0]) == 'net_kernel':
            listen = (A('listen'), etf.Port(A(self.name), 1, 1), etf.Pid(A(self.name), 1, 0, 1),
                      (A('net_address'), (address, PORT), 'localhost', A('tcp'), A('inet')), A('inet_tcp_dist'))
            return (A('state'), A(self.name), A('longnames'), [listen])
        return normal(module, function, args)

    def _serve(self, sock):
        with sock:
            try:
                if not fake_handshake(sock, self.cookie, name=self.name.encode())[2]:
                    return
                for caller, ref, module, function, args in rex_calls(sock):
                    reply = self._answer(str(module), str(function), args)
                    send_frame(sock, _pass_through((SEND, A(''), caller), (ref, reply)), 4)
            except (OSError, ValueError, struct.error):
                return

    def stop(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept(); close() alone would not
        except OSError:
            pass
        self.server.close()


def controller_run(specs):
    started = time.perf_counter()
    cpu = time.process_time()
    findings, summary = verify(specs, b'', checks=CHECKS, topology='hub_and_spoke', hubs=[], timeout=TIMEOUT,
                               concurrency=CONCURRENCY)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    bad = [f for f in findings if f['outcome'] != 'ok']
    if bad:
        raise SystemExit('violations on a healthy set of tenants: %r' % bad[:3])
    return elapsed, cpu, summary['findings']


def real(count):
    epmd = Epmd()
    nodes = []
    try:
        for index in range(count):
            port = free_port()
            nodes.append(Node('scale%d' % index, epmd, args=hardened_args(port)))
            nodes[-1].listen = port
        specs = [{'name': n.name, 'epmd_port': epmd.port, 'cookie_bytes': n.cookie.encode(),
                  'expect': {'dist_auto_connect': 'never', 'listen_min': n.listen, 'listen_max': n.listen}}
                 for n in nodes]
        return controller_run(specs)
    finally:
        for node in nodes:
            node.stop()
        epmd.stop()


def simulated(count):
    if count > MAX_SIMULATED:
        raise SystemExit('at most %d simulated tenants' % MAX_SIMULATED)
    tenants = [SimulatedTenant(index) for index in range(count)]
    try:
        return controller_run([t.spec() for t in tenants])
    finally:
        for tenant in tenants:
            tenant.stop()


def distinctness(count):
    targets = [Target({'name': 't%d@10.0.0.1' % i, 'cookie_bytes': os.urandom(32)}, None) for i in range(count)]
    started = time.perf_counter()
    findings = tenant_cookies(targets, set())
    assert all(f['outcome'] == 'ok' for f in findings)
    return time.perf_counter() - started


def loop_item_cost():
    """One dist_auth loop item, as the old verify.yml ran one per tenant pair: the seconds per item, measured on
    a five-item loop against a loopback port that refuses (the cheapest probe there is)."""
    playbook = ('- hosts: localhost\n  gather_facts: false\n  tasks:\n    - beamsec.cluster.dist_auth:\n'
                '        node: t@127.0.0.1\n        port: %d\n        cookie: "%s"\n        timeout: 1\n'
                '      loop: [1, 2, 3, 4, 5]\n      failed_when: false\n' % (free_port(), random_cookie()))
    with tempfile.NamedTemporaryFile('w', suffix='.yml', delete=False) as handle:
        handle.write(playbook)
    try:
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.cache' / 'collections'))
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name('ansible-playbook')), '-i', 'localhost,', '-c', 'local',
                        handle.name], env=env, capture_output=True, check=True, timeout=300)
        return (time.perf_counter() - started) / 5
    finally:
        os.unlink(handle.name)


def main(sizes):
    per_item = loop_item_cost()
    print('measured: one dist_auth loop item %.2f s (the old cross-cookie check ran N(N-1) of them)' % per_item)
    print('%8s %10s %9s %12s %10s %12s | %14s %14s' % (
        'tenants', 'peers', 'findings', 'controller', 'cpu/tenant', 'distinct', 'before (model)', 'after (model)'))
    worst = 0.0
    for size in sizes:
        kind = 'real OTP' if size <= 10 else 'simulated'
        elapsed, cpu, findings = real(size) if size <= 10 else simulated(size)
        pairs = size * (size - 1)
        # before: the controller's cross-cookie loop, then the slowest tenant host's own probes of all N-1 peers
        before = pairs * per_item + -(-(size - 1) // CONCURRENCY) * TIMEOUT
        # after: the controller's run (measured) and every tenant host probing k peers at once: one timeout
        after = elapsed + TIMEOUT
        worst = max(worst, after if size == max(sizes) else 0)
        print('%8d %10s %9d %10.2f s %7.2f ms %9.2f ms | %12.0f s %12.1f s' % (
            size, kind, findings, elapsed, cpu * 1000 / size, distinctness(size) * 1000, before, after))
    print('isolation coverage with k=%d: %s' % (SAMPLE, ', '.join(
        '%d tenants %.1f%% of pairs' % (s, 100.0 * min(SAMPLE, s - 1) / max(1, s - 1)) for s in sizes)))
    print('target: %d tenants verified in < 60 s: %s (%.1f s)' % (max(sizes), 'MET' if worst < 60 else 'MISSED', worst))


if __name__ == '__main__':
    main([int(arg) for arg in sys.argv[1:]] or [10, 100, 1000])
