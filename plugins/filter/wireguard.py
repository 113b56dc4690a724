# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible_collections.beamsec.cluster.plugins.filter.cluster import cluster_members

DEFAULT_PORT = 51820
KEEPALIVE = 25  # seconds: a tenant behind NAT keeps its mapping open to the hub it dialled


def overlay(host_vars, host):
    """A host's overlay settings, checked: name, address (with its prefix), port, endpoint (or None: derived)."""
    wg = host_vars.get('beamsec_private_wireguard') or {}
    if not hasattr(wg, 'get'):
        raise AnsibleFilterError('beamsec_private_wireguard of %s must be a mapping' % host)
    try:
        if '/' not in str(wg.get('address', '')):
            raise ValueError('no prefix: the overlay would have no route to the peers')
        address = ipaddress.ip_interface(str(wg.get('address', '')))
    except ValueError:
        raise AnsibleFilterError('beamsec_private_wireguard.address of %s must be an address with its prefix, '
                                 'e.g. 10.99.0.11/24 or fd99::11/64; got %r' % (host, wg.get('address')))
    port = int(wg.get('port', DEFAULT_PORT))
    if not 0 < port < 65536:
        raise AnsibleFilterError('beamsec_private_wireguard.port of %s must be a UDP port (1-65535)' % host)
    return {'name': str(wg.get('name', 'beamsec0')), 'address': address, 'port': port,
            'endpoint': wg.get('endpoint'), 'keepalive': wg.get('keepalive')}


def _source(endpoint):
    """The address a peer's packets come from: its endpoint's, if that is an address; '' for a name or none
    (a tenant's, learned from its handshakes): the firewall then opens the port to any source."""
    host = endpoint.rsplit(':', 1)[0].strip('[]') if endpoint else ''
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return ''


def _endpoint(settings, host_vars, dials_out):
    if settings['endpoint'] is not None:
        return str(settings['endpoint'])
    public = str(host_vars.get('beamsec_public_address') or '')
    if dials_out or not public:
        return ''  # the others learn it from its handshakes
    return ('[%s]:%d' if ':' in public else '%s:%d') % (public, settings['port'])


def wireguard_peers(host, hosts, hostvars, topology='mesh'):
    """The peers of host's overlay: every member in a mesh; in hub and spoke a tenant's hubs only, a hub's everyone.
    Each with its public key (node_wireguard_public_key, made on the host), the overlay address it may use, where to
    reach it (a tenant: nowhere, it dials out) and the keepalive this host sends it."""
    members = {m['host']: m for m in cluster_members(hosts, hostvars, one_way_hubs=True)}
    if host not in members:
        raise AnsibleFilterError('%s is no member of the cluster' % host)
    spoke = topology == 'hub_and_spoke'
    me = members[host]
    mine = overlay(hostvars[host], host)
    peers, unknown = [], []
    for other, member in sorted(members.items()):
        if other == host or (spoke and not me['hub'] and not member['hub']):
            continue
        host_vars = hostvars[other]
        settings = overlay(host_vars, other)
        key = host_vars.get('node_wireguard_public_key')
        if not key:
            unknown.append(other)
            continue
        dials_out = spoke and not member['hub']
        keepalive = mine['keepalive'] if mine['keepalive'] is not None else (KEEPALIVE if spoke and not me['hub'] else 0)
        endpoint = _endpoint(settings, host_vars, dials_out)
        peers.append({'host': other, 'public_key': str(key), 'endpoint': endpoint, 'source': _source(endpoint),
                      'allowed_ips': [str(ipaddress.ip_network(settings['address'].ip))], 'keepalive': int(keepalive)})
    if unknown:
        raise AnsibleFilterError('the WireGuard public keys of %s are unknown: make every member\'s key first '
                                 '(harden.yml does, for all hosts, before its batches)' % ', '.join(unknown))
    return peers


def wireguard_settings(host_vars, host=''):
    """A host's overlay as the role writes it: name, address with its prefix, the address alone as a host route
    (a tenant's: it routes to its hubs only, so another tenant's address has no route at all), port."""
    settings = overlay(host_vars, host)
    alone = ipaddress.ip_interface(settings['address'].ip)
    return {'name': settings['name'], 'address': str(settings['address']), 'host_address': str(alone),
            'network': str(settings['address'].network), 'port': settings['port']}


class FilterModule(object):

    def filters(self):
        return {'wireguard_peers': wireguard_peers, 'wireguard_settings': wireguard_settings}
