"""The overlay's peers from the inventory: a mesh, a hub and its tenants, and what is refused by name."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beamsec.cluster.plugins.filter.wireguard import wireguard_peers, wireguard_settings


def host(overlay, public='', key='k', **extra):
    return dict({'beamsec_private_address': overlay.split('/')[0], 'beamsec_public_address': public,
                 'beamsec_private_wireguard': {'address': overlay}, 'node_wireguard_public_key': key}, **extra)


HOSTS = {'hub': host('10.99.0.1/24', '192.0.2.1', 'K1', beamsec_hub=True, beamsec_hub_kind='node'),
         't1': host('10.99.0.2/24', '198.51.100.7', 'K2'), 't2': host('10.99.0.3/24', '', 'K3'),
         'v6': host('fd99::4/64', '2001:db8::4', 'K4')}


def test_a_mesh_peers_with_everyone_at_their_public_address():
    peers = wireguard_peers('hub', ['hub', 't1', 't2'], HOSTS)
    assert [(p['host'], p['allowed_ips'], p['endpoint'], p['keepalive']) for p in peers] == [
        ('t1', ['10.99.0.2/32'], '198.51.100.7:51820', 0), ('t2', ['10.99.0.3/32'], '', 0)]  # t2: no public address
    assert wireguard_peers('t1', ['t1', 'v6'], HOSTS)[0]['endpoint'] == '[2001:db8::4]:51820'


def test_a_tenant_peers_with_its_hubs_only_and_dials_out():
    tenant = wireguard_peers('t1', ['hub', 't1', 't2'], HOSTS, 'hub_and_spoke')
    assert [(p['host'], p['endpoint'], p['keepalive']) for p in tenant] == [('hub', '192.0.2.1:51820', 25)]
    hub = wireguard_peers('hub', ['hub', 't1', 't2'], HOSTS, 'hub_and_spoke')
    assert [(p['host'], p['endpoint'], p['public_key']) for p in hub] == [('t1', '', 'K2'), ('t2', '', 'K3')]


def test_an_unknown_key_and_a_bad_address_are_named():
    with pytest.raises(AnsibleFilterError, match='public keys of t2 are unknown'):
        wireguard_peers('hub', ['hub', 't2'], dict(HOSTS, t2=host('10.99.0.3/24', key='')))
    for address in ('10.99.0.1', 'x', '10.99.0.1/33'):  # no prefix: no route to the peers
        with pytest.raises(AnsibleFilterError, match=r'beamsec_private_wireguard.address of hub must be an address'):
            wireguard_settings({'beamsec_private_wireguard': {'address': address}}, 'hub')


def test_sources_are_the_endpoints_addresses_and_unknown_for_names_and_tenants():
    named = dict(HOSTS, t1=host('10.99.0.2/24', '198.51.100.7', 'K2',
                                beamsec_private_wireguard={'address': '10.99.0.2/24', 'endpoint': 'wg.example:51999'}))
    mesh = wireguard_peers('hub', ['hub', 't1', 'v6'], HOSTS)
    assert [p['source'] for p in mesh] == ['198.51.100.7', '2001:db8::4']
    assert [p['source'] for p in wireguard_peers('hub', ['hub', 't1'], named)] == ['']
    assert [p['source'] for p in wireguard_peers('hub', ['hub', 't1'], HOSTS, 'hub_and_spoke')] == ['']


def test_a_tenant_gets_its_address_alone():
    settings = wireguard_settings({'beamsec_private_wireguard': {'address': 'fd99::4/64'}}, 'v6')
    assert (settings['address'], settings['host_address'], settings['network']) == ('fd99::4/64', 'fd99::4/128',
                                                                                    'fd99::/64')
