"""A loopback OTP mesh for the verifier's tests, and what they ask of it."""

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import rpc
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
from tests.support.otp import Node, free_port, hardened_args, random_cookie

NAMES = ('va', 'vb', 'vc')


def call(target, module, function, *args):
    conn = target.connect()
    try:
        return rpc.call(conn, module, function, list(args), timeout=5)
    finally:
        conn.close()


def start_mesh(epmd, names=NAMES, cookie=None):
    """Hardened nodes (one port each, loopback only, connect_all false), joined two by two."""
    cookie = cookie or random_cookie()
    members = []
    try:
        for short in names:
            port = free_port()
            members.append(Node(short, epmd, cookie=cookie, args=hardened_args(port)))
            members[-1].listen = port
        for index, member in enumerate(members):
            for other in members[index + 1:]:
                assert call(member, 'net_kernel', 'connect_node', Atom(other.name)) is True
    except BaseException:
        for member in members:
            member.stop()
        raise
    return members


def specs(members, **expect):
    return [{'name': m.name, 'epmd_port': m.epmd.port, 'public_addresses': [],
             'expect': dict({'dist_auto_connect': 'never', 'listen_min': m.listen, 'listen_max': m.listen}, **expect)}
            for m in members]


def violations(findings):
    return [f for f in findings if f['outcome'] == 'violation']


def facts_of(target, **kwargs):
    """A node's facts over one hidden connection with its cookie."""
    conn = target.connect(**kwargs)
    try:
        return node_facts(conn)
    finally:
        conn.close()
