"""dist_cookie against real OTP nodes on loopback: a cookie changed at run time, connections kept."""

import json

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.node import probe
from tests.support.otp import Node, random_cookie
from tests.support.tools import run_ansible_module

STRONG = 'Zq8-vW3.kP9_xL2~mN7-bR4.tY6_cH1~jD5'


def call(node, cookie, module, function, *args):
    conn = node.connect(cookie=cookie.encode())
    try:
        return rpc.call(conn, module, function, list(args), timeout=5)
    finally:
        conn.close()


def outcome(node, cookie):
    return probe(node=node.name, cookie=cookie.encode(), epmd_port=node.epmd.port, timeout=5)['outcome']


def result(out):
    """The module's JSON from `ansible -o` output: 'localhost | CHANGED => {...}'."""
    return json.JSONDecoder().raw_decode(out[out.index('{'):])[0]


@pytest.fixture()
def pair(epmd):
    old = random_cookie()
    members = []
    try:
        members = [Node('ca', epmd, cookie=old), Node('cb', epmd, cookie=old)]
        assert call(members[0], old, 'net_kernel', 'connect_node', Atom(members[1].name)) is True
        yield members
    finally:
        for member in members:
            member.stop()


def test_rotation_at_run_time_keeps_the_connection_and_leaks_nothing(pair):
    a, b = pair
    old, new = a.cookie, random_cookie()
    args = {'node': a.name, 'epmd_port': a.epmd.port, 'cookie': old, 'new_cookie': new}
    code, out = run_ansible_module('beamsec.cluster.dist_cookie', args, check=True)
    assert code == 0 and result(out)['changed'] and outcome(a, old) == 'accepted'  # check mode sets nothing
    code, out = run_ansible_module('beamsec.cluster.dist_cookie', args)
    assert code == 0 and result(out)['changed'] and result(out)['connected_with'] == 'cookie', out
    assert old not in out and new not in out
    assert outcome(a, old) == 'rejected' and outcome(a, new) == 'accepted'
    assert call(a, new, 'erlang', 'nodes') == [b.name]  # the established link is still up
    # the second run finds the node on the new cookie (connects with it) and changes nothing
    code, out = run_ansible_module('beamsec.cluster.dist_cookie', args)
    assert code == 0 and not result(out)['changed'] and result(out)['connected_with'] == 'new_cookie', out


def test_a_per_peer_cookie_lets_one_peer_in_and_leaves_the_default(pair, epmd):
    a, b = pair
    tenant = Node('ct', epmd, cookie=random_cookie())
    try:
        assert call(a, a.cookie, 'net_kernel', 'connect_node', Atom(tenant.name)) is False
        args = {'node': a.name, 'epmd_port': a.epmd.port, 'cookie_file': str(a.home / '.erlang.cookie'),
                'peer': tenant.name, 'new_cookie': tenant.cookie}
        code, out = run_ansible_module('beamsec.cluster.dist_cookie', args)
        assert code == 0 and result(out)['changed'] and result(out)['scope'] == tenant.name, out
        assert call(a, a.cookie, 'net_kernel', 'connect_node', Atom(tenant.name)) is True
        assert outcome(a, a.cookie) == 'accepted'  # the default is untouched
        code, out = run_ansible_module('beamsec.cluster.dist_cookie', args)
        assert code == 0 and not result(out)['changed']
    finally:
        tenant.stop()


@pytest.mark.parametrize('args,expected', [
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32}, 'one of the following is required: new_cookie, new_cookie_file'),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': 'é' * 32}, 'new_cookie: bad characters'),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': STRONG, 'peer': 'nohost'}, 'peer: '),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie_file': '/nonexistent'}, 'new_cookie_file: cannot read'),
    # the node role's rule: a weak new cookie is refused before any connection
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': 'monster'}, 'new_cookie is weak (it has 7 characters'),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': 'y' * 40}, 'new_cookie is weak (it uses one character'),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': ''}, 'new_cookie is empty'),
    ({'node': 'a@127.0.0.1', 'cookie': '', 'new_cookie': STRONG}, 'cookie is empty'),
    ({'node': 'a@' + 'h' * 300, 'cookie': 'x' * 32, 'new_cookie': STRONG}, 'node is 302 characters'),
    ({'host': 'h' * 300, 'port': 9100, 'cookie': 'x' * 32, 'new_cookie': STRONG}, 'must be an IP address or a host'),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': STRONG, 'timeout': 'inf'}, 'timeout=inf must be'),
    ({'node': 'a@127.0.0.1', 'cookie': 'x' * 32, 'new_cookie': STRONG, 'timeout': 1e9}, 'at most 3600'),
])
def test_bad_input_names_the_option(args, expected):
    code, out = run_ansible_module('beamsec.cluster.dist_cookie', args)
    assert code != 0 and expected in out and 'Traceback' not in out, out


def test_a_node_that_is_down_is_reported_within_the_timeout(epmd):
    args = {'node': 'gone@127.0.0.1', 'epmd_port': epmd.port, 'cookie': 'x' * 32, 'new_cookie': STRONG,
            'timeout': 2}
    code, out = run_ansible_module('beamsec.cluster.dist_cookie', args)
    assert code != 0 and result(out)['outcome'] == 'not_registered' and 'Traceback' not in out
