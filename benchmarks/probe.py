"""Probe and codec speed, each against its baseline measured in the same run.

(a) our in-process probe (EPMD lookup + connect + handshake + ack check), plain and TLS;
(b) the erl baseline: a whole BEAM that pings the node and halts;
(c) erldistpy 0.1.7 doing the same handshake;
(d) ETF decode of a ~1 MB mixed term, ours vs erlang-py 2.0.7.
erldistpy and erlang-py are installed for this script only, into .cache/bench-lib.
The erl baseline reads its cookie from $HOME/.erlang.cookie (not -setcookie, which
would put it in argv); the work it does is the same.
"""

import functools
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / '.cache' / 'bench-lib'
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf, node  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context  # noqa: E402
from tests.support.oracle import EtfOracle  # noqa: E402
from tests.support.otp import Epmd, Node  # noqa: E402
from tests.support.pki import CA, ssl_dist_optfile  # noqa: E402

RUNS = int(os.environ.get('BENCH_RUNS', '500'))
ERL_RUNS = int(os.environ.get('BENCH_ERL_RUNS', '15'))
DECODE_RUNS = 15


def install_baselines():
    if not (LIB / 'erldistpy').exists() or not (LIB / 'erlang.py').exists():
        subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', str(LIB),
                        'erldistpy==0.1.7', 'erlang-py==2.0.7'], check=True)
    sys.path.insert(0, str(LIB))


def timed(func, runs):
    samples = []
    for dummy in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return {'median': statistics.median(samples), 'p90': samples[int(len(samples) * 0.9) - 1], 'runs': runs}


def interleaved(funcs, runs):
    """Time several functions in turn, run by run and in a shuffled order, so
    that drift on the node side (GC, schedulers, the previous connection's
    teardown) falls on all of them alike."""
    samples = [[] for dummy in funcs]
    cpu = [[0.0, 0.0] for dummy in funcs]  # user, system seconds
    triples = list(zip(funcs, samples, cpu))
    order = random.Random(4369)
    for dummy in range(runs):
        order.shuffle(triples)
        for func, bucket, cpu_sums in triples:
            before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            func()
            bucket.append((time.perf_counter() - start) * 1000.0)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu_sums[0] += after.ru_utime - before.ru_utime
            cpu_sums[1] += after.ru_stime - before.ru_stime
    result = []
    for bucket, (user, system) in zip(samples, cpu):
        bucket.sort()
        result.append({'median': statistics.median(bucket), 'p90': bucket[int(len(bucket) * 0.9) - 1], 'runs': runs,
                       'cpu_us': (user + system) * 1e6 / runs, 'user_us': user * 1e6 / runs,
                       'sys_us': system * 1e6 / runs})
    return result


def ours(target, epmd, tls=None):
    report = node.probe(node=target.name, cookie=target.cookie.encode(), epmd_port=epmd.port, tls=tls, timeout=5)
    if report['outcome'] != 'accepted':
        raise RuntimeError(report)


def erl_ping(target, epmd, home, counter=[0]):  # pylint: disable=dangerous-default-value
    counter[0] += 1
    env = dict(os.environ, HOME=str(home), ERL_EPMD_PORT=str(epmd.port))
    subprocess.run(['erl', '-noshell', '-name', 'bench%d@127.0.0.1' % counter[0], '-start_epmd', 'false',
                    '-eval', "pong = net_adm:ping('%s'), halt()." % target.name],
                   env=env, check=True, timeout=60, stdout=subprocess.DEVNULL)


def erldistpy_probe(target, epmd):
    import erldistpy.node as edp  # pylint: disable=import-outside-toplevel,import-error
    from erldistpy.epmd import lookup  # pylint: disable=import-outside-toplevel,import-error
    edp.lookup = functools.partial(lookup, port=epmd.port)  # it has no EPMD port option
    short = target.name.split('@')[0]
    counter = [0]

    def once():
        counter[0] += 1  # a fresh name each time, as ours does: no 'alive' status from the last run
        edp.Node(our_name='edp_bench%d@127.0.0.1' % counter[0], peer_name=short, peer_host='127.0.0.1',
                 cookie=target.cookie).close()
    return once


def line(label, stats, unit='ms'):
    values = (label, stats['median'], unit, stats['p90'], unit, stats['runs'])
    print('  %-44s median %8.3f %s   p90 %8.3f %s   (%d runs)' % values)


def verdict(label, ok):
    print('  %-60s %s' % (label, 'met' if ok else 'NOT MET'))


def main():
    install_baselines()
    import erlang as erlang_py  # pylint: disable=import-outside-toplevel,import-error
    workdir = ROOT / '.cache' / 'bench'
    workdir.mkdir(parents=True, exist_ok=True)
    ca = CA(workdir / 'ca')
    cert, key = ca.issue('node')
    client = ca.issue('client')
    optfile = ssl_dist_optfile(workdir / 'ssl_dist.conf', cert, key, ca.cert_path)
    epmd = Epmd()
    started = []
    try:
        plain = Node('bench_plain', epmd)
        started.append(plain)
        tls_node = Node('bench_tls', epmd, args=['-proto_dist', 'inet_tls', '-ssl_dist_optfile', str(optfile)])
        started.append(tls_node)
        context = tls_context(client[0], client[1], ca.cert_path)
        for target, tls in ((plain, None), (tls_node, context)):
            for dummy in range(10):  # warm both sides up
                ours(target, epmd, tls)

        print('Probe: EPMD lookup + connect + handshake + challenge_ack check, loopback, OTP 25')
        edp = erldistpy_probe(plain, epmd)
        for dummy in range(10):
            edp()
        a_plain, c_edp = interleaved([lambda: ours(plain, epmd), edp], RUNS)
        a_tls = timed(lambda: ours(tls_node, epmd, context), RUNS)
        b_erl = timed(lambda: erl_ping(plain, epmd, plain.home), ERL_RUNS)
        line('(a) beamsec probe, plain TCP', a_plain)
        line('(a) beamsec probe, TLS (mutual, TLS 1.2/1.3)', a_tls)
        line('(b) erl -eval net_adm:ping + halt, a process', b_erl)
        line('(c) erldistpy 0.1.7 Node() + close, plain', c_edp)
        print('  ratios: erl / beamsec = %.0fx; erldistpy / beamsec = %.2fx'
              % (b_erl['median'] / a_plain['median'], c_edp['median'] / a_plain['median']))
        print('  client CPU per probe (mean): beamsec %.0f us (user %.0f, kernel %.0f), erldistpy %.0f us '
              '(user %.0f, kernel %.0f)' % (a_plain['cpu_us'], a_plain['user_us'], a_plain['sys_us'],
                                            c_edp['cpu_us'], c_edp['user_us'], c_edp['sys_us']))

        print('ETF decode of a ~1 MB mixed term made by erlang:term_to_binary/1')
        oracle = EtfOracle()
        try:
            dummy_index, data = oracle.term_to_binary(
                '[{I, <<"payload", I:32>>, list_to_atom("atom_" ++ integer_to_list(I rem 500)), I * 1.5, '
                '"charlist", #{key => I, <<"b">> => [I, -I]}, [1 bsl 70 | I]} || I <- lists:seq(1, 11000)]')
        finally:
            oracle.close()
        ours_decode = timed(lambda: etf.decode(data), DECODE_RUNS)
        theirs_decode = timed(lambda: erlang_py.binary_to_term(data), DECODE_RUNS)
        print('  term size %d bytes' % len(data))
        line('(d) beamsec etf.decode', ours_decode)
        line('(d) erlang-py 2.0.7 binary_to_term', theirs_decode)
        print('  ratio: erlang-py / beamsec = %.2fx' % (theirs_decode['median'] / ours_decode['median']))

        print('Targets')
        verdict('probe median <= 1 ms plain (%.3f ms)' % a_plain['median'], a_plain['median'] <= 1.0)
        verdict('probe median <= 10 ms TLS (%.3f ms)' % a_tls['median'], a_tls['median'] <= 10.0)
        verdict('>= 100x faster than erl (%.0fx)' % (b_erl['median'] / a_plain['median']),
                b_erl['median'] / a_plain['median'] >= 100)
        verdict('no slower than erldistpy (%.2fx)' % (c_edp['median'] / a_plain['median']),
                a_plain['median'] <= c_edp['median'])
        verdict('client CPU per probe below erldistpy\'s (%.0f us vs %.0f us)' % (a_plain['cpu_us'], c_edp['cpu_us']),
                a_plain['cpu_us'] < c_edp['cpu_us'])
        verdict('ETF decode at least as fast as erlang-py (%.2fx)' % (theirs_decode['median'] / ours_decode['median']),
                ours_decode['median'] <= theirs_decode['median'])
    finally:
        for target in started:
            target.stop()
        epmd.stop()


if __name__ == '__main__':
    main()
