"""One event loop for every probe of a run (loop.Loop): what a busy or failing probe may not do to the others,
on real sockets and a real node."""

import socket
import threading
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node as dist_node, verify
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
