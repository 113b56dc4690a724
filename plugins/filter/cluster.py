# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster as the roles see it: which hosts run distribution, under which node name, and which are hubs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.kernel import AUTO_CONNECT_DEFAULT

DOCUMENTATION = r'''
name: cluster_members
short_description: The distribution nodes of a group of hosts
version_added: 0.1.0
description:
  - For each host of the list that runs distribution (C(beamsec_distribution) not false), its inventory name,
    node name (C(beamsec_node_name)@address), cluster address (C(node_dist_address) where this run has set it,
    else C(beamsec_private_address)), public address (C(beamsec_public_address)) and whether it is a hub
    (C(beamsec_hub)).
  - A hub is one-way (C(beamsec_hub_kind=client), the default) or an Erlang node (C(beamsec_hub_kind=node)). A
    one-way hub runs no Erlang node (the C(beamsec.cluster.hub) role's command reaches the tenants), so it is left
    out unless O(one_way_hubs=true) (tenants' firewalls admit it; nothing probes it).
author: beamsec.cluster maintainers (@beamsec)
positional: hostvars
options:
  _input:
    description: Inventory host names, e.g. C(groups['beam_nodes']).
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  one_way_hubs:
    description: Include the one-way hubs (C(node) is then a label, C(beamsec_hub@address), not an Erlang node).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Node names of the cluster's tenants
  ansible.builtin.debug:
    msg: "{{ groups['beam_nodes'] | beamsec.cluster.cluster_members(hostvars) | rejectattr('hub') | map(attribute='node') }}"
'''

RETURN = r'''
_value:
  description: One dict per member with keys C(host), C(node), C(address), C(public_address), C(hub) and C(one_way).
  type: list
  elements: dict
'''


# What each release flavour calls things unless the inventory says otherwise: the
# role defaults, cluster_members and the playbooks all read them here.
_BEAM = {'node_name': 'app', 'node_user': 'beam', 'node_home': '/var/lib/beam', 'service_name': '',
         'tls_optfile': '', 'connect_all': False}
FLAVOUR_DEFAULTS = {
    'erlang': _BEAM,
    'elixir': _BEAM,
    # RabbitMQ boots through global:sync(), which never returns under connect_all false
    'rabbitmq': {'node_name': 'rabbit', 'node_user': 'rabbitmq', 'node_home': '/var/lib/rabbitmq',
                 'service_name': 'rabbitmq-server', 'tls_optfile': '/etc/rabbitmq/inter_node_tls.config',
                 'connect_all': True},
}


def flavour_default(flavour, key):
    """The default of beamsec_<key> for a flavour ('' where the role derives it from other variables)."""
    if (flavour or 'erlang') not in FLAVOUR_DEFAULTS:
        raise AnsibleFilterError('beamsec_flavour=%s: use erlang (plain erl or a rebar3 release), elixir (a mix '
                                 'release) or rabbitmq' % (flavour,))
    try:
        return FLAVOUR_DEFAULTS[flavour or 'erlang'][key]
    except KeyError:
        raise AnsibleFilterError('flavour_default: no default for %s (there are: %s)'
                                 % (key, ', '.join(sorted(FLAVOUR_DEFAULTS['erlang']))))


def _value(host_vars, key, default):
    value = host_vars.get(key, default) if hasattr(host_vars, 'get') else default
    return default if value is None or value == '' else value


# The boolean settings and their defaults: each is converted here, once, by Ansible's own rules
# (true/false, yes/no, on/off, 1/0 and their strings, as -e k=v and INI files give them).
FLAGS = {'beamsec_distribution': True, 'beamsec_hub': False, 'beamsec_hidden': False, 'beamsec_tls_enabled': False,
         'beamsec_tls_allow_tls12': False, 'beamsec_firewall_enabled': True, 'beamsec_cookie_per_node': False,
         'beamsec_rabbitmq_reset': False, 'beamsec_rabbitmq_cluster_formation': True}


def flag(host_vars, key, default=None):
    """A boolean setting as a bool; anything Ansible would not read as one is an error naming the variable."""
    value = _value(host_vars, key, FLAGS[key] if default is None else default)
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleFilterError('%s=%s is not a boolean: use true or false' % (key, value))


# A hub is the collection's own client unless the inventory asks for an Erlang node
# (symmetric distribution: every tenant can then call it back, see hub_pivot).
HUB_KINDS = ('client', 'node')


def hub_kind(host_vars):
    """'client' (the one-way hub) or 'node' (an Erlang hub) for a hub's variables."""
    kind = _value(host_vars, 'beamsec_hub_kind', HUB_KINDS[0])
    if kind not in HUB_KINDS:
        raise AnsibleFilterError('beamsec_hub_kind=%s: use client (the one-way hub, beamsec.cluster.hub: runs nothing '
                                 'a tenant sends) or node (an Erlang hub node; every tenant can reach through it)'
                                 % (kind,))
    return kind


def one_way_hub(host_vars):
    """Whether a host is a one-way hub: a hub of kind client, which runs no Erlang node."""
    return flag(host_vars, 'beamsec_hub') and hub_kind(host_vars) == 'client'


def cluster_members(hosts, hostvars, one_way_hubs=False):
    members = []
    for host in hosts or []:
        host_vars = hostvars[host] if host in hostvars else {}
        if not flag(host_vars, 'beamsec_distribution'):
            continue
        one_way = one_way_hub(host_vars)
        if one_way and not boolean(one_way_hubs, strict=False):
            continue
        address = str(_value(host_vars, 'node_dist_address', _value(host_vars, 'beamsec_private_address', '')))
        name = 'beamsec_hub' if one_way else node_settings(host_vars)['name']
        members.append({'host': host, 'address': address, 'one_way': one_way,
                        'hub': flag(host_vars, 'beamsec_hub'),
                        'public_address': str(_value(host_vars, 'beamsec_public_address', '')),
                        'node': '%s@%s' % (name, address)})
    return members


def _store_dir(inventory_dir):
    """Where the controller keeps generated cookies, the PKI and reports: beside a file or directory inventory,
    else (a host list given to -i: "None"; add_host: ""; the implicit localhost: unset) in the user's ~/.beamsec."""
    inventory_dir = str(inventory_dir or '')
    return inventory_dir + '/.beamsec' if inventory_dir.startswith('/') else os.path.expanduser('~/.beamsec')


def node_settings(host_vars, topology=None, inventory_dir=None, host=None):
    """What a node's settings imply: its names, paths and EPMD mode, as the roles place and run them. The roles
    (through the beamsec role's beamsec_node) and the playbooks read every derived value here, and nowhere else."""
    flavour = _value(host_vars, 'beamsec_flavour', 'erlang')
    name = _value(host_vars, 'beamsec_node_name', flavour_default(flavour, 'node_name'))
    home = _value(host_vars, 'beamsec_node_home', flavour_default(flavour, 'node_home'))
    config_dir = _value(host_vars, 'beamsec_config_dir', '/etc/beamsec/' + name)
    hub_dir = _value(host_vars, 'beamsec_hub_dir', '/etc/beamsec/hub')
    distribution = flag(host_vars, 'beamsec_distribution')
    epmd_mode = _value(host_vars, 'beamsec_epmd_mode', 'socket')
    # a hub-and-spoke cluster gives every node its own cookie: one tenant's must not open another
    per_node = (flag(host_vars, 'beamsec_cookie_per_node')
                or (topology or _value(host_vars, 'beamsec_topology', 'mesh')) == 'hub_and_spoke')
    store_dir = _value(host_vars, 'beamsec_store_dir', _store_dir(_value(host_vars, 'inventory_dir', inventory_dir)))
    store = _value(host_vars, 'beamsec_cookie_store', store_dir + '/cookie')
    return {'name': name, 'user': _value(host_vars, 'beamsec_node_user', flavour_default(flavour, 'node_user')),
            'home': home, 'cookie_file': home + '/.erlang.cookie', 'config_dir': config_dir,
            'tls_dir': config_dir + '/tls',
            'tls_optfile': _value(host_vars, 'beamsec_tls_optfile',
                                  flavour_default(flavour, 'tls_optfile') or config_dir + '/ssl_dist.conf'),
            'service': _value(host_vars, 'beamsec_service_name',
                              flavour_default(flavour, 'service_name') or 'beamsec-' + name),
            'cookie_per_node': per_node, 'store_dir': store_dir, 'cookie_store_base': store,
            'pki_dir': _value(host_vars, 'beamsec_tls_pki_dir', store_dir + '/pki'),
            'cookie_store': store + ('.' + (host or str(_value(host_vars, 'inventory_hostname', ''))) if per_node else ''),
            'hub_dir': hub_dir, 'hub_cookie_dir': hub_dir + '/cookies', 'hub_tls_dir': hub_dir + '/tls',
            # EPMD socket-activated on the private address, or none: a fixed port, -start_epmd false
            'epmd_socket': distribution and epmd_mode == 'socket', 'epmdless': distribution and epmd_mode == 'none',
            'distribution': distribution, 'hub': flag(host_vars, 'beamsec_hub'), 'one_way_hub': one_way_hub(host_vars),
            'hidden': flag(host_vars, 'beamsec_hidden'), 'tls': flag(host_vars, 'beamsec_tls_enabled'),
            'tls_allow_tls12': flag(host_vars, 'beamsec_tls_allow_tls12'),
            'firewall': flag(host_vars, 'beamsec_firewall_enabled'),
            'connect_all': flag(host_vars, 'beamsec_connect_all', flavour_default(flavour, 'connect_all')),
            'rabbitmq_reset': flag(host_vars, 'beamsec_rabbitmq_reset'),
            'rabbitmq_cluster_formation': flag(host_vars, 'beamsec_rabbitmq_cluster_formation')}


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError) as exc:
        raise AnsibleFilterError('verify_nodes: no cookie for this node: set beamsec_cookie, or run harden.yml first '
                                 'to generate %s (%s)' % (path, exc.strerror))


# what a local account tries first: EPMD and the node on loopback, IPv4 and IPv6
LOOPBACK = ['127.0.0.1', '::1']


def _exposed(exposed, public, private):
    """The addresses an exposure probe tries: an outsider's (public, or all) or a local account's (its own host's)."""
    if exposed == 'public':
        return public
    return (LOOPBACK if exposed == 'local' else []) + public + [private]


def verify_nodes(members, hostvars, topology='mesh', inventory_dir=None, cookies=True, exposed='public', cookie_dir=None):
    """cluster_verify's nodes option: each member with its cookie (given, or the generated one the cookie
    role keeps on the controller) and what is expected of it."""
    nodes = []
    for member in members:
        host_vars = hostvars[member['host']]
        settings = node_settings(host_vars, topology, inventory_dir, member['host'])
        epmdless = settings['epmdless']
        low = int(_value(host_vars, 'beamsec_dist_port_min', 9100))
        cookie = _value(host_vars, 'beamsec_cookie', '') if cookies else None
        if cookies and not cookie:
            cookie = _read(settings['cookie_store'])
        addresses = [member['public_address']] if member['public_address'] else []
        node = {
            'name': member['node'], 'address': member['address'], 'port': low if epmdless else None,
            'public_addresses': _exposed(exposed, addresses, member['address']),
            'expect': {'connect_all': settings['connect_all'],
                       # unset, the role writes nothing and net_kernel does what facts reads it does
                       'dist_auto_connect': _value(host_vars, 'beamsec_dist_auto_connect', AUTO_CONNECT_DEFAULT),
                       'listen_min': low, 'listen_max': int(_value(host_vars, 'beamsec_dist_port_max', low))},
        }
        wireguard = host_vars.get('beamsec_private_wireguard')
        if wireguard and exposed != 'local':
            # imported here: the wireguard filters import this module
            from ansible_collections.beamsec.cluster.plugins.filter.wireguard import overlay
            node['wireguard_port'] = overlay(host_vars, member['host'])['port']
        if cookies:
            node['cookie'] = str(cookie)
        elif cookie_dir:
            node['cookie_file'] = '%s/%s' % (cookie_dir, member['node'])  # the hub's file per tenant
        nodes.append(node)
    return nodes


class FilterModule(object):

    def filters(self):
        return {'cluster_members': cluster_members, 'verify_nodes': verify_nodes, 'flavour_default': flavour_default,
                'node_settings': node_settings}
