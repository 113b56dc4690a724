"""ETF decode cost per wire byte: hostile inputs next to a normal one of the same size.

Every peer the decoder reads from may be hostile, so what matters is the worst
cost of N wire bytes, not the usual one. For each size this decodes a normal
input (a realistic rpc reply: {Ref, {ok, [{Key, Integer, "text"}...], Binary,
[node name atoms]}}) and then inputs built to be expensive, and prints per case
the wire bytes, the time (CPU time of the decoding process, best of a few runs,
so that a busy machine blurs it less), the peak memory the decode allocates
(tracemalloc) and both as a ratio to the normal input, per wire byte. It ends
with the worst ratios.

Each case runs in a forked child with an address-space limit and a timeout, so
a case that would take hours or gigabytes is reported as such ('>' figures).

    .cache/venv/bin/python benchmarks/decode_cost.py [--sizes 4096,65536,1048576] [--message]

--message decodes as the connection layer does: decode_from with
etf.Budget(etf.MAX_OBJECTS) (when this etf.py has one) instead of decode().
"""

import argparse
import gc
import importlib.util
import itertools
import multiprocessing
import random
import resource
import struct
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError  # noqa: E402

U32 = struct.Struct('>I').pack
V = b'\x83'
MEMORY_LIMIT = 4 << 30  # address space of a case's child
MIN_SECONDS = 0.3       # time each case at least this long (best run counts), at most RUNS runs
RUNS = 7
TRACED_SLOWDOWN = 5
BASELINE_EFFORT = 4     # the normal input is timed this many times longer


# --------------------------------------------------------------------------- inputs

KEYS = ['memory', 'reductions', 'message_queue_len', 'heap_size', 'stack_size', 'total_heap_size',
        'status', 'registered_name', 'current_function', 'initial_call', 'links', 'dictionary']


def normal(size):
    """A realistic rpc reply of exactly ``size`` bytes: about half {atom, integer, string}
    rows, a quarter distinct node name atoms, the rest a binary."""
    A = etf.Atom  # looked up now: --etf may have swapped the module
    ref = etf.Reference(A('beam1@10.0.0.1'), 1712345678, (1, 2, 3))
    rows = [(A(KEYS[i % len(KEYS)]), (i * 7919) % 100000, 'value %d of the row' % i)
            for i in range(max(1, size // 2 // 34))]
    nodes = [A('node%d@host-%d.cluster.internal' % (i, i % 16)) for i in range(max(1, size // 4 // 33))]

    def reply(blob):
        return etf.encode((ref, (A('ok'), rows, blob, nodes)))
    while len(reply(b'')) > size and len(rows) > 1:
        rows.pop()
        if len(nodes) > 1:
            nodes.pop()
    return reply(random.Random(size).randbytes(max(0, size - len(reply(b'')))))


def list_of(size, item, head=b''):
    """A proper list of as many copies of ``item`` as fit in ``size`` bytes."""
    count = max(0, (size - 7 - len(head)) // len(item))
    return V + head + b'l' + U32(count) + item * count + b'j'


def distinct_atoms(size):
    count = max(0, (size - 7) // 5)
    body = b''.join(b'w\x03' + bytes(((i >> 14) & 127, (i >> 7) & 127, i & 127)) for i in range(count))
    return V + b'l' + U32(count) + body + b'j'


def deep_branches(size):
    branch = b'h\x01' * (etf.MAX_DEPTH - 2) + b'j'
    return list_of(size, branch)


def deep_lists(size):
    depth = etf.MAX_DEPTH - 2
    branch = b'l\x00\x00\x00\x01' * depth + b'j' + b'j' * depth
    return list_of(size, branch)


def improper_chain(size):
    count = max(0, (size - 3) // 7)
    return V + b'l\x00\x00\x00\x01a\x01' * count + b'a\x02'


def empty_segments(size):
    count = max(0, (size - 2) // 5)
    return V + b'l\x00\x00\x00\x00' * count + b'j'


def bignum(size):
    count = max(1, size - 7)
    return V + b'o' + U32(count) + b'\x00' + b'\xa5' * count


def map_of(keys, size, encode=None):
    """A map of as many of ``keys`` (an iterable) as fit in ``size`` bytes, each to []."""
    parts, used = [], 6
    for key in keys:
        part = (encode(key) if encode else etf.encode(key)[1:]) + b'j'
        used += len(part)
        if used > size:
            break
        parts.append(part)
    return V + b't' + U32(len(parts)) + b''.join(parts)


def big(value):
    """SMALL_BIG_EXT of an int (what etf.encode makes of one past 32 bits, only faster)."""
    magnitude = abs(value).to_bytes((abs(value).bit_length() + 7) // 8, 'little')
    return b'n' + bytes((len(magnitude), 1 if value < 0 else 0)) + magnitude


def colliding_int_map(size):
    """Keys +-k * (2**61 - 1): every one hashes to 0 in CPython."""
    return map_of((k * sys.hash_info.modulus * (-1) ** k for k in itertools.count(1)), size, big)


def low_bits_int_map(size):
    """Distinct hashes that agree on their low 40 bits: long shared probe sequences."""
    return map_of(((k + 1) << 40 for k in itertools.count()), size, big)


# CPython's tuple hash (xxHash-like, Objects/tupleobject.c) is invertible, lane by lane.
_M64 = (1 << 64) - 1
_P1, _P2, _P5 = 11400714785074694791, 14029467366897019727, 2870177450012600261
_P1_INVERSE, _P2_INVERSE = pow(_P1, -1, 1 << 64), pow(_P2, -1, 1 << 64)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M64


def _lane(acc, h):
    return _rotl((acc + (h & _M64) * _P2) & _M64, 31) * _P1 & _M64


def _lane_input(acc, after):
    """The lane hash h with _lane(acc, h) == after."""
    return ((_rotl(after * _P1_INVERSE & _M64, 33) - acc) * _P2_INVERSE) & _M64


def colliding_tuples(count, prefix=()):
    """``count`` tuples prefix + (a, b), all with one hash; None if this Python hashes tuples otherwise."""
    acc = _P5
    for item in prefix:
        acc = _lane(acc, hash(item))
    target = _lane(_lane(acc, 12345), 1)
    keys, b = [], 1
    while len(keys) < count:
        b += 1
        h = _lane_input(acc, _unlane(target, b))
        h = h - (1 << 64) if h >= 1 << 63 else h
        if abs(h) < sys.hash_info.modulus and h != -1:
            keys.append(prefix + (h, b))
    if len({hash(key) for key in keys[:50]}) != 1:
        return None
    return keys


def _unlane(after, h):
    """The accumulator before a lane of hash h that ends at ``after``."""
    return (_rotl(after * _P1_INVERSE & _M64, 33) - (h & _M64) * _P2) & _M64


def colliding_tuple_map(size):
    keys = colliding_tuples(size // 16)
    return None if keys is None else map_of(keys, size)


def fat_key_small_map(size):
    """32 keys (the largest map still built as a dict) with one hash and a long common prefix,
    so that every probe compares most of a key."""
    prefix = (0,) * max(1, (size - 6) // 32 // 2 - 12)
    keys = colliding_tuples(32, prefix)
    return None if keys is None else map_of(keys, size)


def compressed(inner_body, wire):
    """A COMPRESSED term of ``inner_body`` (a term without the version byte)."""
    deflated = zlib.compress(inner_body, 6)
    return V + b'P' + U32(len(inner_body)) + deflated, len(deflated) + 6 <= wire


def ratio_bomb(size, ratio, element=b'j'):
    """A compressed {[Element, ...], <<noise>>}: as many copies of ``element`` as make it
    inflate about ``ratio`` times, the incompressible noise making up the wire bytes;
    as near ``size`` wire bytes as it gets."""
    noise = random.Random(ratio)
    best = None
    for scale in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05):
        wire = int(size * scale)
        inflated = min((64 << 20) - 64, int(wire * ratio))
        random_part = max(0, int((wire - inflated / 1000) * 0.97))
        count = max(1, (inflated - random_part - 16) // len(element))
        body = b'h\x02l' + U32(count) + element * count + b'j' + b'm' + U32(random_part) \
            + noise.randbytes(random_part)
        data, fits = compressed(body, size)
        if fits:
            return data
        best = data
    return best


def compressed_of(make):
    """``make``'s input, inflated as far as its compressed form still fits ``size``."""
    def build(size):
        best, inflated = None, size
        for dummy in range(8):
            inner = make(inflated)
            data, fits = compressed(inner[1:], size)
            if fits and (best is None or len(data) > len(best)):
                best = data
            if (fits and len(data) > 0.95 * size) or inflated >= 64 << 20:
                break
            inflated = min(64 << 20, int(inflated * size / len(data) * 0.98))
        return best
    return build


def zero_binary_bomb(size):
    body = b'm' + U32(min(64 << 20, size * 1000) - 5) + bytes(min(64 << 20, size * 1000) - 5)
    return compressed(body, size)[0]


CASES = [
    ('normal rpc reply', normal),
    ('list of nils', lambda n: list_of(n, b'j')),
    ('tuple of nils', lambda n: V + b'i' + U32(n - 6) + b'j' * (n - 6)),
    ('list of empty atoms', lambda n: list_of(n, b'w\x00')),
    ('list of distinct atoms', distinct_atoms),
    ('list of 1-tuples of nil', lambda n: list_of(n, b'h\x01j')),
    ('list of 1-pair maps', lambda n: list_of(n, b't\x00\x00\x00\x01a\x00j')),
    ('list of empty maps', lambda n: list_of(n, b't\x00\x00\x00\x00')),
    ('list of 1-char strings', lambda n: list_of(n, b'k\x00\x01\x00')),
    ('list of bitstrings', lambda n: list_of(n, b'M\x00\x00\x00\x01\x01\x80')),
    ('list of pids', lambda n: list_of(n, b'Xw\x00' + b'\x7f\xff\xff\xff' * 3)),
    ('list of 5-word refs', lambda n: list_of(n, b'Z\x00\x05w\x00' + b'\x7f\xff\xff\xff' * 6)),
    ('list of bignums', lambda n: list_of(n, b'n\x08\x00' + b'\xff' * 8)),
    ('list of FLOAT_EXT', lambda n: list_of(n, b'c' + b'1.5e+300'.ljust(31, b'\0'))),
    ('deep tuples, wide', deep_branches),
    ('deep lists, wide', deep_lists),
    ('improper list chain', improper_chain),
    ('empty list segments', empty_segments),
    ('one huge bignum', bignum),
    ('map, colliding int keys', colliding_int_map),
    ('map, colliding tuple keys', colliding_tuple_map),
    ('map, int keys low bits equal', low_bits_int_map),
    ('map, 32 fat colliding keys', fat_key_small_map),
    ('zlib nils, max ratio', lambda n: ratio_bomb(n, 1000)),
    ('zlib nils, ratio 64', lambda n: ratio_bomb(n, 64)),
    ('zlib nils, ratio 12', lambda n: ratio_bomb(n, 12)),
    ('zlib nils, ratio 7', lambda n: ratio_bomb(n, 7)),
    ('zlib deep tuples, ratio 7', lambda n: ratio_bomb(n, 7, b'h\x01' * (etf.MAX_DEPTH - 3) + b'j')),
    ('zlib zero binary', zero_binary_bomb),
    ('zlib empty atoms', compressed_of(lambda n: list_of(n, b'w\x00'))),
    ('zlib colliding int map', compressed_of(colliding_int_map)),
    ('zlib deep tuples', compressed_of(deep_branches)),
]


# --------------------------------------------------------------------------- measuring


def _decoder(message):
    budget_type = getattr(etf, 'Budget', None)
    if message and budget_type is not None:
        def decode(data):
            value, pos = etf.decode_from(data, 0, budget=budget_type(etf.MAX_OBJECTS))
            if pos != len(data):
                raise etf.DecodeError('trailing bytes')
            return value
        return decode
    return etf.decode


def _outcome(decode, data):
    try:
        value = decode(data)
    except DistError as exc:
        return None, 'refused: %s' % str(exc)[:60]
    except MemoryError:
        return None, 'MemoryError (%d GiB limit)' % (MEMORY_LIMIT >> 30)
    except RecursionError:
        return None, 'RecursionError'
    return value, 'decoded %s' % type(value).__name__


def _child(data, message, pipe, effort):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    decode = _decoder(message)
    best, total, runs = None, 0.0, 0
    while runs < RUNS * effort and total < MIN_SECONDS * effort:
        start = time.process_time()
        value, outcome = _outcome(decode, data)
        spent = time.process_time() - start
        del value
        best = spent if best is None else min(best, spent)
        total += spent
        runs += 1
        pipe.send({'seconds': best, 'outcome': outcome})
    pipe.send({'timed': True})
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    value, outcome = _outcome(decode, data)
    peak = tracemalloc.get_traced_memory()[1] - base
    del value
    tracemalloc.stop()
    pipe.send({'peak': peak, 'peak_outcome': outcome})
    pipe.close()


def measure(data, message, timeout, effort=1):
    """{'seconds', 'peak', 'outcome'} for decoding ``data`` in a child; a figure the child
    did not reach in time is missing, and 'timeout' says how long we waited. The traced
    run gets TRACED_SLOWDOWN times the timeout on top: tracemalloc walks the whole Python
    stack at every allocation, which makes deep terms decode some 30 times slower."""
    context = multiprocessing.get_context('fork')
    ours, theirs = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(data, message, theirs, effort), daemon=True)
    child.start()
    theirs.close()
    result = {}
    until = time.monotonic() + timeout
    while 'peak' not in result:
        left = until - time.monotonic()
        if left <= 0 or not ours.poll(left):
            result['timeout'] = timeout
            break
        try:
            result.update(ours.recv())
        except EOFError:
            result.setdefault('outcome', 'child died')
            break
        if result.pop('timed', False):
            until = time.monotonic() + timeout * TRACED_SLOWDOWN
    child.kill()
    child.join()
    if 'peak_outcome' in result and 'outcome' not in result:
        result['outcome'] = result['peak_outcome']
    if 'seconds' not in result:
        result['outcome'] = result.get('outcome', 'timeout')
    return result


def _fmt_time(result):
    if 'seconds' in result:
        return '%9.2f' % (result['seconds'] * 1000.0)
    return '>%8.0f' % (result['timeout'] * 1000.0)


def _fmt_peak(result):
    if 'peak' in result:
        return '%9.0f' % (result['peak'] / 1024.0)
    return '%9s' % '?'


def _ratio(result, key, baseline, size):
    if key in result and key in baseline and baseline[key] > 0:
        return (result[key] / size) / (baseline[key] / baseline['size'])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='4096,65536,1048576,4194304',
                        help='wire sizes in bytes, comma separated')
    parser.add_argument('--timeout', type=float, default=30.0, help='seconds per case')
    parser.add_argument('--message', action='store_true', help='decode with Budget(MAX_OBJECTS) as a message')
    parser.add_argument('--only', default='', help='run the cases whose name contains this')
    parser.add_argument('--etf', help='an etf.py to measure instead of this checkout\'s (say, an older one)')
    args = parser.parse_args()
    if args.etf:
        global etf  # pylint: disable=global-statement
        spec = importlib.util.spec_from_file_location('etf_under_test', args.etf)
        etf = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(etf)
    sizes = [int(s) for s in args.sizes.split(',')]
    mode = 'decode_from with Budget(MAX_OBJECTS)' if args.message and hasattr(etf, 'Budget') else 'decode()'
    print('ETF decode cost per wire byte, %s; ratios are per wire byte against the normal rpc reply' % mode)
    print('%s; Python %s; limits per case: %.0f s, %d GiB address space' % (
        args.etf or 'this checkout', sys.version.split()[0], args.timeout, MEMORY_LIMIT >> 30))
    worst = []
    for size in sizes:
        print()
        heads = ('size %d' % size, 'wire B', 'ms', 'peak KiB', 'time x', 'mem x', 'outcome')
        print('%-30s %9s %9s %9s %7s %7s  %s' % heads, flush=True)
        # The normal reply is timed longer, before and after the others, and its best
        # time counts: drift on a busy machine then makes the ratios larger, not smaller.
        baseline = measure(normal(size), args.message, args.timeout, effort=BASELINE_EFFORT)
        results = []
        for name, make in CASES[1:]:
            if args.only and args.only not in name:
                continue
            data = make(size)
            result = None if data is None else measure(data, args.message, args.timeout)
            results.append((name, data, result))
        again = measure(normal(size), args.message, args.timeout, effort=BASELINE_EFFORT)
        baseline['seconds'] = min(baseline['seconds'], again['seconds'])
        baseline['size'] = size
        for name, data, result in [(CASES[0][0], normal(size), baseline)] + results:
            if result is None:
                print('%-30s (cannot be built on this Python)' % name)
                continue
            tx, mx = _ratio(result, 'seconds', baseline, len(data)), _ratio(result, 'peak', baseline, len(data))
            if 'seconds' not in result:
                tx = float('inf')
            print('%-30s %9d %s %s %7s %7s  %s' % (
                name, len(data), _fmt_time(result), _fmt_peak(result),
                '%.1f' % tx if tx is not None else '?', '%.1f' % mx if mx is not None else '?',
                result.get('outcome', '?')), flush=True)
            if result is not baseline:
                worst.append((tx or 0.0, mx or 0.0, name, size, result))
    print()
    print('Worst ratios (per wire byte, against the normal reply of the same size)')
    for label, index in (('time', 0), ('memory', 1)):
        for entry in sorted(worst, key=lambda e: -e[index])[:5]:
            row = (label, entry[index], entry[2], entry[3], entry[4].get('outcome', '?'))
            print('  %-7s %8.1fx  %-30s size %-8d %s' % row)
    largest = max((e for e in worst if 'peak' in e[4]), key=lambda e: e[4]['peak'], default=None)
    if largest:
        print('Largest peak: %.1f MiB (%s, size %d)' % (largest[4]['peak'] / 1048576.0, largest[2], largest[3]))


if __name__ == '__main__':
    main()
