"""The operator tool reaches the hardened node with the node's own flags."""

import pytest


def distributed(host):
    return '-proto_dist none' not in host.file('/etc/beamsec/app/vm.args').content_string


def test_ping_and_eval(host):
    tool = host.file('/usr/local/sbin/beamsec-app')
    if not distributed(host):
        assert not tool.exists
        return
    assert tool.mode == 0o755 and tool.user == 'root'
    assert host.check_output('/usr/local/sbin/beamsec-app ping') == 'pong'
    name = host.check_output("/usr/local/sbin/beamsec-app eval 'node().'")
    assert name.startswith("'app@")
    # while it runs, the tool is one of the node's hidden peers, never a visible one
    assert host.check_output("/usr/local/sbin/beamsec-app eval '"
                             "Tool = fun(L) -> [N || N <- L, lists:prefix(\"beamsec-tool-\", atom_to_list(N))] end,"
                             " {length(Tool(nodes(hidden))), Tool(nodes())}.'") == '{1,[]}'


def test_eval_failure_is_an_exit_status(host):
    if not distributed(host):
        pytest.skip('no distribution on this node')
    result = host.run("/usr/local/sbin/beamsec-app eval 'erlang:error(boom).'")
    assert result.rc == 1 and 'boom' in result.stderr


def test_eval_of_bad_input_says_so(host):
    if not distributed(host):
        pytest.skip('no distribution on this node')
    result = host.run("cd /tmp && /usr/local/sbin/beamsec-app eval 'node('")
    assert result.rc == 2 and 'not Erlang expressions' in result.stderr
    assert not host.file('/tmp/erl_crash.dump').exists
