"""Fuzz the ETF decoder and every parser that reads a peer's bytes.

Random and mutated inputs (bit flips, byte swaps, truncation, splices, huge
length fields) go to: etf.decode, the EPMD answer parsers, the handshake
(through a real socket pair, framing included) and post-handshake message
reading. Each may raise only the client's own DistError; any other exception,
an input that takes over WATCHDOG seconds, or memory growth is a finding.

    python tests/fuzz/fuzz_dist.py --count 1000000 --seed 1
"""

import argparse
import random
import resource
import signal
import socket
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests'))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd, etf  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Connection, Deadline  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import (  # noqa: E402
    DEFAULT_FLAGS, DFLAG_PUBLISHED, handshake)
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import NodeConnection  # noqa: E402

WATCHDOG = 5.0
A = etf.Atom


class Hang(Exception):
    pass


def _seed_terms():
    node = A('n@h')
    return [
        0, 255, -1, 1 << 70, -(1 << 2100), 1.5, A('ok'), True, (), (1, A('a')), [], [1, 2, 3],
        list(range(300)), etf.ImproperList([1], 2), b'', b'abc', etf.BitBinary(b'\xe0', 3),
        {A('a'): [1, {b'k': 2.0}]}, etf.MapPairs([([1], 2)]), etf.Pid(node, 1, 2, 3),
        etf.Port(node, 1 << 40, 3), etf.Reference(node, 3, (1, 2, 3)), etf.Export(A('m'), A('f'), 2),
        (A('$gen_call'), (etf.Pid(node, 1, 0, 1), etf.Reference(node, 1, (1, 2, 3))),
         (A('call'), A('erlang'), A('node'), [], etf.Pid(node, 1, 0, 1))),
        tuple(range(260)), '\u011d' * 3, [A('x' * 255)],
    ]


def corpus():
    terms = _seed_terms()
    encoded = [etf.encode(t) for t in terms] + [etf.encode(terms, compressed=6)]
    # old and rarer tags, as OTP still reads them
    node = b's\x03n@h'
    encoded += [b'\x83g' + node + b'\0\0\0\1\0\0\0\2\3', b'\x83f' + node + b'\0\0\0\7\1',
                b'\x83e' + node + b'\0\0\0\5\1', b'\x83r\0\1' + node + b'\1\0\0\0\1',
                b'\x83c' + b'1.50000000000000000000e+00'.ljust(31, b'\0'), b'\x83d\0\2ok',
                b'\x83p' + struct.pack('>I', 34) + b'\1' + b'\0' * 16 + b'\0\0\0\0\0\0\0\0s\1m' + b'a\0a\0' + b'X']
    return encoded


def challenge_frame(name=b'peer@h', flags=DEFAULT_FLAGS | DFLAG_PUBLISHED):
    return struct.pack('>cQIIH', b'N', flags, 0x1234, 7, len(name)) + name


def framed(payload, header=2):
    return struct.pack('>H' if header == 2 else '>I', len(payload) & (0xFFFF if header == 2 else 0xFFFFFFFF)) \
        + payload


def handshake_transcripts():
    return [
        framed(b'sok') + framed(challenge_frame()) + framed(b'a' + b'\0' * 16),
        framed(b'salive') + framed(challenge_frame()),
        framed(b'snot_allowed'), framed(b'snok'),
        framed(b'sok') + framed(struct.pack('>cHII', b'n', 5, DEFAULT_FLAGS & 0xFFFFFFFF, 99) + b'old@h'),
        b'\x15\x03\x03\x00\x02\x02\x28',
    ]


def message_streams():
    ctl = etf.encode((2, A(''), etf.Pid(A('n@h'), 1, 0, 1)))
    msg = etf.encode((etf.Reference(A('n@h'), 1, (1, 2, 3)), A('ok')))
    return [framed(b'', 4) + framed(b'p' + ctl + msg, 4), framed(b'p' + ctl, 4), framed(b'\x83' + ctl, 4)]


def epmd_answers():
    return [b'\0\0\x11\x11name a at port 1\nname b at port 2\n',
            b'w\0' + struct.pack('>HBBHHH', 4000, 77, 0, 6, 5, 1) + b'a' + b'\0\0',
            b'w\1']


def mutate(rng, data, pool):
    data = bytearray(data)
    for dummy in range(rng.randint(1, 4)):
        choice = rng.random()
        if not data or choice < 0.1:
            data += bytes(rng.randrange(256) for dummy in range(rng.randint(1, 8)))
        elif choice < 0.35:
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        elif choice < 0.5:
            data[rng.randrange(len(data))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif choice < 0.6:
            del data[rng.randrange(len(data)):]
        elif choice < 0.7:
            pos = rng.randrange(len(data))
            del data[pos:pos + rng.randint(1, 8)]
        elif choice < 0.8:  # a length field gone huge
            pos = rng.randrange(len(data))
            data[pos:pos + 4] = rng.choice((b'\xff\xff\xff\xff', b'\x7f\xff\xff\xff', b'\x00\x10\x00\x00'))
        elif choice < 0.9:
            other = rng.choice(pool)
            cut = rng.randrange(len(other) + 1)
            data[rng.randrange(len(data)):] = other[cut:]
        else:
            pos = rng.randrange(len(data))
            data[pos:pos] = data[pos:pos + rng.randint(1, 16)]
    return bytes(data)


def random_bytes(rng):
    size = rng.choice((1, 2, 5, 16, 64, 300))
    prefix = rng.choice((b'', b'\x83', b'\x83P'))
    return prefix + bytes(rng.randrange(256) for dummy in range(size))


# -- targets: each returns normally or raises DistError


def target_decode(data):
    etf.decode(data)


def target_epmd(data):
    epmd.parse_names(data)
    epmd.parse_port2_resp(data)


def _feed(data):
    ours, theirs = socket.socketpair()
    theirs.sendall(data)
    theirs.shutdown(socket.SHUT_WR)
    return ours, theirs


def target_handshake(data):
    ours, theirs = _feed(data)
    conn = Connection(ours, Deadline(1.0))
    try:
        handshake(conn, 'fuzz@h', b'cookie', version=random.choice((5, 6)))
    finally:
        ours.close()
        theirs.close()


def target_messages(data):
    ours, theirs = _feed(data)
    conn = Connection(ours, Deadline(1.0))
    conn.header = 4
    node = NodeConnection(conn, None, 'fuzz@h', 1, 'h', 1)
    try:
        for dummy in range(3):
            node.recv()
    finally:
        ours.close()
        theirs.close()


def _alarm(signum, frame):
    raise Hang()


def run(count, seed, report_every=0):
    rng = random.Random(seed)
    random.seed(seed)
    pools = {
        target_decode: corpus(),
        target_epmd: epmd_answers(),
        target_handshake: handshake_transcripts(),
        target_messages: message_streams(),
    }
    weights = {target_decode: 0.55, target_epmd: 0.15, target_handshake: 0.15, target_messages: 0.15}
    stats = dict(count=0, seed=seed, accepted=0, errors=0, findings=[], slowest_ms=0.0,
                 per_target=dict((t.__name__, 0) for t in pools))
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    previous = signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    targets = list(pools)
    try:
        for index in range(count):
            target = rng.choices(targets, [weights[t] for t in targets])[0]
            pool = pools[target]
            data = random_bytes(rng) if rng.random() < 0.1 else mutate(rng, rng.choice(pool), pool)
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, WATCHDOG)
            try:
                target(data)
                stats['accepted'] += 1
            except DistError:
                stats['errors'] += 1
            except Hang:
                stats['findings'].append(('hang', target.__name__, data.hex()))
            except Exception as exc:  # pylint: disable=broad-exception-caught
                stats['findings'].append((type(exc).__name__, target.__name__, data.hex()[:400], str(exc)[:200]))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            stats['slowest_ms'] = max(stats['slowest_ms'], (time.monotonic() - t0) * 1000.0)
            stats['per_target'][target.__name__] += 1
            stats['count'] = index + 1
            if report_every and (index + 1) % report_every == 0:
                elapsed = time.monotonic() - started
                print('%d inputs, %d findings, %.0f s' % (index + 1, len(stats['findings']), elapsed), flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    stats['seconds'] = round(time.monotonic() - started, 1)
    stats['slowest_ms'] = round(stats['slowest_ms'], 2)
    stats['maxrss_growth_kib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_start
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=1000000)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    stats = run(args.count, args.seed, report_every=100000)
    findings = stats.pop('findings')
    for key, value in stats.items():
        print('%-18s %s' % (key, value))
    for finding in findings[:20]:
        print('FINDING', finding)
    print('findings           %d' % len(findings))
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
