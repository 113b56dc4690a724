"""The fuzz run's findings in plugins/, each as a minimal input, end to end on loopback.

A fake node that knows the cookie (tests/support/hostile.py) answers the facts' calls as a
hardened OTP 25 node does (the integration tests' ``normal``), but for one or a few calls; the
verifier reads it through a real socket. Each case prints what the verifier concludes and what
OTP 25 does with the same answers. Run: python tests/fuzz/reproducers.py
"""

import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT))
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf, node as dist_node, verify  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Deadline  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError  # noqa: E402
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.facts import node_facts  # noqa: E402
from tests.support.hostile import HostileNode, Raw  # noqa: E402
from tests.support.otp import LOOPBACK  # noqa: E402

A = etf.Atom
COOKIE = b'reproducer-cookie'
NAME = 'hostile@127.0.0.1'
PORT = 40000


def normal(module, function, args, tls=False):
    """What a hardened OTP 25 node answers (as tests/integration/test_hostile_facts.py has it)."""
    key = (module, function) + tuple(str(a) for a in args[1:2] or args[:1])
    env = {'connect_all': False, 'dist_auto_connect': A('never'), 'inet_dist_listen_min': PORT,
           'inet_dist_listen_max': PORT, 'inet_dist_use_interface': (127, 0, 0, 1)}
    if key[:2] == ('application', 'get_env'):
        return (A('ok'), env[key[2]])
    answers = {
        ('init', 'get_argument'): A('error'), ('os', 'getenv'): False, ('erlang', 'nodes'): [],
        ('erlang', 'node'): A(NAME), ('erlang', 'system_info'): '25', ('net_kernel', 'get_net_ticktime'): 60,
        ('net_kernel', 'epmd_module'): A('erl_epmd'),
        ('sys', 'get_state', 'net_kernel'): (A('state'), A(NAME), A('longnames'), [listen(tls=tls)]),
        ('sys', 'get_state', 'global_name_server'): (A('state'), (A('conf'), False, True), {}),
    }
    return answers[key] if key in answers else answers[key[:2]]


def listen(address=(127, 0, 0, 1), protocol=None, tls=False):
    protocol = protocol if protocol is not None else A('tls' if tls else 'tcp')
    return (A('listen'), etf.Port(A(NAME), 1, 1), etf.Pid(A(NAME), 1, 0, 1),
            (A('net_address'), (address, PORT), 'localhost', protocol, A('inet')),
            A('inet_tls_dist' if tls else 'inet_tcp_dist'))


def facts_of(overrides, tls=False):
    """node_facts of a fake node answering ``overrides`` ('module:function[:arg]' -> answer), else normal."""
    def answer(module, function, args):
        for key in ('%s:%s:%s' % (module, function, args[-1] if args else ''), '%s:%s' % (module, function)):
            if key in overrides:
                return overrides[key]
        return normal(module, function, args, tls)
    peer = HostileNode(COOKIE, answer, name=NAME)
    try:
        deadline = Deadline(3.0)
        conn = dist_node.connect_node(node=NAME, host=LOOPBACK, port=peer.port, cookie=COOKIE, deadline=deadline)
        try:
            return node_facts(conn, deadline=deadline)
        finally:
            conn.close()
    finally:
        peer.stop()


def findings_of(facts, tls=False):
    target = verify.Target({'name': NAME, 'expect': {'dist_auto_connect': 'never', 'listen_min': PORT}}, COOKIE)
    found = verify._facts_findings(target, facts, tls)  # pylint: disable=protected-access
    return dict((f['check'], f['outcome']) for f in found)


def case(title, otp, facts, tls=False, show=None):
    print('== %s' % title)
    print('   findings: %s' % findings_of(facts, tls))
    if show:
        print('   facts: %s' % (show(facts),))
    print('   OTP 25: %s' % otp)


def main():
    case('1. -connect_all given as an atom: init:get_argument(connect_all) -> {ok, [[false]]}, kernel env unset, '
         'no readable #conf{}',
         "global's init matches {ok, [[\"false\" | _] | _]} (a charlist) only: it runs with connect_all = true",
         facts_of({'application:get_env:connect_all': A('undefined'), 'sys:get_state:global_name_server': A('x'),
                   'init:get_argument:connect_all': (A('ok'), [[False]])}),
         show=lambda f: (f['connect_all'], f['connect_all_source']))
    case('1b. the same with a binary: {ok, [[<<"false">>]]}', 'connect_all = true, as above',
         facts_of({'application:get_env:connect_all': A('undefined'), 'sys:get_state:global_name_server': A('x'),
                   'init:get_argument:connect_all': (A('ok'), [[b'false']])}),
         show=lambda f: (f['connect_all'], f['connect_all_source']))
    case('2. under TLS, an inet_tcp_dist listener whose #net_address.protocol is the string "tls", not the atom',
         'protocol is an atom (tls for inet_tls_dist); "tls" (a list) is no carrier OTP knows, '
         'and the module is plain TCP',
         facts_of({'sys:get_state:net_kernel': (A('state'), A(NAME), A('longnames'), [listen(protocol='tls')])},
                  tls=True), tls=True, show=lambda f: f['listen'])
    big = [[b'v' * 90 for dummy in range(40)] for dummy in range(64)]
    facts = facts_of({'init:get_argument:proto_dist': (A('ok'), big)})
    print('== 3. init:get_argument(proto_dist) -> 64 value lists of 40 binaries of 90 bytes (one 250 KB frame)')
    print('   dist_info result: %d bytes of JSON, proto_dist_argument %d of them (shown() allows 64 items, '
          '256 characters)' % (len(json.dumps(facts)), len(json.dumps(facts['proto_dist_argument']))))
    nan = b'h\x02d\x00\x02okF' + struct.pack('>d', float('nan'))
    facts = facts_of({'application:get_env:connect_all': Raw(nan)})
    try:
        json.dumps(facts, allow_nan=False)
        print('== 4. JSON ok')
    except ValueError as exc:
        print('== 4. application:get_env(kernel, connect_all) -> {ok, NaN}: connect_all_kernel_env = %r; '
              'json.dumps writes a bare NaN (not JSON): %s' % (facts['connect_all_kernel_env'], exc))
    case('5. (ambiguous state) a second listen list, or a first one skipped for one malformed record',
         'net_kernel has one listen field; here it holds a listener on 0.0.0.0 (and one malformed record)',
         facts_of({'sys:get_state:net_kernel': (A('state'), A(NAME), [listen((0, 0, 0, 0)), (A('listen'), 1)],
                                                [listen()])}), show=lambda f: f['listen'])
    export = b'qs\x01ms\x01f'  # EXPORT_EXT fun m:f/Arity, the arity being any term that follows
    for title, arity in (
            ('6. a fun m:f/Arity whose arity is a bignum of 4,816 digits', b'o\x00\x00\x07\xd0\x00' + b'\xff' * 2000),
            ('7. a fun m:f/Arity whose arity is a list of 2,000 ones', b'l\x00\x00\x07\xd0' + b'a\x01' * 2000 + b'j')):
        try:
            etf.decode(bytes((etf.VERSION,)) + export + arity)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            print('== %s: etf.decode raises %s (%d characters): %s' % (title, type(exc).__name__, len(str(exc)),
                                                                       str(exc)[:100]))
        try:
            facts_of({'erlang:node': Raw(export + arity)})
        except Exception as exc:  # pylint: disable=broad-exception-caught
            print('   as the answer to erlang:node(), node_facts raises %s (a DistError: %s)' % (
                type(exc).__name__, isinstance(exc, DistError)))


if __name__ == '__main__':
    main()
