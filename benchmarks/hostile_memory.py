"""Peak memory and time of one verifier run against hostile nodes, next to the same run
against well-behaved ones, in the same run: the verifier runs in a process of its own
(its ru_maxrss is its peak), the nodes in another.

Each fake node completes the handshake with the cookie and answers every facts call with
the case's reply (the largest frame the client takes is 256 KiB). The target: whatever
the nodes send, the verifier's peak stays under 256 MiB. 'seconds' is the verifier's run, which includes
waiting for the fake nodes (the bomb's fleet spends its own time on adler32 of 64 MiB per reply).

    python benchmarks/hostile_memory.py [--nodes 1,16,64]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tests'))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf  # noqa: E402
from tests.support.hostile import HostileNode, Raw  # noqa: E402

COOKIE = b'benchmark-cookie'
FRAME = 250 * 1024  # just under the client's message frame limit


def _list_of(element, count):
    return bytes((etf.LIST_EXT,)) + count.to_bytes(4, 'big') + element * count + bytes((etf.NIL_EXT,))


CASES = {  # made only in the process that serves them
    'normal': lambda: None,  # answers of the right shapes (the baseline; its ports are no real node's)
    'nil_list': lambda: Raw(_list_of(bytes((etf.NIL_EXT,)), FRAME - 64)),  # one empty list per byte
    'tuple_list': lambda: Raw(_list_of(bytes((etf.SMALL_TUPLE_EXT, 1, etf.NIL_EXT)), (FRAME - 64) // 3)),
    'zlib_bomb': lambda: Raw(_list_of(bytes((etf.NIL_EXT,)), 64 << 20), compress=True),  # 64 MiB inflated
    'bignums': lambda: Raw(_list_of(bytes((etf.LARGE_BIG_EXT,)) + (2040).to_bytes(4, 'big') + b'\0'
                                    + b'\xff' * 2040, FRAME // 2048)),
    'binary': lambda: Raw(bytes((etf.BINARY_EXT,)) + (FRAME - 64).to_bytes(4, 'big') + b'b' * (FRAME - 64)),
}


def peak_kib():
    """This process's own peak (VmHWM; ru_maxrss would carry the parent's over fork and exec)."""
    with open('/proc/self/status') as status:
        return int(next(line for line in status if line.startswith('VmHWM:')).split()[1])


def _normal(name):
    # the shapes of tests/integration/test_hostile_facts.py's normal node, for any name
    listen = (etf.Atom('listen'), etf.Port(etf.Atom(name), 1, 1), etf.Pid(etf.Atom(name), 1, 0, 1),
              (etf.Atom('net_address'), ((127, 0, 0, 1), 1), 'h', etf.Atom('tcp'), etf.Atom('inet')),
              etf.Atom('inet_tcp_dist'))
    answers = {('erlang', 'node'): etf.Atom(name), ('erlang', 'nodes'): [], ('init', 'get_argument'): etf.Atom('error'),
               ('os', 'getenv'): False, ('erlang', 'system_info'): '25', ('net_kernel', 'get_net_ticktime'): 60,
               ('net_kernel', 'epmd_module'): etf.Atom('erl_epmd'), ('application', 'get_env'): etf.Atom('undefined')}

    def answer(module, function, args):
        if (module, function) == ('sys', 'get_state'):
            return (etf.Atom('state'), [listen]) if args[0] == 'net_kernel' else \
                (etf.Atom('state'), (etf.Atom('conf'), False, True))
        return answers[(module, function)]
    return answer


def serve(case, count):
    """The fake nodes: print their ports, serve until stdin closes."""
    nodes, reply = [], CASES[case]()
    for index in range(count):
        name = 'n%d@127.0.0.1' % index
        normal = _normal(name)
        nodes.append(HostileNode(COOKIE, normal if reply is None else (lambda m, f, a, r=reply: r), name=name))
    print(json.dumps([(n.name.decode(), n.port) for n in nodes]), flush=True)
    sys.stdin.read()
    for node in nodes:
        node.stop()


def run_verify(targets):
    from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
    specs = [{'name': name, 'port': port} for name, port in targets]
    started = time.monotonic()
    findings, summary = verify(specs, COOKIE, checks=('auth', 'facts'), timeout=10, concurrency=64)
    json.dumps(findings)
    print(json.dumps({'maxrss_kib': peak_kib(),
                      'seconds': round(time.monotonic() - started, 2), 'violations': summary['violations']}))


def measure(case, count):
    fleet = subprocess.Popen([sys.executable, __file__, '--serve', case, str(count)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        targets = fleet.stdout.readline()
        out = subprocess.run([sys.executable, __file__, '--verify', targets], capture_output=True, text=True,
                             check=True, timeout=300).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        fleet.stdin.close()
        fleet.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', default='1,16,64')
    parser.add_argument('--serve', nargs=2)
    parser.add_argument('--verify')
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve[0], int(args.serve[1]))
    if args.verify:
        return run_verify(json.loads(args.verify))
    print('%-11s %6s %12s %8s %10s %10s' % ('case', 'nodes', 'peak MiB', 'seconds', 'x normal', 'violations'))
    worst = 0.0
    for count in [int(n) for n in args.nodes.split(',')]:
        base = measure('normal', count)
        for case in CASES:
            got = base if case == 'normal' else measure(case, count)
            ratio = got['maxrss_kib'] / float(base['maxrss_kib'])
            worst = max(worst, got['maxrss_kib'] / 1024.0)
            row = (case, count, got['maxrss_kib'] / 1024.0, got['seconds'], ratio, got['violations'])
            print('%-11s %6d %12.1f %8.2f %10.2f %10d' % row, flush=True)
    print('worst peak: %.1f MiB (target: under 256 MiB)' % worst)
    return 0


if __name__ == '__main__':
    sys.exit(main())
