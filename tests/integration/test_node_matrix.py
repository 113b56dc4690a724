"""The node role for every combination of flavour x TLS x EPMD mode x address family x
distribution on/off x topology, on stand-in hosts: this machine in a network namespace of
its own (a veth pair with 10.77.0.1 and fd77::1), in check mode with --diff, systemd stubbed
(tests/support/stub/systemctl; this machine has none), modules run by a fork server
(tests/support/connection_plugins/module_server.py), filter and test plugins loaded before the first
fork (tests/support/callback_plugins/warm_plugins.py). Every combination either renders the
files its flavour reads, checked line by line, or is refused by a validation task naming the
variable. The boolean settings are spelt every way -e and INI files spell them."""

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.pki import CA
from tests.support.tools import tool

HERE = Path(__file__).parent
PLAYBOOK = HERE / 'playbooks' / 'render_node.yml'
SUPPORT = HERE.parent / 'support'
STUB = SUPPORT / 'stub'
CONNECTIONS = SUPPORT / 'connection_plugins'
ADDRESSES = {'inet': '10.77.0.1', 'inet6': 'fd77::1'}
ERL_IP = {'inet': '{10,77,0,1}', 'inet6': '{64887,0,0,0,0,0,0,1}'}
HUB = '10.77.0.9'
# every way a boolean arrives: YAML booleans, and the strings of -e k=v and INI files
TRUE = [True, 'true', 'True', 'yes', '1', 'on']
FALSE = [False, 'false', 'False', 'no', '0', 'off']
NETNS = '''mount -t sysfs sysfs /sys
# modules run in children of one fork server (a Python per module run was 90 % of the time)
"$PYTHON" "$SERVER" "$BEAMSEC_MODULE_SERVER" & server=$!
trap 'kill $server' EXIT
for i in $(seq 100); do [ -S "$BEAMSEC_MODULE_SERVER" ] && break; sleep 0.1; done
ip link set lo up
ip link add t0 type veth peer name t1
ip addr add 10.77.0.1/24 dev t0
ip -6 addr add fd77::1/64 dev t0 nodad
ip addr add 10.77.0.9/24 dev t1
ip link set t0 up
ip link set t1 up
# the network facts, gathered once and cached for every stand-in host (the role reads them)
"$ANSIBLE" -i "$INVENTORY" seed -m ansible.builtin.setup -a gather_subset=network >/dev/null
cd "$ANSIBLE_CACHE_PLUGIN_CONNECTION"
for seed in *seed; do for host in $HOSTS; do cp "$seed" "${seed%seed}$host"; done; done
cd - >/dev/null
"$@"
'''

# the node role's tasks that write one file, by the file's name
WRITES = {'Drop-in for epmd.socket': 'epmd.socket.d', 'Unit': 'unit',
          "The server's and the CLI tools' flags in rabbitmq-env.conf": 'rabbitmq-env.conf',
          'Launcher for the commands that start a VM, without the cookie on their command line': 'release.sh',
          'Listener and cluster formation, in a conf.d file of their own': 'rabbitmq.conf'}
# the files beamsec.cluster.files writes in a set, by the name in their diff's header
IN_SETS = frozenset(('vm.args', 'env', 'tool.args', 'nftables.nft', 'ssl_dist.conf', 'tenants.json'))
FLAVOURS = ('erlang', 'elixir', 'rabbitmq')
USERS = {'erlang': 'beam', 'elixir': 'beam', 'rabbitmq': 'rabbitmq'}
COMBINATIONS = list(itertools.product(FLAVOURS, (False, True), ('socket', 'none'), ('inet', 'inet6'),
                                      (True, False), ('mesh', 'hub_and_spoke')))

# what validation refuses, and the variable its message must name
REFUSED = [
    (lambda c: c['flavour'] == 'rabbitmq' and not c['distribution'], 'beamsec_distribution=false'),
    (lambda c: c['flavour'] == 'rabbitmq' and c['epmd'] == 'none', 'beamsec_epmd_mode=none'),
    (lambda c: c['flavour'] == 'rabbitmq' and c['topology'] == 'hub_and_spoke', 'beamsec_topology=hub_and_spoke'),
]


def case_id(flavour, tls, epmd, family, distribution, topology):
    return '%s-%s-epmd_%s-%s-%s-%s' % (flavour, 'tls' if tls else 'tcp', epmd, family,
                                       'dist' if distribution else 'nodist', topology)


def release(root):
    """The shape of a mix release the role hardens: bin/<name>, lib/ssl-*, releases/<vsn>/env.sh, COOKIE, and a tmp/
    that exists before the node's user does (check mode must not chown it to a user it has not made)."""
    for directory in ('bin', 'lib/ssl-10.9', 'releases/0.1.0', 'tmp'):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / 'bin' / 'app').write_text('#!/bin/sh\n')
    (root / 'releases' / 'start_erl.data').write_text('13.2 0.1.0\n')
    (root / 'releases' / '0.1.0' / 'env.sh').write_text('#!/bin/sh\n')
    (root / 'releases' / 'COOKIE').write_text('the build cookie, the same in every copy of the build\n')
    return str(root)


@pytest.fixture(scope='module')
def matrix(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which('unshare'):
        pytest.skip('needs root and unshare for a network namespace of its own')
    work = tmp_path_factory.mktemp('matrix')
    ca = CA(work / 'pki')
    cert, key = ca.issue('node', hosts=tuple(ADDRESSES.values()) + (HUB,), ip_as_dns=True)
    root = release(work / 'release')
    home = work / 'home'  # a home that exists, for a user that does not yet
    home.mkdir()
    hosts, groups, cases = {}, {}, {}
    for index, combination in enumerate(COMBINATIONS):
        flavour, tls, epmd, family, distribution, topology = combination
        name = case_id(*combination)
        cases[name] = dict(zip(('flavour', 'tls', 'epmd', 'family', 'distribution', 'topology'), combination))
        spell = (TRUE if tls else FALSE)[index % 6]
        hosts[name] = {
            'beamsec_flavour': flavour, 'beamsec_epmd_mode': epmd, 'beamsec_topology': topology,
            'beamsec_tls_enabled': spell, 'beamsec_distribution': (TRUE if distribution else FALSE)[(index + 1) % 6],
            'beamsec_hidden': (TRUE if index % 2 else FALSE)[index % 6],
            'beamsec_private_address': ADDRESSES[family],
            'beamsec_proto_dist': 'inet6_tcp' if family == 'inet6' else 'inet_tcp',
            'beamsec_cluster_group': 'group_' + name.replace('-', '_'),
            'beamsec_cookie_store': str(work / 'store' / 'cookie'),
            'beamsec_tls_ca_cert': str(ca.cert_path), 'beamsec_tls_node_cert': str(cert),
            'beamsec_tls_node_key': str(key), 'beamsec_release_root': root, 'beamsec_release_name': 'app',
            'beamsec_rabbitmq_mnesia_base': str(work / 'mnesia'), 'beamsec_node_home': str(home),
        }
        cases[name]['hidden'] = hosts[name]['beamsec_hidden'] in TRUE
        # a tenant's cluster has a one-way hub: the tenant's firewall admits it alone
        members = {name: None, 'hub': None} if topology == 'hub_and_spoke' else {name: None}
        groups[hosts[name]['beamsec_cluster_group']] = {'hosts': members}
    # the hub serves the first tenant, in the same play: its handlers must not take the nodes' notifications
    tenant = [n for n, c in cases.items() if c['topology'] == 'hub_and_spoke' and c['flavour'] == 'erlang'
              and c['distribution']][0]
    groups['beam_nodes'] = {'hosts': dict(hosts, hub={
        'beamsec_hub': 'yes', 'beamsec_private_address': HUB, 'beamsec_topology': 'hub_and_spoke',
        'beamsec_cluster_group': hosts[tenant]['beamsec_cluster_group'], 'beamsec_cookie_store': str(work / 'store' / 'cookie'),
        'beamsec_tls_enabled': hosts[tenant]['beamsec_tls_enabled'], 'beamsec_tls_ca_cert': str(ca.cert_path),
        'beamsec_tls_node_cert': str(cert), 'beamsec_tls_node_key': str(key)})}
    groups['seeds'] = {'hosts': {'seed': {}}}
    inventory = work / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'all': {
        'children': groups,
        'vars': {'ansible_connection': 'module_server', 'ansible_python_interpreter': sys.executable}}}))
    env = dict(os.environ, PATH='%s:%s' % (STUB, os.environ['PATH']), ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               ANSIBLE_NOCOLOR='1', ANSIBLE_PIPELINING='1', ANSIBLE_FORKS='16', ANSIBLE_CACHE_PLUGIN='jsonfile',
               ANSIBLE_CACHE_PLUGIN_CONNECTION=str(work / 'facts'), ANSIBLE=tool('ansible'),
               INVENTORY=str(inventory), HOSTS=' '.join(hosts), ANSIBLE_CONNECTION_PLUGINS=str(CONNECTIONS),
               ANSIBLE_CALLBACK_PLUGINS=str(SUPPORT / 'callback_plugins'),
               ANSIBLE_CALLBACKS_ENABLED='warm_plugins',
               PYTHON=sys.executable, SERVER=str(CONNECTIONS / 'module_server.py'),
               BEAMSEC_MODULE_SERVER=str(work / 'modules.sock'))
    result = subprocess.run(
        ['unshare', '--net', '--mount', 'sh', '-ec', NETNS, 'netns',
         tool('ansible-playbook'), '-i', str(inventory), '--check', '--diff', str(PLAYBOOK)],
        capture_output=True, text=True, timeout=1800, check=False, env=env)
    assert '{' in result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout[result.stdout.index('{'):])
    files, refusals, handlers = {}, {}, {}
    for task in report['plays'][0]['tasks']:
        name = task['task']['name'].split(' : ', 1)[-1]
        for host, outcome in task['hosts'].items():
            if name == 'Restart the node':
                handlers[host] = 'skipped' if outcome.get('skipped') else 'ran'
            if outcome.get('failed') and not outcome.get('ignore_errors'):
                refusals[host] = {'task': name, 'msg': outcome.get('msg', '')}
            diffs = outcome.get('diff') or []
            for diff in diffs if isinstance(diffs, list) else [diffs]:
                header = os.path.basename(diff.get('after_header') or '')
                written = WRITES.get(name) or (header if header in IN_SETS else None)
                if written and isinstance(diff.get('after'), str):
                    files.setdefault(host, {})[written] = diff['after']
    return cases, files, refusals, handlers, tenant


@pytest.mark.parametrize('combination', COMBINATIONS, ids=[case_id(*c) for c in COMBINATIONS])
def test_each_combination_renders_or_is_refused_by_name(matrix, combination):
    cases, files, refusals, dummy, dummy = matrix
    name = case_id(*combination)
    case = cases[name]
    refused = [message for rule, message in REFUSED if rule(case)]
    if refused:
        assert name in refusals, 'accepted: %s' % name
        assert refusals[name]['task'].startswith('Validat'), refusals[name]
        assert any(words in refusals[name]['msg'] for words in refused), refusals[name]
        return
    assert name not in refusals, refusals.get(name)
    rendered = files.get(name, {})
    assert not [n for n, text in rendered.items() if 'setcookie' in text], 'a cookie flag in a file'
    if case['flavour'] == 'rabbitmq':
        check_rabbitmq(case, rendered)
    else:
        check_vm_args(case, rendered)
    check_epmd_and_firewall(case, rendered)


def carrier_flags(case):
    """The -proto_dist a node of this case must run: TLS over its family, or IPv6 TCP (IPv4 TCP is OTP's default)."""
    if case['tls']:
        return ['-proto_dist %s_tls' % case['family']]
    return ['-proto_dist inet6_tcp'] if case['family'] == 'inet6' else []


def check_vm_args(case, rendered):
    lines = rendered['vm.args'].splitlines()
    if not case['distribution']:
        assert '-proto_dist none' in lines and not [line for line in lines if line.startswith('-name')]
        assert not [line for line in lines if line.startswith('-eval')]
        return
    address, family = ADDRESSES[case['family']], case['family']
    if case['flavour'] == 'erlang':
        assert '-name app@%s' % address in lines
    else:
        assert 'RELEASE_NODE' in rendered['release.sh'] and not [line for line in lines if line.startswith('-name')]
    assert '-kernel inet_dist_listen_min 9100' in lines and '-kernel inet_dist_listen_max 9100' in lines
    assert '-kernel inet_dist_use_interface %s' % ERL_IP[family] in lines
    assert '-kernel connect_all false' in lines
    # every distributed node boots with the hook (at least the knock filter)
    assert [line for line in lines if line.startswith('-eval')] == [
        '-eval "{ok, ok} = file:script(\'/etc/beamsec/app/boot.script\')"']
    assert ('-hidden' in lines) == case['hidden']
    assert [line for line in lines if line.startswith('-proto_dist')] == carrier_flags(case)
    assert bool([line for line in lines if line.startswith('-ssl_dist_optfile')]) == case['tls']
    if case['tls']:
        assert 'verify_peer' in rendered['ssl_dist.conf'] and 'fail_if_no_peer_cert' in rendered['ssl_dist.conf']
    epmdless = ['-start_epmd false', '-erl_epmd_port 9100']
    assert all(flag in lines for flag in epmdless) == (case['epmd'] == 'none')
    tool_args = rendered['tool.args'].splitlines()
    assert [line for line in tool_args if line.startswith('-proto_dist')] == carrier_flags(case)
    assert '-hidden' in tool_args and '-dist_listen false' in tool_args


def check_rabbitmq(case, rendered):
    env, conf = rendered['rabbitmq-env.conf'], rendered['rabbitmq.conf'].splitlines()
    address = ADDRESSES[case['family']]
    assert 'NODENAME=rabbit@%s' % address in env and 'DIST_PORT=9100' in env
    server = [line for line in env.splitlines() if line.startswith('SERVER_ADDITIONAL_ERL_ARGS=')][0]
    assert '-kernel connect_all true' in server and ('-hidden' in server) == case['hidden']
    assert [flag for flag in carrier_flags(case) if flag not in server] == []
    assert ('-proto_dist' in server) == bool(carrier_flags(case))
    assert 'distribution.listener.interface = %s' % address in conf
    assert 'distribution.listener.port_range.min = 9100' in conf


def check_epmd_and_firewall(case, rendered):
    address = ADDRESSES[case['family']]
    dropin = rendered.get('epmd.socket.d', '')
    if case['distribution'] and case['epmd'] == 'socket':
        listen = '[%s]:4369' % address if case['family'] == 'inet6' else '%s:4369' % address
        assert 'ListenStream=%s' % listen in dropin and 'ListenStream=127.0.0.1:4369' in dropin
    else:
        assert not dropin
    ruleset = rendered['nftables.nft']
    ports = '9100' if case['epmd'] == 'none' else '4369, 9100'
    # every local account but root and the node's user is turned away; every source is rate-limited
    lines = [line.strip() for line in ruleset.splitlines()]
    local = [line for line in lines if 'meta skuid' in line]
    assert len(local) == 1 and local[0].startswith('fib daddr type local tcp dport { 4369, 9100 } ct state new')
    assert local[0].endswith('counter reject with tcp reset') and '{ root, %s }' % USERS[case['flavour']] in local[0]
    assert len([line for line in lines if 'limit rate over 10/second burst 50 packets } jump flood' in line]) == 2
    if not case['distribution']:
        assert not [line for line in lines if 'saddr {' in line and line.endswith('accept')]
    elif case['topology'] == 'hub_and_spoke':
        assert 'ip saddr { %s } tcp dport { %s } accept' % (HUB, ports) in ruleset and address not in ruleset
    else:
        family = 'ip6' if case['family'] == 'inet6' else 'ip'
        assert '%s saddr { %s } tcp dport { %s } accept' % (family, address, ports) in ruleset


def test_the_hub_in_the_same_play_renders_and_leaves_the_nodes_their_handlers(matrix):
    cases, files, refusals, handlers, tenant = matrix
    assert 'hub' not in refusals, refusals.get('hub')
    tenants = json.loads(files['hub']['tenants.json'])
    assert [t['name'] for t in tenants] == ['app@%s' % ADDRESSES[cases[tenant]['family']]]
    assert tenants[0]['cookie_file'] == '/etc/beamsec/hub/cookies/' + tenants[0]['name']
    # every node that got a unit is restarted by the node role's own handler, not skipped by a copy of it
    restarted = [n for n, c in cases.items() if c['flavour'] == 'erlang' and n not in refusals]
    assert restarted and {n: handlers.get(n) for n in restarted} == dict.fromkeys(restarted, 'ran')
