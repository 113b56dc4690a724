"""The node role's WireGuard files, run for real: two hosts in network namespaces of this test's own, joined by
a bridge (their "public" network), wireguard-go in each (this kernel has no WireGuard module), the role's key tasks
(`wg genkey` into a 0400 file on the host), its peers file, its up script and its ruleset. Over the overlay a
connection to the dist port is accepted; from a third namespace (an outsider) the WireGuard port answers nothing
(the firewall drops it before WireGuard would), and a packet from the public side that claims a peer's overlay
address is dropped."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.tools import tool

HOSTS = {'a': {'public': '192.0.2.1', 'overlay': '10.99.0.1'}, 'b': {'public': '192.0.2.2', 'overlay': '10.99.0.2'}}
OUTSIDER = '192.0.2.9'
PORT = 51820
PLAYBOOK = Path(__file__).parent / 'playbooks' / 'render_wireguard.yml'


def netns(name, *argv, check=True, timeout=30):
    return subprocess.run(['ip', 'netns', 'exec', 'bswg-' + name] + list(argv), capture_output=True, text=True,
                          check=check, timeout=timeout)


@pytest.fixture(scope='module')
def overlay(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which('wireguard-go') or not shutil.which('wg'):
        pytest.skip('needs root, wireguard-go and wg (wireguard-tools)')
    work = tmp_path_factory.mktemp('wireguard')
    names = list(HOSTS) + ['out', 'sw']  # sw: the bridge of their public network, in a namespace of its own
    started = []
    for name in names:
        subprocess.run(['ip', 'netns', 'del', 'bswg-' + name], capture_output=True, check=False)
        subprocess.run(['ip', 'netns', 'add', 'bswg-' + name], check=True)
    try:
        netns('sw', 'ip', 'link', 'add', 'br0', 'type', 'bridge')
        netns('sw', 'ip', 'link', 'set', 'br0', 'up')
        for index, name in enumerate(names[:-1]):
            address = HOSTS[name]['public'] if name in HOSTS else OUTSIDER
            netns('sw', 'ip', 'link', 'add', 'port%d' % index, 'type', 'veth', 'peer', 'name', 'eth0', 'netns',
                  'bswg-' + name)
            netns('sw', 'ip', 'link', 'set', 'port%d' % index, 'master', 'br0', 'up')
            netns(name, 'ip', 'addr', 'add', address + '/24', 'dev', 'eth0')
            netns(name, 'ip', 'link', 'set', 'eth0', 'up')
            netns(name, 'ip', 'link', 'set', 'lo', 'up')
        # the role's own derivations (roles/beamsec/vars) read these; the stat says: no kernel module here
        common = {'ansible_python_interpreter': sys.executable, 'beamsec_cluster_group': 'all', 'dest': str(work),
                  'beamsec_wireguard_dir': str(work),
                  'beamsec_topology': 'mesh', 'node_wireguard_found': {'results': [{}, {'stat': {'exists': False}}]}}
        inventory = {'all': {'vars': common, 'hosts': {
            name: {'beamsec_private_address': host['overlay'], 'beamsec_public_address': host['public'],
                   'node_firewall_peers': [other['overlay'] for other in HOSTS.values() if other is not host],
                   'beamsec_private_wireguard': {'name': 'wg' + name, 'address': host['overlay'] + '/24', 'port': PORT}}
            for name, host in HOSTS.items()}}}
        (work / 'inventory.json').write_text(json.dumps(inventory))
        subprocess.run([tool('ansible-playbook'), '-i', str(work / 'inventory.json'), str(PLAYBOOK)], check=True,
                       capture_output=True, timeout=120)
        for name in HOSTS:
            wg = {'name': 'wg' + name}
            # as the unit runs it: in the foreground, ours to stop by PID
            started.append(subprocess.Popen(['ip', 'netns', 'exec', 'bswg-' + name, 'wireguard-go', '-f', wg['name']],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            netns(name, 'sh', str(work / (wg['name'] + '.up')))
            netns(name, 'nft', '-f', str(work / (wg['name'] + '.nft')))
            # no reverse-path filter (many hosts have none, or a loose one): the ruleset alone must stop a spoof
            netns(name, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.eth0.rp_filter=0')
        keys = dict((name, subprocess.run(['sh', '-c', 'wg pubkey < "$1"', 'sh', str(work / ('wg%s.key' % name))],
                                          capture_output=True, text=True, check=True).stdout.strip()) for name in HOSTS)
        assert all(oct((work / ('wg%s.key' % name)).stat().st_mode & 0o777) == '0o400' for name in HOSTS)
        yield keys
    finally:
        for process in started:
            process.kill()
            process.wait(timeout=10)
        for name in names:
            subprocess.run(['ip', 'netns', 'del', 'bswg-' + name], capture_output=True, check=False)
        for name in HOSTS:
            Path('/var/run/wireguard/wg%s.sock' % name).unlink(missing_ok=True)


ACCEPT = ('import socket; s = socket.socket(); s.bind(("%s", 9100)); s.listen(); s.settimeout(15); '
          'c, a = s.accept(); print(a[0])')
CONNECT = 'import socket, sys; socket.create_connection((sys.argv[1], 9100), 10).close()'
KNOCK = ('import sys; from ansible_collections.beamsec.cluster.plugins.module_utils._dist.wireguard import knock; '
         'print(knock(sys.argv[1], int(sys.argv[2]), 2.0)[0])')
ECHO = ('import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 7001)); '
        's.settimeout(15); d, a = s.recvfrom(2048); s.sendto(d[:8], a)')


def collection_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p.endswith('collections')))


def dropped(name, proto):
    """Packets the ruleset dropped of this protocol's cluster (or WireGuard) ports, by its counters."""
    rules = json.loads(netns(name, 'nft', '-j', 'list', 'chain', 'inet', 'beamsec', 'input').stdout)['nftables']
    total = 0
    for rule in (r['rule'] for r in rules if 'rule' in r):
        kinds = [e for e in rule['expr'] if 'counter' in e or 'drop' in e]
        if 'drop' in str(kinds) and '"protocol": "%s"' % proto in json.dumps(rule['expr']):
            total += sum(e['counter']['packets'] for e in rule['expr'] if 'counter' in e)
    return total


def test_a_peer_reaches_the_dist_port_over_the_overlay(overlay):
    before = dropped('b', 'tcp')
    server = subprocess.Popen(['ip', 'netns', 'exec', 'bswg-b', sys.executable, '-c', ACCEPT % HOSTS['b']['overlay']],
                              stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        netns('a', sys.executable, '-c', CONNECT, HOSTS['b']['overlay'])
        assert server.communicate(timeout=20)[0].strip() == HOSTS['a']['overlay']  # it came through the tunnel
    finally:
        server.kill()
        server.wait()
    shown = netns('a', 'wg', 'show', 'wga', 'latest-handshakes').stdout.split()
    assert shown[0] == overlay['b'] and int(shown[1]) > 0
    assert dropped('b', 'tcp') == before


def test_a_peers_overlay_address_claimed_from_the_public_side_is_dropped(overlay):
    """The outsider sends from b's overlay address, routed at a's public address: a's kernel would take it (the
    address is a's own), the peer rule would admit its source; the rule's interface (the overlay) does not."""
    netns('out', 'ip', 'addr', 'add', HOSTS['b']['overlay'] + '/32', 'dev', 'eth0')
    netns('out', 'ip', 'route', 'add', HOSTS['a']['overlay'] + '/32', 'via', HOSTS['a']['public'],
          'src', HOSTS['b']['overlay'])
    before = dropped('a', 'tcp')
    spoof = netns('out', sys.executable, '-c', CONNECT.replace(', 10)', ', 3)'), HOSTS['a']['overlay'], check=False)
    assert spoof.returncode != 0
    assert dropped('a', 'tcp') > before  # the ruleset dropped it, not only the reply's wrong way back


def knock(port):
    """The verifier's outsider knock (module_utils/_dist/wireguard.py), from the outsider's namespace."""
    return subprocess.run(['ip', 'netns', 'exec', 'bswg-out', sys.executable, '-c', KNOCK, HOSTS['a']['public'],
                           str(port)], capture_output=True, text=True, env=collection_env(), timeout=30,
                          check=False).stdout.strip()


def test_an_outsider_gets_no_answer_from_the_wireguard_port(overlay):
    # the controls: a closed port answers with ICMP, a UDP service that answers anyone is seen to
    assert knock(PORT + 1) == 'refused'
    echo = subprocess.Popen(['ip', 'netns', 'exec', 'bswg-a', sys.executable, '-c', ECHO])
    try:
        time.sleep(0.5)
        assert knock(7001) == 'answered'
    finally:
        echo.kill()
        echo.wait()
    before = dropped('a', 'udp')
    assert knock(PORT) == 'silent'
    assert dropped('a', 'udp') > before  # a mesh lets in the peers' endpoints only
