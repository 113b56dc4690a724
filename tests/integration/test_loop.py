"""One event loop for every probe of a run (loop.Loop): what a busy or failing probe may not do to the others,
on real sockets and a real node."""

import socket
import threading
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node as dist_node, verify, wireguard
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline, open_tcp
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import Refused
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import READ, Loop, run
from tests.support.otp import Epmd, Node, random_cookie

TIMEOUT = 1.0


@pytest.fixture
def silent_port():
    """A port that accepts (the kernel's backlog) and never says a word."""
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def _stall(seconds):
    """A probe that holds the loop without yielding, as a long decode would."""
    time.sleep(seconds)
    yield from ()


def _collect(results, key):
    def done(value, error):
        results[key] = (value, error)
    return done


def test_a_stalled_loop_never_reads_an_open_port_as_filtered(silent_port):
    # the exposure probe starts first and waits for its connect; the stall then holds the loop past its deadline
    target = verify.Target({'name': 'app@127.0.0.1', 'expect': {}}, None)
    loop, results = Loop(8), {}
    loop.spawn(lambda: verify._exposure_dist(target, '127.0.0.1', silent_port, TIMEOUT), _collect(results, 'probe'))
    loop.spawn(lambda: _stall(TIMEOUT * 1.5), _collect(results, 'stall'))
    loop.run()
    finding, error = results['probe'][0][0], results['probe'][1]
    assert error is None
    assert finding['observed'].startswith('open') and finding['outcome'] == 'violation', finding


def _late(steps, seconds):
    """``steps`` with their first wait begun ``seconds`` late, as a busy driver would begin it."""
    wait = next(steps)
    time.sleep(seconds)
    while True:
        try:
            wait = steps.send((yield wait))
        except StopIteration as stop:
            return stop.value


def test_a_connect_looked_at_after_its_deadline_is_still_seen(silent_port):
    # the deadline has passed before the wait begins: the connect that did complete is open, not "no answer"
    run(_late(open_tcp('127.0.0.1', silent_port, Deadline(TIMEOUT)), TIMEOUT * 1.2)).close()


def test_an_answer_that_came_while_the_loop_was_busy_is_seen():
    # The stall wakes alone and holds the loop past the waiter's deadline; the waiter's answer comes meanwhile.
    # When its timer is read, the answer is there: it must be resumed as ready, not as "nothing came".
    waiter, waiter_peer = socket.socketpair()
    staller, staller_peer = socket.socketpair()
    answer = threading.Timer(0.5, waiter_peer.send, (b'x',))

    def wait():
        return (yield waiter, READ, time.monotonic() + TIMEOUT)

    def stall():
        yield staller, READ, time.monotonic() + 10
        time.sleep(TIMEOUT * 1.5)

    loop, results = Loop(8), {}
    loop.spawn(wait, _collect(results, 'waiter'))
    loop.spawn(stall, _collect(results, 'stall'))
    staller_peer.send(b'x')  # the stall's wake-up, before the waiter's answer
    answer.start()
    try:
        loop.run()
    finally:
        answer.cancel()
        for sock in (waiter, waiter_peer, staller, staller_peer):
            sock.close()
    assert results['waiter'] == (True, None), results


def test_a_failing_probe_costs_no_other_probe_its_result():
    epmd = Epmd()
    cookie = random_cookie()
    node = Node('looped', epmd, cookie=cookie)
    try:
        def failing():
            yield from dist_node.probe_steps(node=node.name, epmd_port=epmd.port, cookie=b'x', timeout=TIMEOUT * 5)
            raise RuntimeError('a fault of ours, after a real exchange')
        loop, results = Loop(8), {}
        loop.spawn(failing, _collect(results, 'failing'))
        loop.spawn(lambda: dist_node.probe_steps(node=node.name, epmd_port=epmd.port, cookie=cookie.encode(),
                                                 timeout=TIMEOUT * 5), _collect(results, 'right'))
        loop.spawn(lambda: dist_node.probe_steps(node=node.name, epmd_port=epmd.port, cookie=random_cookie().encode(),
                                                 timeout=TIMEOUT * 5), _collect(results, 'wrong'))
        loop.run()
        assert isinstance(results['failing'][1], RuntimeError)
        assert results['right'][0]['outcome'] == 'accepted', results['right']
        assert results['wrong'][0]['outcome'] == 'rejected', results['wrong']  # the control
    finally:
        node.stop()
        epmd.stop()


def test_a_socket_the_poller_refuses_ends_its_own_probe_only(silent_port):
    """A probe that hands the loop a closed socket (a fault of ours) gets that error as its result, and its
    generator is closed (its finally blocks run); a probe beside it still gets its answer."""
    cleaned = []

    def broken():
        sock = socket.socket()
        sock.close()
        try:
            yield sock, READ, time.monotonic() + TIMEOUT
        finally:
            cleaned.append(True)

    def connect():
        sock = yield from open_tcp('127.0.0.1', silent_port, Deadline(TIMEOUT))
        sock.close()
        return 'connected'
    loop, results = Loop(8), {}
    loop.spawn(broken, _collect(results, 'broken'))
    loop.spawn(connect, _collect(results, 'connect'))
    loop.run()
    assert isinstance(results['broken'][1], (ValueError, OSError)), results['broken']
    assert cleaned == [True]
    assert results['connect'] == ('connected', None)  # the control: the loop went on


def test_a_host_name_is_tried_as_its_addresses(silent_port):
    run(open_tcp('localhost', silent_port, Deadline(TIMEOUT))).close()
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    port = closed.getsockname()[1]  # bound, never listening: refused
    try:
        with pytest.raises(Refused):
            run(open_tcp('localhost', port, Deadline(TIMEOUT)))
    finally:
        closed.close()


@pytest.fixture
def slow_resolver(monkeypatch):
    """Names under .slow.test resolve to 127.0.0.1 after a pause (or to what the test sets), as a slow DNS would."""
    real = socket.getaddrinfo
    conf = {'pause': 0.0, 'answer': None}

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith('.slow.test'):
            time.sleep(conf['pause'])
            return conf['answer'](port) if conf['answer'] else real('127.0.0.1', port, *args, **kwargs)
        return real(host, port, *args, **kwargs)
    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    return conf


def test_a_slow_resolver_does_not_eat_the_connect_s_time(slow_resolver):
    # An open port whose first SYN is dropped (its accept queue is full; the kernel retries ~1 s later), behind a
    # resolver that takes most of the timeout: the connect still gets its time, and the port reads as open.
    slow_resolver['pause'] = TIMEOUT * 2.5  # of a 3 s timeout: 0.5 s left, less than the SYN's retry
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(0)
    port = server.getsockname()[1]
    filler = socket.create_connection(('127.0.0.1', port))
    drain = threading.Timer(TIMEOUT * 2.6, server.accept)  # room again once the first SYN has been dropped
    drain.start()
    try:
        target = verify.Target({'name': 'app@127.0.0.1', 'expect': {}}, None)
        finding = run(verify._exposure_dist(target, 'exposed.slow.test', port, TIMEOUT * 3))[0]
    finally:
        drain.join()
        filler.close()
        server.close()
    assert finding['observed'].startswith('open') and finding['outcome'] == 'violation', finding


def test_an_address_beyond_those_tried_is_never_read_as_closed(slow_resolver, silent_port):
    # eight closed addresses first, the open one ninth: the name is "not tried", never "refused"
    slow_resolver['answer'] = lambda port: [(socket.AF_INET, socket.SOCK_STREAM, 6, '', ('127.0.0.%d' % i, int(port)))
                                            for i in list(range(2, 10)) + [1]]
    target = verify.Target({'name': 'app@127.0.0.1', 'expect': {}}, None)
    finding = run(verify._exposure_dist(target, 'many.slow.test', silent_port, TIMEOUT))[0]
    assert finding['outcome'] == 'violation' and finding['observed'].startswith('not tried'), finding
    slow_resolver['answer'] = lambda port: [(socket.AF_INET, socket.SOCK_STREAM, 6, '', ('127.0.0.%d' % i, int(port)))
                                            for i in list(range(2, 8)) + [1]]
    finding = run(verify._exposure_dist(target, 'many.slow.test', silent_port, TIMEOUT))[0]
    assert finding['observed'].startswith('open'), finding  # the control: seven tried, the open one among them


def test_slow_names_cost_an_honest_node_nothing(slow_resolver):
    # three nodes behind a slow resolver beside a real node: the names are resolved before the loop, at once,
    # so the real node's probes are not held up past their deadline
    slow_resolver['pause'] = TIMEOUT * 0.6
    epmd = Epmd()
    cookie = random_cookie()
    node = Node('honest', epmd, cookie=cookie)
    try:
        specs = [{'name': node.name, 'epmd_port': epmd.port, 'expect': {}}]
        specs += [{'name': 'app@n%d.slow.test' % i, 'port': 9, 'expect': {}} for i in range(3)]
        findings, dummy = verify.verify(specs, cookie.encode(), checks=('auth', 'wrong_cookie'), timeout=TIMEOUT)
        honest = {f['check']: f['outcome'] for f in findings if f['node'] == node.name}
        assert honest == {'auth': 'ok', 'wrong_cookie': 'ok'}, findings
        assert all(f['outcome'] == 'violation' for f in findings if f['node'] != node.name)  # port 9: refused
    finally:
        node.stop()
        epmd.stop()


def test_a_probe_that_wakes_often_adds_no_timers():
    # a peer that makes a probe wake a thousand times (a byte at a time) within one deadline: one timer, not 1,000
    # beside a quiet probe whose earlier deadline keeps its timer first in line
    ours, theirs = socket.socketpair()
    quiet, quiet_peer = socket.socketpair()
    theirs.send(b'x')  # never read: the socket stays ready
    loop, sizes = Loop(4), []

    def wakeful():
        end = time.monotonic() + TIMEOUT * 2
        for dummy in range(1000):
            yield ours, READ, end
            sizes.append(len(loop._timers))

    def silent():
        yield quiet, READ, time.monotonic() + TIMEOUT

    loop.spawn(silent, lambda value, error: None)
    loop.spawn(wakeful, lambda value, error: sizes.append(error))
    try:
        loop.run()
    finally:
        for sock in (ours, theirs, quiet, quiet_peer):
            sock.close()
    assert sizes[-1] is None and max(sizes[:-1]) <= 2, max(sizes[:-1])


def test_an_address_of_a_family_this_host_has_no_socket_for_is_passed_over(slow_resolver, silent_port):
    # as a name's IPv6 address on a host with IPv6 switched off: the next address is tried (and open)
    slow_resolver['answer'] = lambda port: [(socket.AF_PACKET, socket.SOCK_STREAM, 0, '', ('::1', int(port))),
                                            (socket.AF_INET, socket.SOCK_STREAM, 6, '', ('127.0.0.1', int(port)))]
    target = verify.Target({'name': 'app@127.0.0.1', 'expect': {}}, None)
    finding = run(verify._exposure_dist(target, 'two.slow.test', silent_port, TIMEOUT))[0]
    assert finding['observed'].startswith('open'), finding
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))  # bound, never listening: the IPv4 address refuses
    try:
        finding = run(verify._exposure_dist(target, 'two.slow.test', closed.getsockname()[1], TIMEOUT))[0]
    finally:
        closed.close()
    # the IPv6 address was never tried: the name is not closed for it
    assert finding['outcome'] == 'violation' and finding['observed'].startswith('not tried'), finding


def test_a_name_not_resolved_in_time_is_not_tried_never_closed(slow_resolver, silent_port):
    slow_resolver['pause'] = TIMEOUT * 3
    spec = {'name': 'app@127.0.0.1', 'port': silent_port, 'public_addresses': ['late.slow.test'],
            'expect': {'listen_min': silent_port}}
    findings, dummy = verify.verify([spec], None, checks=('exposure',), timeout=TIMEOUT)
    assert findings and all(f['outcome'] == 'violation' and f['observed'].startswith('not tried') for f in findings), \
        findings


def test_a_wireguard_knock_on_a_name_knocks_every_address(slow_resolver):
    """A name with two addresses: nothing listens on the first (ICMP refused), the second answers. The name's
    knock says 'answered', not the first address's 'refused' (a quiet port the outsider check would pass)."""
    loud = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    loud.bind(('127.0.0.2', 0))
    port = loud.getsockname()[1]
    loud.settimeout(TIMEOUT * 3)

    def answer():
        try:
            data, peer = loud.recvfrom(2048)
            loud.sendto(b'not WireGuard: ' + data[:8], peer)
        except OSError:
            pass
    server = threading.Thread(target=answer, daemon=True)
    server.start()
    slow_resolver['answer'] = lambda dummy: [(socket.AF_INET, socket.SOCK_DGRAM, 17, '', ('127.0.0.1', port)),
                                             (socket.AF_INET, socket.SOCK_DGRAM, 17, '', ('127.0.0.2', port))]
    try:
        observed, detail = wireguard.knock('two.slow.test', port, TIMEOUT)
        assert observed == 'answered', detail
        assert '127.0.0.1' in detail and 'refused' in detail  # each address's own result is in the detail
        loud.close()
        assert wireguard.knock('two.slow.test', port, TIMEOUT)[0] in wireguard.QUIET  # the control: none answers
    finally:
        server.join(TIMEOUT * 3)
        loud.close()


def test_a_probe_that_waits_again_on_its_closed_socket_ends_alone():
    mine, mine_peer = socket.socketpair()
    other, other_peer = socket.socketpair()
    results = {}

    def broken():
        yield mine, READ, time.monotonic() + 5  # registered; the peer's byte wakes it
        mine.close()
        yield mine, READ, time.monotonic() + TIMEOUT  # the same (now closed) socket, the same events

    def waiter():
        return (yield other, READ, time.monotonic() + TIMEOUT * 2)

    loop = Loop(4)
    loop.spawn(broken, lambda value, error: results.__setitem__('broken', (value, error)))
    loop.spawn(waiter, lambda value, error: results.__setitem__('waiter', (value, error)))
    mine_peer.send(b'x')
    try:
        loop.run()  # the new code: ValueError out of Loop._wait (_ready_now on a closed socket)
    finally:
        other_peer.send(b'y')
        for sock in (mine_peer, other, other_peer):
            sock.close()
    assert isinstance(results['broken'][1], (ValueError, OSError)), results
    assert 'waiter' in results, results
