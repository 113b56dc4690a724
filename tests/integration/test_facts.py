"""dist_info's facts, read over rpc from real nodes."""

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import tls_context
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from tests.support.cluster import facts_of


def test_default_node(plain_node):
    facts = facts_of(plain_node)
    assert facts['node'] == plain_node.name
    assert facts['otp_release'] == '25'
    assert facts['connect_all'] is True
    assert facts['connect_all_kernel_env'] is True  # kernel.app's default
    # unset: net_kernel auto-connects every time (only {ok, never} and {ok, once} change that)
    assert facts['dist_auto_connect'] == 'always' and facts['dist_auto_connect_configured'] is None
    assert facts['proto_dist'] == 'inet_tcp'
    assert facts['inet_dist_use_interface'] is None
    assert facts['listen'] == [{'address': '0.0.0.0', 'port': plain_node.port, 'protocol': 'tcp',
                                'proto_dist': 'inet_tcp'}]
    assert facts['net_ticktime'] == 60
    assert facts['nodes_hidden'] == []  # the probe itself is left out
    assert facts['epmd_module'] == 'erl_epmd'
    assert facts['erl_epmd_port'] == str(plain_node.epmd.port)


def test_hardened_node(hardened_node):
    facts = facts_of(hardened_node)
    assert facts['connect_all'] is False
    assert facts['connect_all_kernel_env'] is False
    assert facts['connect_all_init_argument'] is None
    assert facts['dist_auto_connect'] == 'never'
    assert facts['inet_dist_use_interface'] == '127.0.0.1'
    assert facts['inet_dist_listen_min'] == facts['inet_dist_listen_max'] == hardened_node.port
    assert facts['listen'] == [{'address': '127.0.0.1', 'port': hardened_node.port, 'protocol': 'tcp',
                                'proto_dist': 'inet_tcp'}]
    assert facts['net_ticktime'] == 20
    assert facts['start_epmd'] is False


def test_deprecated_connect_all_flag_is_reported(epmd, nodes):
    from tests.support.otp import Node
    nodes.append(Node('oldflag', epmd, args=['-connect_all', 'false']))
    facts = facts_of(nodes[-1])
    assert facts['connect_all_init_argument'] == [['false']]
    assert facts['connect_all'] is False


def test_tls_node_facts(tls_node, pki):
    facts = facts_of(tls_node, tls=tls_context(*pki['client'], cafile=pki['ca']))
    assert facts['proto_dist'] == 'inet_tls'
    assert [sock['protocol'] for sock in facts['listen']] == ['tls']
    assert facts['ssl_dist_optfile'].endswith('ssl_dist.conf')


def test_connected_nodes_are_listed(plain_node, hardened_node):
    conn = plain_node.connect()
    try:
        rpc.call(conn, 'erlang', 'set_cookie', [Atom(hardened_node.name), Atom(hardened_node.cookie)])
        assert rpc.call(conn, 'net_adm', 'ping', [Atom(hardened_node.name)]) == 'pong'
        facts = node_facts(conn)
        assert hardened_node.name in facts['nodes_visible']
        rpc.call(conn, 'erlang', 'disconnect_node', [Atom(hardened_node.name)])
    finally:
        conn.close()


def test_rpc_reports_failures_on_the_node(plain_node):
    conn = plain_node.connect()
    try:
        try:
            rpc.call(conn, 'no_such_module', 'f', [])
        except rpc.BadRpc as exc:
            assert exc.reason[0] == 'EXIT' and exc.reason[1][0] == 'undef'
        else:
            raise AssertionError('expected badrpc')
        assert rpc.call(conn, 'io', 'format', ['printed by a test~n']) == 'ok'  # io comes back to us
        assert rpc.call(conn, 'lists', 'reverse', [[1, 2, 3]]) == [3, 2, 1]
    finally:
        conn.close()


def test_ticks_are_answered_while_we_wait(epmd, nodes):
    """net_ticktime 4: a peer silent for ~4 s is dropped, so a 6 s call only
    returns if our reads answered the node's ticks meanwhile."""
    from tests.support.otp import Node
    nodes.append(Node('ticker', epmd, args=['-kernel', 'net_ticktime', '4']))
    target = nodes[-1]
    conn = target.connect()
    try:
        assert rpc.call(conn, 'timer', 'sleep', [6000], timeout=10) == 'ok'
        assert str(conn.our_node) in [str(n) for n in rpc.call(conn, 'erlang', 'nodes', [Atom('hidden')])]
    finally:
        conn.close()


def test_only_output_is_answered_for_the_group_leader(plain_node):
    """Our pid is the call's group leader: output is acknowledged, input and options are refused."""
    conn = plain_node.connect()
    try:
        assert rpc.call(conn, 'io', 'put_chars', ['out']) == 'ok'
        assert rpc.call(conn, 'io', 'get_line', ['prompt> ']) == (Atom('error'), Atom('request'))
        assert rpc.call(conn, 'io', 'getopts', []) == (Atom('error'), Atom('request'))
    finally:
        conn.close()
