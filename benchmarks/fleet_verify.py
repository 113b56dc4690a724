"""cluster_verify on a fleet of real OTP nodes on loopback (10, 25, 50, 200), against the strongest
erl equivalent measured in the same run: one hidden `erl` node that checks all nodes in
parallel (a process per node: EPMD names, connect with the cookie, the same facts by rpc,
nodes(); then a wrong cookie on a fresh connection), and halts.

Targets (issues 6 and 19): 50 nodes in under 1 s; at most 0.5x the erl equivalent's wall time at 50
nodes and 0.3x at 200; the client's CPU (this process, all its threads) at most 1 ms per node; wall
time per node flat or falling as N grows. The erl run includes its VM start: that is what an operator
running it pays too. The fleet's nodes run with small VM settings (one scheduler, no busy wait), so that
200 of them fit on 2 cores beside the client; the erl checker runs with OTP's defaults.
Usage: python benchmarks/fleet_verify.py [sizes...]   (BENCH_REPEAT runs each, default 3)
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify  # noqa: E402
from tests.support.otp import Epmd, Node, free_port, hardened_args, random_cookie  # noqa: E402

REPEAT = int(os.environ.get('BENCH_REPEAT', '3'))
# a small VM per fleet node: one scheduler, no dirty-scheduler or busy-wait spinning, few processes
SMALL_VM = ['+S', '1:1', '+SDcpu', '1:1', '+SDio', '1', '+A', '1', '+sbwt', 'none', '+sbwtdcpu', 'none',
            '+sbwtdio', 'none', '+P', '4096']
TARGETS = {50: 0.5, 200: 0.3}  # the most cluster_verify may take of the erl checker's wall time
CPU_TARGET_MS = 1.0

# What cluster_verify checks, done by a BEAM: per node, in parallel, EPMD, the right cookie, the live
# settings and nodes(), then a wrong cookie (erlang:set_cookie/2 + disconnect + connect again).
ERL_CHECK = r'''
Nodes = [list_to_atom(N) || N <- string:lexemes(os:getenv("BENCH_NODES"), " ")],
Wrong = list_to_atom(os:getenv("BENCH_WRONG")),
Self = self(),
Check = fun(N) ->
    [_, Host] = string:lexemes(atom_to_list(N), "@"),
    {ok, _} = erl_epmd:names(Host),
    true = net_kernel:connect_node(N),
    Facts = [rpc:call(N, application, get_env, [kernel, K]) || K <- [connect_all, dist_auto_connect,
             inet_dist_listen_min, inet_dist_listen_max, inet_dist_use_interface]],
    false = lists:member({badrpc, nodedown}, Facts),
    _ = rpc:call(N, net_kernel, get_net_ticktime, []),
    _ = rpc:call(N, erlang, nodes, []),
    Cookie = erlang:get_cookie(N),
    true = erlang:disconnect_node(N),
    true = erlang:set_cookie(N, Wrong),
    false = net_kernel:connect_node(N),
    true = erlang:set_cookie(N, Cookie),
    ok
end,
[spawn(fun() -> Self ! {done, N, catch Check(N)} end) || N <- Nodes],
Results = [receive {done, N, R} -> R end || N <- Nodes],
Bad = [R || R <- Results, R =/= ok],
io:format("~p ~p~n", [length(Results), Bad]),
halt(if Bad =:= [] -> 0; true -> 1 end).
'''


def start_fleet(epmd, first, count, cookie):
    def one(index):
        port = free_port()
        node = Node('bench%d' % index, epmd, cookie=cookie, args=hardened_args(port) + SMALL_VM)
        node.listen = port
        return node
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(first, first + count)))


def ours(fleet, cookie):
    specs = [{'name': n.name, 'epmd_port': n.epmd.port, 'public_addresses': [],
              'expect': {'dist_auto_connect': 'never', 'listen_min': n.listen, 'listen_max': n.listen}}
             for n in fleet]
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    findings, summary = verify(specs, cookie.encode(), timeout=5, concurrency=64)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    bad = [f for f in findings if f['outcome'] != 'ok' and f['check'] not in ('membership', 'partition')]  # unjoined
    if bad:
        raise SystemExit('cluster_verify found violations on a healthy fleet: %r' % bad[:3])
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, summary['findings'], cpu


def erl(fleet, epmd, home):
    env = dict(os.environ, HOME=home, ERL_EPMD_PORT=str(epmd.port), BENCH_NODES=' '.join(n.name for n in fleet),
               BENCH_WRONG=random_cookie())
    argv = ['erl', '-noshell', '-noinput', '-hidden', '-name', 'benchcheck@127.0.0.1', '-start_epmd', 'false',
            '-kernel', 'dist_auto_connect', 'never', '-eval', ERL_CHECK]
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit('the erl checker failed: %s%s' % (result.stdout, result.stderr))
    return elapsed


def main(sizes):
    epmd = Epmd()
    cookie = random_cookie()
    home = tempfile.mkdtemp(prefix='beamsec-bench-')
    cookie_file = Path(home) / '.erlang.cookie'
    cookie_file.write_text(cookie)
    cookie_file.chmod(0o400)
    fleet = []
    rows = []
    try:
        for size in sorted(sizes):
            fleet += start_fleet(epmd, len(fleet), size - len(fleet), cookie) if size > len(fleet) else []
            members = fleet[:size]
            ours_runs = [ours(members, cookie) for dummy in range(REPEAT)]
            erl_runs = [erl(members, epmd, home) for dummy in range(REPEAT)]
            mine, theirs = statistics.median(r[0] for r in ours_runs), statistics.median(erl_runs)
            cpu = statistics.median(r[2] for r in ours_runs)
            rows.append((size, ours_runs[0][1], mine, theirs, cpu))
    finally:
        for member in fleet:
            member.stop()
        epmd.stop()
    print('%5s %9s %16s %16s %7s %13s %13s' % ('nodes', 'findings', 'cluster_verify', 'erl checker', 'ratio',
                                               'wall/node', 'CPU/node'))
    for size, findings, mine, theirs, cpu in rows:
        print('%5d %9d %14.3f s %14.3f s %7.2f %10.2f ms %10.2f ms' % (
            size, findings, mine, theirs, mine / theirs, mine * 1000 / size, cpu * 1000 / size))
    for size, findings, mine, theirs, cpu in rows:
        if size in TARGETS:
            print('target at %d nodes: <= %.1fx the erl checker %s' % (
                size, TARGETS[size], 'MET' if mine <= theirs * TARGETS[size] else 'MISSED'))
    print('target: client CPU <= %.1f ms/node %s' % (
        CPU_TARGET_MS, 'MET' if all(r[4] * 1000 / r[0] <= CPU_TARGET_MS for r in rows) else 'MISSED'))
    walls = [r[2] / r[0] for r in rows]
    print('target: wall time per node flat or falling with N %s' % (
        'MET' if all(later <= earlier * 1.1 for earlier, later in zip(walls, walls[1:])) else 'MISSED'))


if __name__ == '__main__':
    main([int(arg) for arg in sys.argv[1:]] or [10, 25, 50, 200])
