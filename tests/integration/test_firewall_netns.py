"""The node role's firewall, loaded into network namespaces of this test's own: a real EPMD and a real OTP
node in one (10.78.0.1), a peer in the other (10.78.0.2). Local accounts other than root and the node's
user get a reset from EPMD and the node on every local address; a peer that reconnects at a normal pace
is never limited; a source that floods is dropped past the rate and recorded with its address; the partition
detector's heartbeat comes in from the members alone."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.support.netns import DIST_PORT, NODE, NODE_IP, NODE_NAME, PEER, PEER_IP, node_and_peer, run_in as netns
from tests.support.tools import render_ruleset, run_ansible_module

RATE, BURST = 10, 20
HEARTBEAT = 4370
STRANGER_IP = '10.78.0.3'  # a second address of the peer's namespace, no member's
# the first datagram that reaches HOST:PORT within TIMEOUT seconds: its source, or nothing
LISTEN = '''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
print('ready', flush=True)
try:
    print(s.recvfrom(64)[1][0])
except socket.timeout:
    print('nothing')
'''
SEND = '''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for _ in range(10):
    s.sendto(b'bshb1', (sys.argv[2], int(sys.argv[3])))
    time.sleep(0.1)
'''
# one connection; exit 0 if it was accepted
PROBE = '''
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3]))
s.close()
'''
# count accepted connections of N attempts at a given pace
ATTEMPTS = '''
import socket, sys, time
host, port, count, pause, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
accepted = 0
started = time.monotonic()
for _ in range(count):
    try:
        socket.create_connection((host, port), timeout).close()
        accepted += 1
    except OSError:
        pass
    time.sleep(pause)
print(accepted, time.monotonic() - started)
'''


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which('nft') or not shutil.which('ip'):
        pytest.skip('needs root, nft and ip for network namespaces of its own')
    ruleset = tmp_path_factory.mktemp('firewall') / 'beamsec.nft'
    render_ruleset(ruleset, peers=[PEER_IP], node_user='daemon', local_users=['bin'], rate=RATE, burst=BURST,
                   heartbeat={'port': HEARTBEAT, 'peers': {'app@' + PEER_IP: PEER_IP}})
    with node_and_peer('not-a-secret-the-test-node-only', ruleset):
        netns(PEER, 'ip', 'addr', 'add', STRANGER_IP + '/24', 'dev', 'bsfw1')
        yield ruleset


def reaches(user, address, port):
    argv = ["/usr/bin/python3", "-c", PROBE, address, str(port), "2"]  # a Python every account may run
    if user != 'root':
        argv = ['runuser', '-u', user, '--'] + argv
    return netns(NODE, *argv, check=False).returncode == 0


@pytest.mark.parametrize('address, port', [('127.0.0.1', 4369), (NODE_IP, 4369), (NODE_IP, 9100)])
def test_local_accounts(lab, address, port):
    assert reaches('root', address, port)
    assert reaches('daemon', address, port)  # the node's user
    assert reaches('bin', address, port)  # beamsec_local_users
    assert not reaches('nobody', address, port)


def test_a_peer_at_a_normal_pace_is_never_limited_and_a_flood_is_dropped_and_recorded(lab):
    # 30 connections at ~6 a second: more than the burst, below the rate
    accepted, dummy = netns(PEER, sys.executable, '-c', ATTEMPTS, NODE_IP, '4369', '30', '0.15', '1').stdout.split()
    assert int(accepted) == 30
    assert 'elements' not in netns(NODE, 'nft', 'list', 'set', 'inet', 'beamsec', 'flooders4').stdout
    time.sleep(BURST / RATE)  # the bucket refills
    # as fast as it can: a dropped attempt costs it 50 ms, so at most ~115 of 300 can get through at 10 a second
    accepted, elapsed = netns(PEER, sys.executable, '-c', ATTEMPTS, NODE_IP, '4369', '300', '0', '0.05').stdout.split()
    assert int(accepted) <= BURST + RATE * float(elapsed) + 5, (accepted, elapsed)
    assert int(accepted) < 150, (accepted, elapsed)
    flooders = netns(NODE, 'nft', 'list', 'set', 'inet', 'beamsec', 'flooders4').stdout
    assert PEER_IP in flooders and 'packets' in flooders, flooders


def local_seat(user):
    """cluster_verify's local seat (run_as) in the node's namespace: {check at address:port: observed}."""
    args = {'nodes': [{'name': NODE_NAME, 'public_addresses': ['127.0.0.1', NODE_IP],
                       'expect': {'listen_min': DIST_PORT, 'listen_max': DIST_PORT}}],
            'checks': ['exposure'], 'topology': 'none', 'run_as': user, 'timeout': 2, 'fail_on_violation': False}
    code, out = run_ansible_module('beamsec.cluster.cluster_verify', args, prefix=['ip', 'netns', 'exec', NODE])
    assert code == 0, out
    result = json.loads(out.split('=>', 1)[1].splitlines()[0])
    assert result['summary']['seat'] == user
    return {'%s %s' % (f['check'], f['detail'].split(' ')[-1]): (f['observed'], f['outcome']) for f in result['findings']}


def test_verify_from_the_local_seat_sees_nothing_and_would_see_an_open_host(lab):
    reset = ('no_epmd', 'ok')  # a reset: what EPMD's client calls "no EPMD"
    assert local_seat('nobody') == {
        'exposure_epmd 127.0.0.1:4369': reset, 'exposure_dist 127.0.0.1:9100': ('refused', 'ok'),
        'exposure_epmd %s:4369' % NODE_IP: reset, 'exposure_dist %s:9100' % NODE_IP: ('refused', 'ok')}
    netns(NODE, 'nft', 'delete', 'table', 'inet', 'beamsec')  # the positive control: no firewall
    try:
        seen = local_seat('nobody')
    finally:
        netns(NODE, 'nft', '-f', str(lab))
    assert seen['exposure_epmd %s:4369' % NODE_IP] == ('answered with 1 name(s)', 'violation')
    assert seen['exposure_dist %s:9100' % NODE_IP] == ('open (rejected)', 'violation')
    assert seen['exposure_dist 127.0.0.1:9100'] == ('refused', 'ok')  # the node listens on its private address only


@pytest.mark.parametrize('source, heard', [(PEER_IP, True), (STRANGER_IP, False)])
def test_the_heartbeat_comes_in_from_members_only(lab, source, heard):
    listener = subprocess.Popen(['ip', 'netns', 'exec', NODE, sys.executable, '-c', LISTEN, NODE_IP, str(HEARTBEAT), '3'],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == 'ready'
        netns(PEER, sys.executable, '-c', SEND, source, NODE_IP, str(HEARTBEAT))
        assert listener.stdout.readline().strip() == (source if heard else 'nothing')
    finally:
        listener.kill()
        listener.wait()
