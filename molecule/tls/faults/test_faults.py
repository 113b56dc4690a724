"""Faults injected into the hardened TLS lab, each reported by playbooks/verify.yml with the right
status, within the probe timeout plus a small margin, and never as a traceback.

Run by molecule/tls/verify.yml with BEAMSEC_LAB_INVENTORY (the scenario's inventories, comma-separated, in
which beam1 is the vantage point) and BEAMSEC_PKI (the lab CA's directory). Every test
heals what it broke and waits for the mesh to be whole again.
"""

import datetime
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = os.environ.get('BEAMSEC_LAB_INVENTORY')
TIMEOUT = 3.0
MARGIN = 1.5  # seconds over the probe timeout that a whole cluster_verify may take
NODE = {n: 'app@10.231.40.1%d' % n for n in (1, 2, 3)}

pytestmark = pytest.mark.skipif(not INVENTORY, reason='run by molecule/tls/verify.yml on the lab')


def podman(host, *argv, check=True):
    return subprocess.run(['podman', 'exec', 'beamsec-lab-beam%d' % host] + list(argv), capture_output=True,
                          text=True, timeout=120, check=check).stdout.strip()


def tool(host, expression):
    return podman(host, '/usr/local/sbin/beamsec-app', 'eval', expression, check=False)


def playbook(name, *args):
    """One of the collection's playbooks on the lab: (exit status, output)."""
    sources = [arg for source in INVENTORY.split(',') for arg in ('-i', source)]
    argv = [str(Path(sys.executable).with_name('ansible-playbook'))] + sources + [str(ROOT / 'playbooks' / name)]
    result = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=600, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    return result.returncode, result.stdout + result.stderr


def verify(tmp_path):
    code, out = playbook('verify.yml', '-e', 'beamsec_reports_dir=%s' % tmp_path, '-e', 'beamsec_verify_timeout=%s' % TIMEOUT)
    assert 'Traceback' not in out
    report = json.loads((tmp_path / 'verify.json').read_text())
    assert report['summary']['elapsed_ms'] <= (TIMEOUT + MARGIN) * 1000, report['summary']
    return code, report, out


def observed(report, node, check, vantage='controller'):
    found = [f for f in report['findings'] if f['node'] == node and f['check'] == check and f['vantage'] == vantage]
    assert len(found) == 1, (node, check, vantage, found)
    return found[0]['observed'], found[0]['outcome']


def wait_whole(timeout=90):
    """Every node sees both others again (the boot hooks reconnect every 5 s), and its partition detector has
    cleared what it recorded (a round after the link is back)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(tool(n, '{length(nodes()), persistent_term:get(beamsec_partition, none)}.') == '{2,#{}}' for n in NODE):
            return
        time.sleep(2)
    raise AssertionError('the mesh did not heal: %s' % {n: tool(n, 'nodes().') for n in NODE})


def drop_from(host, source, protocol=''):
    """A table of its own on the host that drops what `source` sends it, or its `protocol` only (removed by heal())."""
    only = 'meta l4proto %s ' % protocol if protocol else ''
    podman(host, 'nft', 'add table inet fault; add chain inet fault input { type filter hook input priority -10; '
                        'policy accept; }; add rule inet fault input ip saddr %s %sdrop' % (source, only))


def partition_record(host):
    """The node's own partition record (the boot hook's detector), as the operator tool prints it."""
    return tool(host, 'persistent_term:get(beamsec_partition, none).')


def until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def heal(host):
    podman(host, 'nft', 'delete table inet fault')


def restart_node(host):
    podman(host, 'systemctl', 'restart', 'beam-app')
    wait_whole()


@pytest.fixture(autouse=True)
def healthy():
    wait_whole()
    yield


def test_the_healthy_lab_has_no_violation(tmp_path):
    code, report, out = verify(tmp_path)
    assert code == 0 and report['summary']['violations'] == 0, out[-3000:]
    # the outsider's WireGuard initiation to each node's public address gets no answer (the overlay
    # addresses have no route from the outsider at all)
    public = [f for f in report['findings'] if f['check'] == 'outsider_wireguard' and f['target'].startswith('10.231.10.')]
    assert {f['observed'] for f in public} == {'silent'} and len({f['node'] for f in public}) == 3, public


def test_a_stopped_node(tmp_path):
    podman(3, 'systemctl', 'stop', 'beam-app')
    try:
        code, report, out = verify(tmp_path)
        assert code != 0 and 'violation(s)' in out
        assert observed(report, NODE[3], 'epmd') == ('not registered', 'violation')
        assert observed(report, NODE[3], 'auth') == ('not_registered', 'violation')
        assert observed(report, NODE[3], 'peer_reach', NODE[1]) == ('not_registered', 'violation')
        assert NODE[3] not in observed(report, NODE[1], 'membership')[0]
    finally:
        podman(3, 'systemctl', 'start', 'beam-app')


def test_epmd_stopped(tmp_path):
    podman(3, 'systemctl', 'stop', 'epmd.socket', 'epmd.service')
    try:
        code, report, dummy = verify(tmp_path)
        assert code != 0
        assert observed(report, NODE[3], 'epmd') == ('no_epmd', 'violation')
        assert observed(report, NODE[3], 'auth') == ('no_epmd', 'violation')
        assert observed(report, NODE[3], 'peer_reach', NODE[2]) == ('no_epmd', 'violation')
    finally:
        podman(3, 'systemctl', 'start', 'epmd.socket')
        restart_node(3)  # a node registers with EPMD once, at start


def test_packets_to_one_node_dropped(tmp_path):
    drop_from(3, '10.231.40.0/24')
    try:
        code, report, dummy = verify(tmp_path)
        assert code != 0
        assert observed(report, NODE[3], 'epmd') == ('timeout', 'violation')
        assert observed(report, NODE[3], 'auth') == ('timeout', 'violation')
        assert observed(report, NODE[3], 'peer_reach', NODE[2]) == ('timeout', 'violation')
    finally:
        heal(3)


def _expired_cert(pki, address):
    ca_cert = x509.load_pem_x509_certificate((pki / 'ca.pem').read_bytes())
    ca_key = serialization.load_pem_private_key((pki / 'ca.key').read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=10)).not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address)),
                                                        x509.DNSName(address)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def test_an_expired_certificate(tmp_path):
    cert, key = _expired_cert(Path(os.environ['BEAMSEC_PKI']), '10.231.40.13')
    (tmp_path / 'node.pem').write_bytes(cert)
    (tmp_path / 'node.key').write_bytes(key)
    tls = '/etc/beamsec/cluster-tls/tls'
    podman(3, 'sh', '-c', 'cp -p %s/node.pem %s/node.pem.good && cp -p %s/node.key %s/node.key.good' % ((tls,) * 4))
    try:
        for name in ('node.pem', 'node.key'):
            subprocess.run(['podman', 'cp', str(tmp_path / name), 'beamsec-lab-beam3:%s/%s' % (tls, name)],
                           check=True, timeout=60)
        podman(3, 'sh', '-c', 'chown beam:beam %s/node.key && chmod 0400 %s/node.key && chmod 0444 %s/node.pem'
               % ((tls,) * 3))
        podman(3, 'systemctl', 'restart', 'beam-app')
        time.sleep(3)
        code, report, dummy = verify(tmp_path)
        assert code != 0
        assert observed(report, NODE[3], 'auth') == ('tls_rejected', 'violation')
        assert observed(report, NODE[3], 'peer_reach', NODE[1]) == ('tls_rejected', 'violation')
    finally:
        podman(3, 'sh', '-c', 'mv %s/node.pem.good %s/node.pem && mv %s/node.key.good %s/node.key' % ((tls,) * 4))
        restart_node(3)


def test_two_nodes_partitioned_with_nft(tmp_path):
    """beam2 and beam3 cut off from each other (beam1, the vantage point, still reaches both): their TCP only, so
    each one's partition detector still hears the other (UDP) and records it; the mesh heals by itself (OTP's
    default dist_auto_connect) and the records clear."""
    drop_from(2, '10.231.40.13', 'tcp')
    drop_from(3, '10.231.40.12', 'tcp')
    try:
        # the link would live on until net_ticktime; the drop keeps it from coming back
        tool(2, "erlang:disconnect_node('%s')." % NODE[3])
        tool(3, "erlang:disconnect_node('%s')." % NODE[2])
        # heard but not connected for the hook's interval and two heartbeats (5 + 2 x 2 s)
        assert until(lambda: NODE[3] in partition_record(2) and NODE[2] in partition_record(3), 40), \
            (partition_record(2), partition_record(3))
        code, report, dummy = verify(tmp_path)
        assert [list(record) for record, outcome in (observed(report, NODE[n], 'partition_record') for n in (2, 3))] \
            == [[NODE[3]], [NODE[2]]]
        assert observed(report, NODE[1], 'partition_record') == ({}, 'ok')
        assert code != 0
        assert observed(report, NODE[2], 'membership') == ([NODE[1]], 'violation')
        assert observed(report, NODE[3], 'membership') == ([NODE[1]], 'violation')
        assert observed(report, NODE[3], 'peer_reach', NODE[2]) == ('timeout', 'violation')
        assert observed(report, NODE[1], 'membership')[1] == 'ok'
        assert report['summary']['partitions'] == [sorted(NODE.values())]  # still one group, through beam1
    finally:
        heal(2)
        heal(3)
    wait_whole()  # the mesh whole again and the records cleared


ACTED = '/tmp/beamsec-partition-acted'
# the minority side's action: it notes the peers it lost, then restarts its node in place (init:restart/0 boots the
# node again, boot hook included): 90 s later, so that the test sees the healed network stay apart and verify.yml
# report it meanwhile, even on a loaded machine
RESTART = 'echo "$BEAMSEC_PARTITION_PEERS" > %s; sleep 90; /usr/local/sbin/beamsec-app eval "init:restart()."' % ACTED


def harden_dist(*extra):
    """The node settings only (harden.yml --tags beamsec_dist), each node restarted by its handler."""
    code, out = playbook('harden.yml', '--tags', 'beamsec_dist', *extra)
    assert code == 0 and 'Traceback' not in out, out[-3000:]


def apart(host):
    return tool(host, 'lists:sort(nodes()).')


def test_once_a_partition_stays_until_the_minority_acts(tmp_path):
    """Under once (all three nodes) with a restart as the partition action: beam3 cut off from both others (TCP),
    every node records it and beam3 alone (the minority) runs the action; after the network heals no node reconnects
    by itself (once stays once) until the action restarts beam3, whose boot connects it again."""
    settings = json.dumps({'beamsec_dist_auto_connect': 'once', 'beamsec_partition_action': RESTART})
    harden_dist('-e', settings)
    try:
        wait_whole()
        drop_from(3, '{ 10.231.40.11, 10.231.40.12 }', 'tcp')
        try:
            tool(3, "[erlang:disconnect_node(N) || N <- nodes()].")
            assert until(lambda: all(NODE[3] in partition_record(n) for n in (1, 2))
                         and NODE[1] in partition_record(3) and NODE[2] in partition_record(3), 40), \
                {n: partition_record(n) for n in NODE}
            assert until(lambda: podman(3, 'cat', ACTED, check=False), 10) and \
                podman(3, 'cat', ACTED).split() == [NODE[1], NODE[2]]
        finally:
            heal(3)
        # three of the hooks' rounds (5 s) after the heal: still apart, on every side, and still recorded
        time.sleep(15)
        assert [apart(n) for n in NODE] == ["['%s']" % NODE[2], "['%s']" % NODE[1], '[]'], [apart(n) for n in NODE]
        code, report, dummy = verify(tmp_path)
        assert code != 0
        assert [sorted(observed(report, NODE[n], 'partition_record')[0]) for n in NODE] == \
            [[NODE[3]], [NODE[3]], [NODE[1], NODE[2]]]
        assert {observed(report, NODE[n], 'partition_record')[1] for n in NODE} == {'violation'}
        # the majority never acted; beam3's action restarts it: the mesh is whole, the records cleared
        assert [podman(n, 'cat', ACTED, check=False) for n in (1, 2)] == ['', '']
        wait_whole(150)
    finally:
        podman(3, 'rm', '-f', ACTED)
        harden_dist()
    wait_whole()
