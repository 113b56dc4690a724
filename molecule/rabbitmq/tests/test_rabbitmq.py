"""The hardened RabbitMQ cluster: one cluster on the private network, TLS for the server and its CLI tools."""

import json

CTL = 'rabbitmqctl --timeout 30'


def private_address(host):
    return host.check_output("ip -o -4 addr show | grep -o '10\\.231\\.30\\.[0-9]*' | head -1")


def test_cluster_status_shows_every_node_running(host):
    status = json.loads(host.check_output('%s cluster_status --formatter json' % CTL))
    expected = sorted('rabbit@10.231.30.%d' % n for n in (11, 12, 13))
    assert sorted(status['running_nodes']) == expected
    assert sorted(status['disk_nodes']) == expected


def test_the_cli_speaks_tls_with_the_node(host):
    # rabbitmqctl works at all only because CTL_ERL_ARGS carries the TLS flags
    assert host.check_output('%s eval "net_kernel:nodename() =/= ignored andalso init:get_argument(proto_dist)."'
                             % CTL) == '{ok,[["inet_tls"]]}'
    env = host.file('/etc/rabbitmq/rabbitmq-env.conf').content_string
    assert 'CTL_ERL_ARGS="-proto_dist inet_tls -ssl_dist_optfile /etc/rabbitmq/inter_node_tls.config' in env


def test_peer_verification_in_the_optfile(host):
    optfile = host.file('/etc/rabbitmq/inter_node_tls.config').content_string
    assert optfile.count('{verify, verify_peer}') == 2 and '{fail_if_no_peer_cert, true}' in optfile


def test_cookie_where_rabbitmq_reads_it(host):
    cookie = host.file('/var/lib/rabbitmq/.erlang.cookie')
    assert cookie.user == 'rabbitmq' and cookie.mode == 0o400 and len(cookie.content_string.strip()) >= 32
    lines = host.check_output("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done")
    assert cookie.content_string.strip() not in lines and '-setcookie' not in lines


def test_epmd_and_distribution_on_the_private_address_only(host):
    listeners = host.check_output("ss -Hltn '( sport = :4369 or sport = :25672 )'").splitlines()
    local = sorted(line.split()[3] for line in listeners)
    address = private_address(host)
    assert local == sorted(['127.0.0.1:4369', '%s:4369' % address, '%s:25672' % address])


def test_client_port_left_as_it_was(host):
    # AMQP is the user's business: still listening everywhere, and not in the beamsec table
    assert host.socket('tcp://0.0.0.0:5672').is_listening or host.socket('tcp://:::5672').is_listening
    assert '5672 ' not in host.check_output('nft list table inet beamsec').replace('25672', '')


def test_the_old_database_was_moved_aside(host):
    assert host.file('/var/lib/rabbitmq/mnesia.before-beamsec').is_directory


def test_dedicated_interface_made_now_and_at_boot(host):
    link = host.check_output('ip -d -o link show cluster0')
    flags = link.split('<', 1)[1].split('>', 1)[0].split(',')
    assert 'macvlan mode bridge' in link and 'UP' in flags
    assert '10.231.30.' in host.check_output('ip -o -4 addr show dev cluster0')
    unit = host.service('beamsec-link-cluster0.service')
    assert unit.is_enabled and unit.is_running
