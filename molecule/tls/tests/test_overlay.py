"""The WireGuard mesh the tls scenario runs on: the only private network these hosts have (no lab private
network), run by the role's unit now and at boot, the key the host's alone, every peer handshaking at its public
endpoint, and the firewall's overlay rules."""

import re
import time

OVERLAY = 'overlay0'


def test_the_overlay_is_the_only_private_network(host):
    addresses = host.check_output('ip -o -4 addr show').split('\n')
    assert not [line for line in addresses if '10.231.20.' in line]  # lab_public_only: no lab private network
    assert re.search(r'%s\s+inet 10\.231\.40\.1\d/24' % OVERLAY, '\n'.join(addresses))


def test_run_by_the_roles_unit_now_and_at_boot(host):
    unit = host.service('beamsec-wireguard-%s.service' % OVERLAY)
    assert unit.is_enabled and unit.is_running
    assert host.process.filter(comm='wireguard-go')


def test_the_key_is_the_hosts_alone(host):
    key = host.file('/etc/beamsec/wireguard/%s.key' % OVERLAY)
    assert (key.user, key.mode) == ('root', 0o400)
    assert host.file('/etc/beamsec/wireguard').mode == 0o700
    assert host.file('/etc/beamsec').mode == 0o755  # the node's user still reaches its own files below
    assert key.content_string.strip() not in host.file('/etc/beamsec/wireguard/%s.peers' % OVERLAY).content_string


def test_every_peer_handshakes_at_its_public_endpoint(host):
    endpoints = [line.split()[1] for line in host.check_output('wg show %s endpoints' % OVERLAY).splitlines()]
    assert len(endpoints) == 2 and all(re.fullmatch(r'10\.231\.10\.1\d:51820', e) for e in endpoints), endpoints
    shown = host.check_output('wg show %s latest-handshakes' % OVERLAY)
    handshakes = [int(line.split()[1]) for line in shown.splitlines()]
    assert min(handshakes) > time.time() - 300, handshakes


def test_the_firewall_admits_peers_through_the_overlay_and_wireguard_from_their_endpoints(host):
    rules = host.check_output('nft list table inet beamsec')
    # the members' overlay addresses (the node's own among them), on the overlay only
    assert re.search(r'iifname "%s" ip saddr \{ (10\.231\.40\.1\d(, )?){2,3} \} tcp dport' % OVERLAY, rules)
    assert re.search(r'ip saddr \{ 10\.231\.10\.1\d, 10\.231\.10\.1\d \} udp dport 51820 accept', rules)
    assert re.search(r'udp dport 51820 counter packets \d+ bytes \d+ drop', rules)
