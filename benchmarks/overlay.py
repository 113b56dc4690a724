"""What the WireGuard overlay costs the verifier: a full handshake probe (right cookie) and an rpc round trip
(erlang:node/0 over rex) against a real OTP node, over the plain private link and over a WireGuard overlay on
that same link, in the same run, alternating (issue 18's figure).

A node in one network namespace, the client in another (tests/support/netns.py: a veth pair); wireguard-go
(userspace, as on the lab's kernel) in both, with keys made for this run in a private temporary directory.
The client is the collection's own (module_utils/_dist), by address and port (the overlay's address reaches the
node under its own name). Usage (root): python benchmarks/overlay.py [PROBES] [CALLS]   (default 200, 2000)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node, rpc  # noqa: E402
from tests.support.netns import DIST_PORT, NODE, NODE_IP, NODE_NAME, PEER, PEER_IP, node_and_peer, run_in  # noqa: E402

COOKIE = 'the-benchmark-node-cookie-not-a-secret'
OVERLAY = {NODE: ('bsov0', '10.99.0.1', PEER_IP), PEER: ('bsov1', '10.99.0.2', NODE_IP)}
PORT = 51820


def measure(probes, calls):
    """In the client's namespace: per path, the median probe (ms) and rpc round trip (us), interleaved."""
    paths = {'plain': NODE_IP, 'overlay': OVERLAY[NODE][1]}
    probe_ms = dict((path, []) for path in paths)
    rpc_us = dict((path, []) for path in paths)
    conns = dict((path, node.connect_node(node=NODE_NAME, host=host, port=DIST_PORT, cookie=COOKIE.encode()))
                 for path, host in paths.items())
    try:
        for dummy in range(probes):
            for path, host in paths.items():
                report = node.probe(node=NODE_NAME, host=host, port=DIST_PORT, cookie=COOKIE.encode(), timeout=5)
                assert report['outcome'] == 'accepted', report
                probe_ms[path].append(report['elapsed_ms'])
        for dummy in range(calls):
            for path, conn in conns.items():
                started = time.perf_counter()
                assert rpc.call(conn, 'erlang', 'node', ()) is not None
                rpc_us[path].append((time.perf_counter() - started) * 1e6)
    finally:
        for conn in conns.values():
            conn.close()
    for path in paths:
        print(path, statistics.median(probe_ms[path]), statistics.median(rpc_us[path]))


def overlay_up(work, started):
    """wireguard-go in both namespaces, each peering with the other over the veth link."""
    keys = {}
    for name, (iface, dummy, dummy2) in OVERLAY.items():
        key = Path(work) / (iface + '.key')
        subprocess.run(['sh', '-c', 'umask 077 && wg genkey > "$1"', 'sh', str(key)], check=True)
        keys[name] = (key, subprocess.run(['wg', 'pubkey'], stdin=key.open(), capture_output=True, text=True,
                                          check=True).stdout.strip())
        started.append(subprocess.Popen(['ip', 'netns', 'exec', name, 'wireguard-go', '-f', iface],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for name, (iface, address, endpoint) in OVERLAY.items():
        other = PEER if name == NODE else NODE
        for dummy in range(100):
            if Path('/var/run/wireguard/%s.sock' % iface).exists():
                break
            time.sleep(0.1)
        run_in(name, 'wg', 'set', iface, 'private-key', str(keys[name][0]), 'listen-port', str(PORT), 'peer',
               keys[other][1], 'allowed-ips', OVERLAY[other][1] + '/32', 'endpoint', '%s:%d' % (endpoint, PORT))
        run_in(name, 'ip', 'address', 'add', address + '/24', 'dev', iface)
        run_in(name, 'ip', 'link', 'set', iface, 'up')


def main():
    if sys.argv[1:2] == ['--measure']:
        measure(int(sys.argv[2]), int(sys.argv[3]))
        return
    if os.geteuid() != 0:
        raise SystemExit('needs root: network namespaces and wireguard-go')
    probes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    started = []
    with tempfile.TemporaryDirectory() as work, node_and_peer(COOKIE, any_address=True):
        try:
            overlay_up(work, started)
            out = run_in(PEER, sys.executable, __file__, '--measure', str(probes), str(calls), timeout=600).stdout
        finally:
            for process in started:
                process.kill()
                process.wait(timeout=10)
            for iface, dummy, dummy2 in OVERLAY.values():
                Path('/var/run/wireguard/%s.sock' % iface).unlink(missing_ok=True)
    figures = dict((line.split()[0], [float(v) for v in line.split()[1:]]) for line in out.splitlines())
    print('OTP 25 node, the collection\'s client; %d probes and %d rpc calls per path, interleaved; '
          'wireguard-go (userspace)' % (probes, calls))
    for path, (probe_ms, rpc_us) in figures.items():
        print('%-8s handshake probe median %7.3f ms   rpc erlang:node() median %7.1f us' % (path, probe_ms, rpc_us))
    (plain_probe, plain_rpc), (over_probe, over_rpc) = figures['plain'], figures['overlay']
    print('overlay overhead: probe %+.3f ms (%.2fx), rpc %+.1f us (%.2fx)'
          % (over_probe - plain_probe, over_probe / plain_probe, over_rpc - plain_rpc, over_rpc / plain_rpc))


if __name__ == '__main__':
    main()
