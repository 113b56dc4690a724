"""Wrong-cookie handshakes per second from one source address, against a real OTP node, without and with
the node role's firewall (its per-source rate limit), in the same run: the figure issue 17 asks for.

A node (EPMD and `erl`) in one network namespace, the attacker in another (tests/support/netns.py); the
attacker runs the collection's own client in a loop for DURATION seconds, a fresh connection per attempt
(EPMD lookup, then the handshake with a wrong cookie), and counts attempts that got an answer.
Usage (root): python benchmarks/knock_rate.py [DURATION]   (default 5 s)
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node  # noqa: E402
from tests.support.netns import NODE_IP, NODE_NAME, PEER, PEER_IP, node_and_peer, run_in  # noqa: E402
from tests.support.tools import render_ruleset  # noqa: E402

RATE, BURST = 10, 50  # the role's defaults


def attack(duration):
    """In the attacker's namespace: as many wrong-cookie attempts as it can; prints answered, tried, seconds."""
    answered = tried = 0
    started = time.monotonic()
    while time.monotonic() - started < duration:
        report = node.probe(node=NODE_NAME, cookie=b'wrong-cookie-of-the-attacker', timeout=0.5)
        tried += 1
        answered += report['outcome'] == 'rejected'
    print(answered, tried, time.monotonic() - started)


def measure(label, ruleset, duration):
    with node_and_peer('the-benchmark-node-cookie-not-a-secret', ruleset):
        out = run_in(PEER, sys.executable, __file__, '--attack', str(duration), timeout=duration + 60).stdout.split()
    answered, tried, elapsed = int(out[0]), int(out[1]), float(out[2])
    rate = answered / elapsed
    print('%-34s %7.1f rejected handshakes/s (%d of %d attempts in %.1f s)' % (label, rate, answered, tried, elapsed))
    return rate


def main():
    if sys.argv[1:2] == ['--attack']:
        attack(float(sys.argv[2]))
        return
    if os.geteuid() != 0:
        raise SystemExit('needs root: network namespaces and nftables')
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    print('One source (%s) against %s, wrong cookie, %.0f s each, OTP 25' % (PEER_IP, NODE_IP, duration))
    with tempfile.TemporaryDirectory() as work:
        ruleset = Path(work) / 'beamsec.nft'
        render_ruleset(ruleset, peers=[PEER_IP], node_user='daemon', rate=RATE, burst=BURST)
        before = measure('without the firewall', None, duration)
        after = measure('with it (%d/s, burst %d)' % (RATE, BURST), ruleset, duration)
    print('ratio: %.1fx fewer guesses per second' % (before / after if after else float('inf')))


if __name__ == '__main__':
    main()
