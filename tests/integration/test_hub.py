"""The one-way hub against real OTP 25 tenants: it reaches them, and a tenant reaches nothing
through it. Each thing a compromised tenant could try over the hub's link is tried by the
tenant itself (code run on the tenant while the hub is connected)."""

import io
import json
import socket
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf, hub
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.rpc import REG_SEND
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.hub_command import main
from tests.support.otp import Node, random_cookie

A = Atom
TIMEOUT = 1.0  # a status run's, where the tests time one


@pytest.fixture(scope='module')
def tenants(epmd, tmp_path_factory):
    """Two tenants with cookies of their own, a tenants file and 0400 cookie files as the hub role writes."""
    base = tmp_path_factory.mktemp('hub')
    started = [Node('tenant_a', epmd), Node('tenant_b', epmd)]
    entries = []
    for node in started:
        cookie_file = base / node.short
        cookie_file.write_text(node.cookie)
        cookie_file.chmod(0o400)
        entries.append({'name': node.name, 'epmd_port': epmd.port, 'cookie_file': str(cookie_file)})
    config = base / 'tenants.json'
    config.write_text(json.dumps(entries))
    yield started, config, base
    for node in started:
        node.stop()


def command(config, *argv, read=None):
    out = io.StringIO()
    code = main(['--tenants', str(config), '--user', '', '--timeout', '3'] + list(argv), out=out,
                read=read or input)
    return code, out.getvalue()


def test_nodes_reports_each_tenant_and_why(tenants, tmp_path):
    started, config, base = tenants
    entries = json.loads(config.read_text())
    wrong = tmp_path / 'wrong'
    wrong.write_text(random_cookie())
    wrong.chmod(0o400)
    entries += [dict(entries[0], cookie_file=str(wrong)), {'name': 'gone@127.0.0.1', 'port': 1,
                                                           'cookie_file': entries[0]['cookie_file']}]
    more = tmp_path / 'tenants.json'
    more.write_text(json.dumps(entries))
    started_at = time.monotonic()
    code, out = command(more, 'nodes')
    assert time.monotonic() - started_at < 6  # concurrent: one timeout, not one per tenant
    states = [line.split()[1] for line in out.splitlines()]
    assert states == ['up', 'up', 'refused', 'down'] and code == 1
    for node in started:
        assert node.cookie not in out


def test_eval_rpc_and_a_shell_keep_bindings(tenants):
    started, config, dummy = tenants
    code, out = command(config, 'eval', 'tenant_a', 'X = 20 + 1, io:format("hi ~p~n", [X]), {X, node()}.')
    assert code == 0 and out == "hi 21\n{21,'%s'}\n" % started[0].name
    code, out = command(config, 'rpc', started[1].name, 'lists', 'reverse', '[[1, 2, 3]]')
    assert code == 0 and out == '[3,2,1]\n'
    lines = iter(['A = 6', '* 7.', 'A + 1.', 'io:get_line("steal> ").'])

    def read(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError()
    code, out = command(config, 'remote', 'tenant_b', read=read)
    assert code == 0 and '42\n43\n{error,request}\n' in out


def test_a_tenant_prints_no_escape_sequence_on_the_hub(tenants):
    started, config, dummy = tenants
    code, out = command(config, 'eval', 'tenant_a', 'io:put_chars([27, "]0;owned", 7, 27, "[2J"]), ok.')
    assert '\x1b' not in out and '\x07' not in out and out.endswith('ok\n')


ATTEMPTS = {
    # what code on a compromised tenant can do over the hub's link, each run on the tenant
    'rpc to the hub (REG_SEND to rex)': lambda hub_node, hub_pid: (
        'rpc', 'call', [hub_node, A('erlang'), A('node'), [], 1000]),
    'get_cookie on the hub': lambda hub_node, hub_pid: (
        'rpc', 'call', [hub_node, A('erlang'), A('get_cookie'), [], 1000]),
    'a send to a registered name': lambda hub_node, hub_pid: (
        'erlang', 'send', [(A('init'), hub_node), (A('stop'),)]),
    'a send to the hub process': lambda hub_node, hub_pid: ('erlang', 'send', [hub_pid, A('hello')]),
    'spawn on the hub (SPAWN_REQUEST)': lambda hub_node, hub_pid: (
        'rpc', 'call', [A('tenant'), A('erlang'), A('spawn'), [hub_node, A('os'), A('cmd'), ['id']], 1000]),
    'link to the hub process': lambda hub_node, hub_pid: ('erlang', 'link', [hub_pid]),
    'monitor the hub process': lambda hub_node, hub_pid: ('erlang', 'monitor', [A('process'), hub_pid]),
    'exit signal to the hub process': lambda hub_node, hub_pid: ('erlang', 'exit', [hub_pid, A('kill')]),
    'net_kernel call on the hub': lambda hub_node, hub_pid: (
        'gen_server', 'call', [(A('net_kernel'), hub_node), (A('is_auth'), A('x@y')), 1000]),
    'global call on the hub': lambda hub_node, hub_pid: (
        'gen_server', 'call', [(A('global_name_server'), hub_node), A('get_known'), 1000]),
}


@pytest.mark.parametrize('attempt', sorted(ATTEMPTS))
def test_a_compromised_tenant_reaches_nothing_through_the_hub(tenants, attempt):
    started, config, dummy = tenants
    tenant = hub.find(hub.load(str(config)), 'tenant_a')
    session = hub.Session(tenant, 5)
    sent, frame = [], session.conn.frame

    def record(control, message=None):  # every message we send is framed here (rpc writes a round trip at once)
        sent.append((etf.decode(bytes((etf.VERSION,)) + control) if isinstance(control, etf.Encoded) else control)[0])
        return frame(control, message)
    session.conn.frame = record
    try:
        hub_node, hub_pid = session.conn.our_node, session.conn.make_pid()
        module, function, args = ATTEMPTS[attempt](hub_node, hub_pid)
        args = [A(started[0].name) if a == 'tenant' else a for a in args]
        started_at = time.monotonic()
        try:
            answer = session._call(module, function, args)  # pylint: disable=protected-access
        except hub.rpc.BadRpc as exc:
            answer = (A('badrpc'), exc.reason)
        assert time.monotonic() - started_at < 3
        # the hub sent the tenant nothing but its own call: no reply, no spawn, no link, no exit
        assert sent == [REG_SEND], (attempt, sent, answer)
        if 'call' in attempt or 'rpc' in attempt:
            assert answer[0] == 'badrpc' or answer[0] == 'EXIT', (attempt, answer)
        # the link stays, and the hub still works
        assert session.evaluate('1 + 1.') == ('', '2')
        assert hub_node in [str(n) for n in session._call('erlang', 'nodes', [A('hidden')])]
    finally:
        session.close()


@pytest.fixture
def slow_resolver(monkeypatch):
    """Names under .slow.test resolve to 127.0.0.1 after 1.5 timeouts (a tenant's own slow DNS)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith('.slow.test'):
            time.sleep(TIMEOUT * 1.5)
            return real('127.0.0.1', port, *args, **kwargs)
        return real(host, port, *args, **kwargs)
    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)


def test_a_slow_tenant_name_costs_an_honest_tenant_nothing(epmd, tmp_path, slow_resolver):
    node = Node('honest_tenant', epmd)
    try:
        cookie_file = tmp_path / 'cookie'
        cookie_file.write_text(node.cookie)
        cookie_file.chmod(0o400)
        tenants = [hub.Tenant({'name': node.name, 'epmd_port': epmd.port, 'cookie_file': str(cookie_file)}),
                   hub.Tenant({'name': 'other@t.slow.test', 'port': 9, 'cookie_file': str(cookie_file)})]
        states = hub.status(tenants, TIMEOUT)
        assert states[0]['state'] == 'up', states  # HEAD: 'down', "no answer within 1s (at epmd_port_please)"
        assert states[1]['state'] == 'down', states  # the control: port 9 refuses
    finally:
        node.stop()


def test_slow_tenant_names_are_resolved_at_once_not_one_after_another(tmp_path, slow_resolver):
    cookie_file = tmp_path / 'cookie'
    cookie_file.write_text('c' * 32)
    cookie_file.chmod(0o400)
    tenants = [hub.Tenant({'name': 'x@t%d.slow.test' % i, 'port': 9, 'cookie_file': str(cookie_file)})
               for i in range(3)]
    started = time.monotonic()
    states = hub.status(tenants, TIMEOUT)
    elapsed = time.monotonic() - started
    assert [s['state'] for s in states] == ['down'] * 3, states
    assert elapsed < TIMEOUT * 3, elapsed  # the new code: 3 x 1.5 s, one resolver after the other
