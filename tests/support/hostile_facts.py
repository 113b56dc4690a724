"""A node that knows the cookie and answers the facts' calls: as a hardened OTP 25 node
would (``normal``), or with whatever a test gives for some calls (``hostile``)."""

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf, node as dist_node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts
from tests.support.hostile import HostileNode
from tests.support.otp import LOOPBACK

A = etf.Atom
COOKIE = b'hostile-facts-cookie'
NAME = 'hostile@127.0.0.1'
PORT = 40000


def normal(module, function, args):
    """What a hardened OTP 25 node answers to each of the facts' calls."""
    key = (module, function) + tuple(str(a) for a in args[1:2] or args[:1])
    env = {'connect_all': False, 'dist_auto_connect': A('never'), 'inet_dist_listen_min': PORT,
           'inet_dist_listen_max': PORT, 'inet_dist_use_interface': (127, 0, 0, 1)}
    if key[:2] == ('application', 'get_env'):
        return (A('ok'), env[key[2]])
    listen = (A('listen'), etf.Port(A(NAME), 1, 1), etf.Pid(A(NAME), 1, 0, 1),
              (A('net_address'), ((127, 0, 0, 1), PORT), 'localhost', A('tcp'), A('inet')), A('inet_tcp_dist'))
    answers = {
        ('init', 'get_argument'): A('error'), ('os', 'getenv'): False, ('erlang', 'nodes'): [],
        ('erlang', 'node'): A(NAME), ('erlang', 'system_info'): '25', ('net_kernel', 'get_net_ticktime'): 60,
        ('net_kernel', 'epmd_module'): A('erl_epmd'), ('logger', 'allow'): True, ('persistent_term', 'get'): {},
        ('sys', 'get_state', 'net_kernel'): (A('state'), A(NAME), A('longnames'), [listen]),
        ('sys', 'get_state', 'global_name_server'): (A('state'), (A('conf'), False, True), {}),
    }
    return answers[key] if key in answers else answers[key[:2]]


def hostile(**overrides):
    """``normal`` but for the calls named 'module:function' (or 'module:function:arg')."""
    def answer(module, function, args):
        for key in ('%s:%s:%s' % (module, function, args[-1] if args else ''), '%s:%s' % (module, function)):
            if key in overrides:
                return overrides[key]
        return normal(module, function, args)
    return answer


def facts_from(peer, timeout=3.0):
    deadline = Deadline(timeout)
    conn = dist_node.connect_node(node=NAME, host=LOOPBACK, port=peer.port, cookie=COOKIE, deadline=deadline)
    try:
        return node_facts(conn, deadline=deadline)
    finally:
        conn.close()


def fake_nodes():
    """make(answer, **kwargs) -> a HostileNode under NAME with COOKIE; stop_all() stops them by socket."""
    started = []

    def make(answer, **kwargs):
        started.append(HostileNode(COOKIE, answer, name=NAME, **kwargs))
        return started[-1]

    def stop_all():
        for peer in started:
            peer.stop()
    return make, stop_all
