"""The operator tool reaches the hardened node with the node's own flags."""

import pytest


def name(host):
    """app, or rabbit for the rabbitmq flavour (which has no vm.args of ours)."""
    return 'rabbit' if host.file('/etc/rabbitmq/conf.d/50-beamsec.conf').exists else 'app'


def distributed(host):
    vm_args = host.file('/etc/beamsec/%s/vm.args' % name(host))
    return not vm_args.exists or '-proto_dist none' not in vm_args.content_string


def tool(host):
    return '/usr/local/sbin/beamsec-' + name(host)


def test_ping_and_eval(host):
    script = host.file(tool(host))
    if not distributed(host):
        assert not script.exists
        return
    assert script.mode == 0o755 and script.user == 'root'
    assert host.check_output('%s ping' % tool(host)) == 'pong'
    node = host.check_output("%s eval 'node().'" % tool(host))
    assert node.startswith("'%s@" % name(host))
    # while it runs, the tool is one of the node's hidden peers, never a visible one
    assert host.check_output(tool(host) + " eval '"
                             "Tool = fun(L) -> [N || N <- L, lists:prefix(\"beamsec-tool-\", atom_to_list(N))] end,"
                             " {length(Tool(nodes(hidden))), Tool(nodes())}.'") == '{1,[]}'


def test_eval_failure_is_an_exit_status(host):
    if not distributed(host):
        pytest.skip('no distribution on this node')
    result = host.run("%s eval 'erlang:error(boom).'" % tool(host))
    assert result.rc == 1 and 'boom' in result.stderr


def test_eval_of_bad_input_says_so(host):
    if not distributed(host):
        pytest.skip('no distribution on this node')
    result = host.run("cd /tmp && %s eval 'node('" % tool(host))
    assert result.rc == 2 and 'not Erlang expressions' in result.stderr
    assert not host.file('/tmp/erl_crash.dump').exists
