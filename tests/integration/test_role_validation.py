"""Each bad variable fails in the role's first (validation) task, naming the variable,
before anything changes: every case runs in check mode on this machine."""

import atexit
import json
import os
import shutil
import tempfile
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.pki import CA
from tests.support.tools import tool

PLAYBOOK = Path(__file__).with_name('playbooks') / 'role_validation.yml'
GOOD_COOKIE = 'Zq8-vW3.kP9_xL2~mN7-bR4.tY6_cH1~jD5-fG0.sA8'
DIST = {'node_dist_address': '127.0.0.1'}
TLS = dict(DIST, beamsec_tls_enabled=True)


def host_address():
    """An IPv4 address Ansible lists for this machine (loopback is not among them)."""
    for line in subprocess.run(['ip', '-o', '-4', 'addr', 'show', 'scope', 'global'], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        return line.split()[3].split('/')[0]
    return '127.0.0.1'


def user_certs():
    """A CA and node certificates of the operator's own, made once for the module."""
    directory = tempfile.mkdtemp(prefix='beamsec-usercerts-')
    atexit.register(shutil.rmtree, directory, True)
    ca = CA(directory)
    good = ca.issue('good', hosts=('127.0.0.1',), ip_as_dns=True)
    ip_only = ca.issue('iponly', hosts=('127.0.0.1',))
    expired = ca.issue('old', hosts=('127.0.0.1',), ip_as_dns=True, expired=True)
    return {'ca': str(ca.cert_path), 'good': [str(p) for p in good], 'ip_only': [str(p) for p in ip_only],
            'expired': [str(p) for p in expired]}


USER = user_certs()


def release_without_ssl():
    """The shape of a mix release (bin/app, lib/) that does not carry the ssl application."""
    root = Path(tempfile.mkdtemp(prefix='beamsec-release-'))
    atexit.register(shutil.rmtree, str(root), True)
    (root / 'bin').mkdir()
    (root / 'bin' / 'app').write_text('#!/bin/sh\n')
    (root / 'lib' / 'kernel-8.5.3').mkdir(parents=True)
    return str(root)


RELEASE = release_without_ssl()


def own_cert(cert, key):
    return dict(TLS, beamsec_tls_ca_cert=USER['ca'], beamsec_tls_node_cert=cert, beamsec_tls_node_key=key)


# (id, the node role's task file, variables, words the message must contain)
CASES = [
    ('net-none', 'private_net', {}, 'set beamsec_private_address, beamsec_private_interface, beamsec_private_cidr'),
    ('net-link-kind', 'main',
     {'beamsec_private_link': {'name': 'cl0', 'kind': 'bond', 'parent': 'lo', 'address': '10.9.0.1/24'}},
     'kind must be one of: vlan, macvlan, got: bond found in beamsec_private_link'),
    ('net-link-vlan-id', 'private_net',
     {'beamsec_private_link': {'name': 'cl0', 'kind': 'vlan', 'vlan_id': 5000, 'parent': 'lo', 'address': '10.9.0.1/24'}},
     'vlan_id (1-4094, for vlan)'),
    ('net-link-parent', 'private_net',
     {'beamsec_private_link': {'name': 'cl0', 'kind': 'macvlan', 'parent': '10.254.0.0/16', 'address': '10.9.0.1/24'}},
     'parent 10.254.0.0/16 matches no interface of this host'),
    ('net-link-address', 'private_net',
     {'beamsec_private_link': {'name': 'cl0', 'kind': 'macvlan', 'parent': 'lo', 'address': '10.9.0.1'}},
     'address (with its prefix'),
    ('net-cidr-syntax', 'private_net', {'beamsec_private_cidr': '10.0.0.0'}, 'a CIDR such as'),
    ('net-address-absent', 'private_net', {'beamsec_private_address': '10.99.0.1'},
     'beamsec_private_address=10.99.0.1 is not an address of this host'),
    ('net-interface-absent', 'private_net', {'beamsec_private_interface': 'nosuch0'},
     'beamsec_private_interface=nosuch0 does not exist'),
    ('net-cidr-no-match', 'private_net', {'beamsec_private_cidr': '10.255.255.0/24'}, 'select 0 addresses'),
    ('net-disagree', 'private_net', {'beamsec_private_address': host_address(), 'beamsec_private_cidr': '240.0.0.0/8'},
     'select 0 addresses'),
    ('cookie-known-default', 'cookie', {'beamsec_cookie': 'monster'}, 'beamsec_cookie is weak'),
    ('cookie-short', 'cookie', {'beamsec_cookie': 'Ab1-xyz'}, 'beamsec_cookie is weak'),
    ('cookie-one-class', 'cookie', {'beamsec_cookie': 'a' * 40}, 'beamsec_cookie is weak'),
    ('cookie-space', 'cookie', {'beamsec_cookie': 'Abc def ' * 5}, 'beamsec_cookie is weak'),
    ('cookie-min-length', 'cookie', {'beamsec_cookie_min_length': 10}, 'beamsec_cookie_min_length=10 must be at least 20'),
    ('node-home-relative', 'main', {'beamsec_node_home': 'var/lib/beam'}, 'beamsec_node_home=var/lib/beam must be absolute'),
    ('node-user-syntax', 'main', {'beamsec_node_user': 'Bad User'}, 'beamsec_node_user=Bad User must be a user name'),
    ('cookie-user-missing', 'cookie', {'beamsec_cookie': GOOD_COOKIE, 'beamsec_node_user': 'nosuchuser'},
     'beamsec_node_user=nosuchuser does not exist'),
    ('epmd-mode', 'epmd', dict(DIST, beamsec_epmd_mode='off'), 'beamsec_epmd_mode'),
    ('epmd-no-address', 'epmd', {}, 'node_dist_address'),
    ('dist-flavour-unknown', 'dist', dict(DIST, beamsec_flavour='java'), 'beamsec_flavour=java: use erlang'),
    ('dist-elixir-root-relative', 'dist', dict(DIST, beamsec_flavour='elixir', beamsec_release_root='opt/app'),
     'beamsec_release_root=opt/app must be the absolute path of the mix release'),
    ('node-elixir-no-release', 'main', dict(DIST, beamsec_flavour='elixir', beamsec_release_root='/nonexistent/app'),
     'beamsec_release_root=/nonexistent/app has no bin/app'),
    ('dist-elixir-release-name', 'dist', dict(DIST, beamsec_flavour='elixir', beamsec_release_name='my-app'),
     "beamsec_release_name=my-app must be the release's name"),
    ('node-elixir-tls-without-ssl', 'main', dict(TLS, beamsec_flavour='elixir', beamsec_release_root=RELEASE),
     'has no ssl application, which TLS distribution runs on: add :ssl to extra_applications'),
    ('dist-rabbitmq-epmdless', 'dist', dict(DIST, beamsec_flavour='rabbitmq', beamsec_epmd_mode='none'),
     "RabbitMQ's CLI tools and clustering ask EPMD"),
    ('dist-rabbitmq-no-distribution', 'dist', dict(DIST, beamsec_flavour='rabbitmq', beamsec_distribution=False),
     "beamsec_distribution=false: RabbitMQ's CLI tools and clustering reach the node through distribution"),
    ('dist-rabbitmq-connect-all', 'dist', dict(DIST, beamsec_flavour='rabbitmq', beamsec_connect_all=False),
     'beamsec_connect_all=false: RabbitMQ boots through global:sync()'),
    ('dist-rabbitmq-hub', 'dist', dict(DIST, beamsec_flavour='rabbitmq', beamsec_topology='hub_and_spoke'),
     'beamsec_topology=hub_and_spoke: a RabbitMQ cluster is a full mesh'),
    ('dist-node-name', 'dist', dict(DIST, beamsec_node_name='app@host'), 'beamsec_node_name=app@host'),
    ('dist-port-low', 'dist', dict(DIST, beamsec_dist_port_min=80), 'beamsec_dist_port_min=80'),
    ('dist-range-reversed', 'dist', dict(DIST, beamsec_dist_port_min=9200, beamsec_dist_port_max=9100),
     '1024 <= min <= max <= 65535'),
    ('dist-port-high', 'dist', dict(DIST, beamsec_dist_port_max=70000), 'beamsec_dist_port_max=70000'),
    ('dist-range-epmd', 'dist', dict(DIST, beamsec_dist_port_min=4000, beamsec_dist_port_max=5000), 'includes 4369'),
    ('dist-epmdless-range', 'dist', dict(DIST, beamsec_epmd_mode='none', beamsec_dist_port_max=9105),
     'beamsec_epmd_mode=none needs one fixed port'),
    ('dist-ticktime', 'dist', dict(DIST, beamsec_net_ticktime=1), 'beamsec_net_ticktime=1 is below 4 seconds'),
    ('dist-auto-connect', 'dist', dict(DIST, beamsec_dist_auto_connect='always'), 'beamsec_dist_auto_connect'),
    ('dist-inet6-on-ipv4', 'dist', dict(DIST, beamsec_proto_dist='inet6_tcp'), 'needs an IPv6 private address'),
    ('dist-inet-on-ipv6', 'dist', {'node_dist_address': 'fd99::1'}, 'set beamsec_proto_dist=inet6_tcp'),
    ('dist-proto-unknown', 'dist', dict(DIST, beamsec_proto_dist='inet_tls'), 'beamsec_proto_dist'),
    ('dist-setcookie', 'dist', dict(DIST, beamsec_vm_args_extra=['-setcookie x']), 'must not carry the setcookie flag'),
    ('dist-heartbeat-port', 'dist', dict(DIST, beamsec_heartbeat_port='70000'), 'beamsec_heartbeat_port=70000 must be a UDP port'),
    ('dist-heartbeat-interval', 'dist', dict(DIST, beamsec_heartbeat_interval='2s'),
     'beamsec_heartbeat_interval=2s must be whole seconds'),
    ('dist-partition-action', 'dist', dict(DIST, beamsec_partition_action=' '), 'beamsec_partition_action must be report or a command'),
    ('dist-port-type', 'dist', dict(DIST, beamsec_dist_port_min='abc'), 'beamsec_dist_port_min'),
    ('dist-no-address', 'dist', {}, 'node_dist_address'),
    ('firewall-bad-peer', 'firewall', {'beamsec_firewall_peers': ['not-an-ip']}, "must list the cluster peers' IP"),
    ('firewall-no-peers', 'firewall', {'beamsec_cluster_group': 'nosuchgroup'}, "must list the cluster peers' IP"),
    ('firewall-rate', 'firewall', {'beamsec_firewall_peers': ['10.0.0.1'], 'beamsec_firewall_rate': 'fast'},
     'beamsec_firewall_rate=fast must be a number of new connections per second'),
    ('firewall-burst-zero', 'firewall', {'beamsec_firewall_peers': ['10.0.0.1'], 'beamsec_firewall_burst': 0},
     'beamsec_firewall_burst=0 must be a number of connections, at least 1'),
    ('firewall-local-user-syntax', 'firewall', {'beamsec_firewall_peers': ['10.0.0.1'], 'beamsec_local_users': ['Bad User']},
     'beamsec_local_users=["Bad User"] must list user names'),
    ('firewall-local-user-missing', 'firewall', {'beamsec_firewall_peers': ['10.0.0.1'], 'beamsec_local_users': ['nosuchuser']},
     'beamsec_local_users names accounts this host does not have (nosuchuser)'),
    ('firewall-bad-admin', 'firewall', {'beamsec_firewall_peers': ['10.0.0.1'], 'beamsec_firewall_admins': ['ctl']},
     "must list the cluster peers' IP"),
    ('tls-12-without-opt-in', 'tls_dist', dict(TLS, beamsec_tls_versions=['tlsv1.3', 'tlsv1.2']),
     'set beamsec_tls_allow_tls12=true'),
    ('tls-unknown-version', 'tls_dist', dict(TLS, beamsec_tls_versions=['sslv3']), 'beamsec_tls_versions'),
    ('tls-ca-without-key', 'tls_dist', dict(TLS, beamsec_tls_ca_cert='/etc/hostname'),
     'set both beamsec_tls_ca_cert and beamsec_tls_ca_key'),
    ('tls-ca-missing', 'tls_dist', dict(TLS, beamsec_tls_ca_cert='/nonexistent/ca.pem', beamsec_tls_ca_key='/etc/hostname'),
     'beamsec_tls_ca_cert=/nonexistent/ca.pem is not a file'),
    ('tls-own-cert-no-dns-san', 'tls_dist', own_cert(*USER['ip_only']), 'lacks subjectAltName DNS:127.0.0.1'),
    ('tls-own-cert-wrong-key', 'tls_dist', own_cert(USER['good'][0], USER['ip_only'][1]),
     'does not match beamsec_tls_node_key'),
    ('tls-own-cert-expired', 'tls_dist', own_cert(*USER['expired']), 'expired on'),
    ('tls-own-cert-no-ca', 'tls_dist', dict(TLS, beamsec_tls_node_cert=USER['good'][0],
                                            beamsec_tls_node_key=USER['good'][1]),
     'beamsec_tls_node_cert needs beamsec_tls_ca_cert'),
    ('tls-days', 'tls_dist', dict(TLS, beamsec_tls_cert_days=0), 'beamsec_tls_cert_days must be at least 1'),
    ('node-service-name', 'main', {'beamsec_service_name': 'bad name!'}, 'beamsec_service_name=bad name! must be a unit'),
    ('node-erl-relative', 'main', {'beamsec_erl': 'bin/erl'}, 'beamsec_erl=bin/erl must be an absolute path'),
    # the role's argument_specs (one for every setting) check types and choices at the role's entry
    ('node-spec-choice', 'main', {'beamsec_epmd_mode': 'off'}, 'beamsec_epmd_mode'),
    ('node-spec-type', 'main', {'beamsec_dist_port_min': 'abc'}, 'beamsec_dist_port_min'),
]


# Valid inputs that must pass every validation task (what follows may still fail on
# this machine in check mode, e.g. for want of the node's user).
PASSING = [
    ('tls-own-cert-good', 'tls_dist', own_cert(*USER['good']), ''),
]


@pytest.fixture(scope='module')
def outcomes(tmp_path_factory):
    directory = tmp_path_factory.mktemp('validation')
    hosts = {}
    for case_id, role, variables, dummy in CASES + PASSING:
        hosts[case_id] = dict(variables, case_role=role, ansible_connection='local',
                              ansible_python_interpreter=sys.executable)
    inventory = directory / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'all': {'children': {'cases': {'hosts': hosts}}}}))
    result = subprocess.run(
        [tool('ansible-playbook'), '-i', str(inventory), '--check', '--diff',
         '--forks', '8', str(PLAYBOOK)],
        capture_output=True, text=True, timeout=600, check=False,
        env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_NOCOLOR='1'))
    report = json.loads(result.stdout[result.stdout.index('{'):])
    found = {}
    for play in report['plays']:
        for task in play['tasks']:
            if task['task']['name'] == 'Report the refusal':
                for host, outcome in task['hosts'].items():
                    found[host] = outcome['msg']
    return found, report['stats']


@pytest.mark.parametrize('case_id,role,variables,expected', CASES, ids=[c[0] for c in CASES])
def test_refused_first_with_the_variable_named(outcomes, case_id, role, variables, expected):
    found, stats = outcomes
    assert case_id in found, 'role %s accepted %r' % (role, variables)
    refusal = found[case_id]
    assert expected in ' '.join(refusal['error'].split()), refusal
    # the refusal comes from argument validation or the role's own first, validating task
    assert refusal['task'].startswith(('Validat', 'Check that')), refusal
    assert stats[case_id]['changed'] == 0, stats[case_id]


def test_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize('case_id,role,variables,dummy', PASSING, ids=[c[0] for c in PASSING])
def test_valid_input_passes_validation(outcomes, case_id, role, variables, dummy):
    found, stats = outcomes
    refusal = found.get(case_id)
    assert refusal is None or not refusal['task'].startswith(('Validat', 'Check that')), refusal
    assert stats[case_id]['ok'] >= 5, stats[case_id]
