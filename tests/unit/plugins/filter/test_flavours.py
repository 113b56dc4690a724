"""What each release flavour defaults to, and how the cluster filters use it."""

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beamsec.cluster.plugins.filter.cluster import cluster_members, flavour_default, verify_nodes

HOME = os.path.expanduser('~')

HOSTVARS = {
    'mq1': {'beamsec_flavour': 'rabbitmq', 'beamsec_private_address': '10.0.0.1', 'beamsec_cookie': 'C' * 32},
    'mq2': {'beamsec_flavour': 'rabbitmq', 'beamsec_private_address': '10.0.0.2', 'beamsec_cookie': 'C' * 32,
            'beamsec_node_name': 'hare'},
    'ex1': {'beamsec_flavour': 'elixir', 'beamsec_private_address': '10.0.0.3', 'beamsec_cookie': 'C' * 32},
    'erl': {'beamsec_private_address': '10.0.0.4', 'beamsec_cookie': 'C' * 32},
}


@pytest.mark.parametrize('flavour,key,expected', [
    ('erlang', 'node_name', 'app'), ('elixir', 'node_user', 'beam'), (None, 'node_home', '/var/lib/beam'),
    ('rabbitmq', 'node_name', 'rabbit'), ('rabbitmq', 'node_user', 'rabbitmq'),
    ('rabbitmq', 'node_home', '/var/lib/rabbitmq'), ('rabbitmq', 'service_name', 'rabbitmq-server'),
    ('rabbitmq', 'tls_optfile', '/etc/rabbitmq/inter_node_tls.config'), ('erlang', 'tls_optfile', ''),
    ('erlang', 'connect_all', False), ('elixir', 'connect_all', False), ('rabbitmq', 'connect_all', True),
])
def test_flavour_defaults(flavour, key, expected):
    assert flavour_default(flavour, key) == expected


def test_unknown_flavour_is_named_with_the_choices():
    with pytest.raises(AnsibleFilterError, match='beamsec_flavour=java: use erlang .* elixir .* or rabbitmq'):
        flavour_default('java', 'node_name')
    with pytest.raises(AnsibleFilterError, match='no default for colour'):
        flavour_default('erlang', 'colour')


def test_node_names_follow_the_flavour_unless_set():
    nodes = [m['node'] for m in cluster_members(['mq1', 'mq2', 'ex1', 'erl'], HOSTVARS)]
    assert nodes == ['rabbit@10.0.0.1', 'hare@10.0.0.2', 'app@10.0.0.3', 'app@10.0.0.4']


def test_rabbitmq_nodes_are_expected_with_connect_all_on():
    members = cluster_members(['mq1', 'ex1'], HOSTVARS)
    expected = [n['expect']['connect_all'] for n in verify_nodes(members, HOSTVARS)]
    assert expected == [True, False]
    hostvars = dict(HOSTVARS, ex1=dict(HOSTVARS['ex1'], beamsec_connect_all=True))
    assert verify_nodes(members, hostvars)[1]['expect']['connect_all'] is True


@pytest.mark.parametrize('text', ['false', 'False', 'no', '0', 'off'])
def test_booleans_from_ini_or_extra_vars_are_read_as_ansible_reads_them(text):
    """INI and -e give strings: 'false' must not make a host a hub (its tenants' firewalls would let it in)."""
    hostvars = {'t1': dict(HOSTVARS['erl'], beamsec_hub=text), 't2': dict(HOSTVARS['ex1'], beamsec_distribution=text),
                't3': dict(HOSTVARS['erl'], beamsec_private_address='10.0.0.5', beamsec_connect_all=text)}
    members = cluster_members(['t1', 't2', 't3'], hostvars)
    assert [(m['host'], m['hub']) for m in members] == [('t1', False), ('t3', False)]
    assert [n['expect']['connect_all'] for n in verify_nodes(members, hostvars)] == [False, False]


def test_node_settings_follow_the_config_dir_and_the_flavour():
    from ansible_collections.beamsec.cluster.plugins.filter.cluster import node_settings
    conf = node_settings({'beamsec_config_dir': '/srv/beam/conf'})
    assert (conf['tls_dir'], conf['tls_optfile']) == ('/srv/beam/conf/tls', '/srv/beam/conf/ssl_dist.conf')
    assert node_settings({}) == {
        'name': 'app', 'user': 'beam', 'home': '/var/lib/beam', 'cookie_file': '/var/lib/beam/.erlang.cookie',
        'config_dir': '/etc/beamsec/app', 'tls_dir': '/etc/beamsec/app/tls',
        'tls_optfile': '/etc/beamsec/app/ssl_dist.conf', 'service': 'beamsec-app', 'cookie_per_node': False,
        'store_dir': HOME + '/.beamsec', 'pki_dir': HOME + '/.beamsec/pki', 'cookie_store_base': HOME + '/.beamsec/cookie',
        'cookie_store': HOME + '/.beamsec/cookie', 'hub_dir': '/etc/beamsec/hub', 'hub_cookie_dir': '/etc/beamsec/hub/cookies',
        'hub_tls_dir': '/etc/beamsec/hub/tls', 'epmd_socket': True, 'epmdless': False, 'distribution': True,
        'hub': False, 'one_way_hub': False, 'hidden': False, 'tls': False, 'tls_allow_tls12': False, 'firewall': True,
        'connect_all': False, 'rabbitmq_reset': False, 'rabbitmq_cluster_formation': True}
    assert node_settings({'beamsec_epmd_mode': 'none'})['epmdless']
    assert not node_settings({'beamsec_epmd_mode': 'none', 'beamsec_distribution': 'false'})['epmdless']
    assert not node_settings({'beamsec_distribution': 'no'})['epmd_socket']
    rabbit = node_settings({'beamsec_flavour': 'rabbitmq', 'beamsec_node_name': ''})
    assert (rabbit['name'], rabbit['user'], rabbit['config_dir'], rabbit['service'], rabbit['tls_optfile']) == (
        'rabbit', 'rabbitmq', '/etc/beamsec/rabbit', 'rabbitmq-server', '/etc/rabbitmq/inter_node_tls.config')


def test_node_settings_hold_the_per_node_cookie_rule():
    """One rule for the role (its own cookie), the hub (its tenants') and verify (every node's)."""
    from ansible_collections.beamsec.cluster.plugins.filter.cluster import node_settings
    mesh = {'inventory_hostname': 'n1', 'inventory_dir': '/inv'}
    assert node_settings(mesh)['cookie_store'] == '/inv/.beamsec/cookie'
    assert node_settings(dict(mesh, beamsec_cookie_per_node='true'))['cookie_store'] == '/inv/.beamsec/cookie.n1'
    assert node_settings(dict(mesh, beamsec_cookie_per_node='false'))['cookie_store'] == '/inv/.beamsec/cookie'
    assert node_settings(mesh, 'hub_and_spoke')['cookie_store'] == '/inv/.beamsec/cookie.n1'
    assert node_settings({'beamsec_cookie_store': '/s/c'}, 'hub_and_spoke', host='t2')['cookie_store'] == '/s/c.t2'


def test_one_way_hub_is_a_hub_of_kind_client():
    from ansible_collections.beamsec.cluster.plugins.filter.cluster import one_way_hub
    assert one_way_hub({'beamsec_hub': True}) and one_way_hub({'beamsec_hub': 'yes', 'beamsec_hub_kind': 'client'})
    assert not one_way_hub({'beamsec_hub': True, 'beamsec_hub_kind': 'node'})
    assert not one_way_hub({'beamsec_hub': 'false'}) and not one_way_hub({})
    with pytest.raises(AnsibleFilterError, match='beamsec_hub_kind=erlang'):
        one_way_hub({'beamsec_hub': True, 'beamsec_hub_kind': 'erlang'})


@pytest.mark.parametrize('given,expected', [
    (True, True), ('true', True), ('True', True), ('yes', True), ('1', True), (1, True), ('on', True),
    (False, False), ('false', False), ('False', False), ('no', False), ('0', False), (0, False), ('off', False)])
def test_every_boolean_setting_is_read_the_ansible_way(given, expected):
    """-e k=v and INI files hand the strings in; each flag becomes the boolean they say, never Python's bool()."""
    from ansible_collections.beamsec.cluster.plugins.filter.cluster import FLAGS, node_settings
    keys = {'beamsec_distribution': 'distribution', 'beamsec_hub': 'hub', 'beamsec_hidden': 'hidden',
            'beamsec_tls_enabled': 'tls', 'beamsec_tls_allow_tls12': 'tls_allow_tls12',
            'beamsec_firewall_enabled': 'firewall', 'beamsec_cookie_per_node': 'cookie_per_node',
            'beamsec_rabbitmq_reset': 'rabbitmq_reset', 'beamsec_rabbitmq_cluster_formation': 'rabbitmq_cluster_formation',
            'beamsec_connect_all': 'connect_all'}
    assert set(keys) == set(FLAGS) | {'beamsec_connect_all'}
    for variable, key in keys.items():
        assert node_settings({variable: given})[key] is expected, variable
    # a tenant with beamsec_hub=false is no hub: no other tenant's firewall admits it
    members = cluster_members(['t1'], {'t1': {'beamsec_hub': given, 'beamsec_hub_kind': 'node',
                                              'beamsec_private_address': '10.0.0.1'}})
    assert members[0]['hub'] is expected


def test_a_setting_that_is_no_boolean_is_named():
    from ansible_collections.beamsec.cluster.plugins.filter.cluster import node_settings
    with pytest.raises(AnsibleFilterError, match='beamsec_tls_enabled=maybe is not a boolean'):
        node_settings({'beamsec_tls_enabled': 'maybe'})
