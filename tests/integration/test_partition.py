"""The partition detector of the boot hook on real OTP nodes (the AXD 301 way): two nodes heartbeat each other over
UDP on their own loopback addresses; a peer heard but not connected is recorded (persistent_term beamsec_partition)
and logged once, and the record clears when the link is back. Under once a lost link stays lost, so both sides
record it; under the default the hook reconnects before the grace ends and nothing is recorded. A stranger without
the cookie can neither fake a partition (a datagram that claims a member with a wrong MAC counts for nothing) nor
is the check blind: the same datagram with the right MAC is heard (the positive control)."""

import hashlib
import hmac
import socket
import struct
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from tests.support.cluster import call
from tests.support.otp import Node, free_port, hardened_args
from tests.support.tools import render_boot_script

INTERVAL = 1  # seconds: the hook's connection rounds and the heartbeat's
COOKIE = 'partition-test-cookie'
ADDRESSES = {'a': '127.0.0.2', 'b': '127.0.0.3'}


def heartbeat(udp, address, peers, action):
    return {'port': udp, 'interval': INTERVAL * 1000, 'grace': 3 * INTERVAL * 1000, 'address': address,
            'action': action, 'peers': peers}


def start(epmd, tmp_path, short, udp, address, peers, auto_connect, started, action='report'):
    port = free_port()
    script = tmp_path / ('%s.script' % short)
    render_boot_script(script, port, port, connect=list(peers), interval=INTERVAL, auto_connect=auto_connect,
                       heartbeat=heartbeat(udp, address, peers, action))
    node = Node(short, epmd, cookie=COOKIE, args=hardened_args(port, auto_connect) + ['-eval', '{ok, ok} = file:script("%s")' % script])
    started.append(node)
    return node


def record(node):
    return call(node, 'persistent_term', 'get', Atom('beamsec_partition'), Atom('none'))


def recorded(members):
    """cluster_verify's partition_record findings on these nodes: {node: (outcome, observed)}."""
    specs = [{'name': m.name, 'epmd_port': m.epmd.port, 'public_addresses': [], 'expect': {'dist_auto_connect': 'once'}}
             for m in members]
    findings, dummy = verify(specs, COOKIE.encode(), checks=('membership',), timeout=5)
    return {f['node']: (f['outcome'], f['observed']) for f in findings if f['check'] == 'partition_record'}


def until(predicate, within):
    end = time.monotonic() + within
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.2)


def pair(epmd, tmp_path, auto_connect, started, action='report', tag=''):
    udp = free_port()
    names = {side: 'part_%s_%s%s@127.0.0.1' % (side, auto_connect or 'always', tag) for side in 'ab'}
    a = start(epmd, tmp_path, names['a'], udp, ADDRESSES['a'], {names['b']: ADDRESSES['b']}, auto_connect, started, action)
    b = start(epmd, tmp_path, names['b'], udp, ADDRESSES['b'], {names['a']: ADDRESSES['a']}, auto_connect, started, action)
    assert until(lambda: b.name in call(a, 'erlang', 'nodes'), 10 * INTERVAL), 'the hook never connected the peer'
    return a, b


def test_under_once_both_sides_record_a_lost_link_and_clear_it_when_it_is_back(epmd, tmp_path):
    started = []
    try:
        a, b = pair(epmd, tmp_path, 'once', started)
        assert record(a) == {} and record(b) == {}
        assert call(b, 'erlang', 'disconnect_node', Atom(a.name)) is True
        # heard but not connected for the grace (3 rounds), then recorded on both sides, with the episode's start
        assert until(lambda: Atom(b.name) in record(a) and Atom(a.name) in record(b), 10 * INTERVAL), (record(a), record(b))
        since = record(a)[Atom(b.name)]
        assert abs(since / 1000 - time.time()) < 30
        assert b.name not in call(a, 'erlang', 'nodes'), 'once reconnected'
        time.sleep(2 * INTERVAL)
        assert record(a) == {Atom(b.name): since}, 'the episode must keep its start'
        # cluster_verify reports each side's record, with the start, between two verify runs alike
        seen = recorded([a, b])
        assert seen[a.name][0] == 'violation' and list(seen[a.name][1]) == [b.name], seen
        assert seen[b.name][0] == 'violation' and list(seen[b.name][1]) == [a.name], seen
        warnings = [line for line in a.log.read_text().splitlines() if 'heard but not connected' in line]
        assert len(warnings) == 1, a.log.read_text()
        # the operator (or the action) heals it: the record clears on both sides
        assert call(a, 'net_kernel', 'connect_node', Atom(b.name)) is True
        assert until(lambda: record(a) == {} and record(b) == {}, 5 * INTERVAL), (record(a), record(b))
        assert 'is connected again' in a.log.read_text()
        assert recorded([a, b]) == {a.name: ('ok', {}), b.name: ('ok', {})}
    finally:
        for node in started:
            node.stop()


def test_under_the_default_the_hook_reconnects_within_the_grace_and_nothing_is_recorded(epmd, tmp_path):
    started = []
    try:
        a, b = pair(epmd, tmp_path, '', started)
        assert call(b, 'erlang', 'disconnect_node', Atom(a.name)) is True
        assert until(lambda: b.name in call(a, 'erlang', 'nodes'), 3 * INTERVAL), 'the default did not reconnect'
        time.sleep(4 * INTERVAL)
        assert record(a) == {} and record(b) == {}
        assert 'heard but not connected' not in a.log.read_text()
    finally:
        for node in started:
            node.stop()


def test_of_two_equal_halves_the_one_without_the_least_name_alone_runs_the_action(epmd, tmp_path):
    acted = tmp_path / 'acted'
    started = []
    try:
        a, b = pair(epmd, tmp_path, 'once', started, action='echo "$BEAMSEC_PARTITION_PEERS" >> %s' % acted, tag='_act')
        assert call(b, 'erlang', 'disconnect_node', Atom(a.name)) is True
        assert until(lambda: Atom(b.name) in record(a) and Atom(a.name) in record(b), 10 * INTERVAL)
        assert until(acted.exists, 5), b.log.read_text() + a.log.read_text()
        time.sleep(2 * INTERVAL)  # the other side had as long to act, had it been wrong
        # a's name is the least: b's side acts, once, with the peer it is apart from
        assert acted.read_text().splitlines() == [a.name]
        assert 'the action exited with status 0' in b.log.read_text()
    finally:
        for node in started:
            node.stop()


def datagram(name, key_cookie, seq):
    body = b'bshb1' + struct.pack('>QB', seq, len(name)) + name.encode()
    key = hmac.new(key_cookie.encode(), b'beamsec heartbeat', hashlib.sha256).digest()
    return body + hmac.new(key, body, hashlib.sha256).digest()


@pytest.mark.parametrize('cookie, heard', [('not-the-cookie', False), (COOKIE, True)])
def test_a_stranger_cannot_fake_a_member_and_the_check_is_not_blind(epmd, tmp_path, cookie, heard):
    """Only node a runs; a socket on b's address sends b's heartbeat, keyed from ``cookie``."""
    started = []
    udp = free_port()
    peer = 'part_ghost_%s@127.0.0.1' % ('right' if heard else 'wrong')
    try:
        a = start(epmd, tmp_path, 'part_alone_%s' % ('right' if heard else 'wrong'), udp, ADDRESSES['a'],
                  {peer: ADDRESSES['b']}, '', started)
        assert until(lambda: record(a) == {}, 5), 'the detector did not start'
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind((ADDRESSES['b'], udp))
            end = time.monotonic() + 6 * INTERVAL
            while time.monotonic() < end:
                sender.sendto(datagram(peer, cookie, int(time.time() * 1000)), (ADDRESSES['a'], udp))
                time.sleep(INTERVAL / 4)
        assert (Atom(peer) in record(a)) is heard, record(a)
    finally:
        for node in started:
            node.stop()
