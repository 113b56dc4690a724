"""Who knocked, on real OTP 25 nodes booted with the node role's boot.script (its knock filter): the failed
handshakes each node logs carry the peer's address, dist_audit counts them by source and kind, tells the
collection's own tagged probes from strangers (a replayed name counts once), and flags strangers above the
threshold. A node without the hook is the control: its reports count, from an unknown source."""

import json
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node as dist_node, probe_tag
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import tls_from
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from tests.support.cluster import call
from tests.support.otp import Node, free_port, hardened_args
from tests.support.tools import render_boot_script, run_ansible_module

KEY = 'the-probe-key-of-this-test'
WRONG = b'not-the-cookie'


def booted(name, epmd, tmp_path, extra=(), hook=True):
    port = free_port()
    args = hardened_args(port)
    if hook:
        script = tmp_path / ('%s.script' % name)
        render_boot_script(script, port, port)
        args += ['-eval', '{ok, ok} = file:script("%s")' % script]
    return Node(name, epmd, args=args + list(extra))


@pytest.fixture(scope='module')
def knocked(epmd, pki, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('knocks')
    cert, key = pki['node']
    optfile = tmp / 'ssl_dist.conf'
    optfile.write_text('[{server, [{certfile, "%s"}, {keyfile, "%s"}, {cacertfile, "%s"}, {verify, verify_peer}, '
                       '{fail_if_no_peer_cert, true}]}, {client, []}].\n' % (cert, key, pki['ca']))
    nodes = {}
    try:
        nodes['plain'] = booted('knock_plain', epmd, tmp)
        nodes['allow'] = booted('knock_allow', epmd, tmp, ['-eval', "ok = net_kernel:allow(['friend@127.0.0.1'])"])
        nodes['tls'] = booted('knock_tls', epmd, tmp, ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', str(optfile)])
        nodes['bare'] = booted('knock_bare', epmd, tmp, hook=False)
        yield nodes
    finally:
        for started in nodes.values():
            started.stop()


def probe(target, key=None, **kwargs):
    probe_tag.use_key(key)
    try:
        kwargs.setdefault('cookie', WRONG)
        return dist_node.probe(node=target.name, epmd_port=target.epmd.port, timeout=5, **kwargs)
    finally:
        probe_tag.use_key(None)


def logged(target, words, count, timeout=20):
    """The node's log lines holding words, once there are count of them (the node writes them after the
    connection has gone, on its own time), or as many as there are when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in target.log.read_text().splitlines() if words in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def last_name(target, count):
    """The claimed name in the count-th challenge report."""
    return logged(target, 'Invalid challenge', count)[count - 1].split("'")[1]


def audit(target, **args):
    code, out = run_ansible_module('beamsec.cluster.dist_audit', dict(
        {'node': target.name, 'log_file': str(target.log), 'probe_key': KEY, 'threshold': 1}, **args))
    assert code == 0, out
    result = json.loads(out.split('=>', 1)[1].splitlines()[0])
    assert KEY not in out
    return result


def test_a_wrong_cookie_is_counted_by_source_and_ours_apart(knocked):
    plain = knocked['plain']
    assert probe(plain)['outcome'] == 'rejected'  # a stranger
    ours = probe(plain, KEY)
    assert ours['outcome'] == 'rejected'
    name = last_name(plain, 2)
    assert probe(plain, our_name=name)['outcome'] == 'rejected'  # our name, replayed: a stranger again
    assert len(logged(plain, 'Invalid challenge', 3)) == 3
    result = audit(plain)
    assert (result['summary']['ours'], result['summary']['strangers']) == (1, 2)
    assert result['summary']['by_source'] == {'127.0.0.1': 2}
    assert result['summary']['by_kind'] == {'challenge': 2, 'disallowed': 0, 'tls': 0}
    assert result['finding']['outcome'] == 'violation' and result['finding']['observed'] == 2  # above 1
    assert audit(plain, threshold=2)['finding']['outcome'] == 'ok'


def test_a_report_the_filter_cannot_read_leaves_it_in_place(knocked):
    """Logger removes a filter that raises: a report shaped like a TLS alert without its keys must not do that."""
    plain = knocked['plain']
    assert call(plain, 'logger', 'notice', {Atom('alert'): Atom('x'), Atom('role'): Atom('server')}) == Atom('ok')
    before = len(logged(plain, 'Invalid challenge', 0))
    assert probe(plain)['outcome'] == 'rejected'
    assert logged(plain, 'Invalid challenge', before + 1)[-1].endswith(']')  # still tagged: "[beamsec knock ...]"
    assert 'removed_failing_filter' not in plain.log.read_text()


def test_a_disallowed_name_is_escaped_and_counted(knocked):
    allow = knocked['allow']
    assert probe(allow)['outcome'] == 'not_allowed'
    assert probe(allow, our_name='x\n** forged@127.0.0.1')['outcome'] in ('not_allowed', 'protocol_error')
    logged(allow, 'disallowed node', 2, timeout=5)  # the second, if OTP took the name at all
    assert not any(line.startswith('** forged') for line in allow.log.read_text().splitlines())
    result = audit(allow)
    assert result['summary']['by_kind']['disallowed'] >= 1 and result['summary']['by_source'] == {
        '127.0.0.1': result['summary']['strangers']}


def test_tls_knocks_and_a_wrong_cookie_over_tls(knocked, pki):
    target = knocked['tls']
    cert, key = pki['client']
    anonymous = tls_from({'tls': True, 'tls_cafile': str(pki['ca'])})
    assert probe(target, tls=anonymous)['outcome'] == 'tls_rejected'  # no client certificate
    client = tls_from({'tls': True, 'tls_cafile': str(pki['ca']), 'tls_certfile': str(cert), 'tls_keyfile': str(key)})
    assert probe(target, tls=client)['outcome'] == 'rejected'
    logged(target, 'beamsec knock', 2)
    result = audit(target, threshold=5)
    assert result['summary']['by_kind'] == {'challenge': 1, 'disallowed': 0, 'tls': 1}
    # through the TLS connection's own processes to its socket; an alert may come after the socket closed
    seen = {(k['kind'], k['source']) for k in result['knocks']}
    assert seen <= {('challenge', '127.0.0.1'), ('tls', '127.0.0.1'), ('tls', 'unknown')}
    assert ('challenge', '127.0.0.1') in seen


def test_a_node_without_the_hook_still_counts_from_an_unknown_source(knocked):
    bare = knocked['bare']
    assert probe(bare)['outcome'] == 'rejected'
    logged(bare, 'Invalid challenge', 1)
    assert audit(bare)['summary']['by_source'] == {'unknown': 1}


def test_a_name_made_for_another_node_is_a_strangers(knocked):
    """A node sees the tagged names of the probes made of it: replayed at another node they hide nothing."""
    plain, bare = knocked['plain'], knocked['bare']
    count = len(logged(plain, 'Invalid challenge', 0)) + 1
    assert probe(plain, KEY)['outcome'] == 'rejected'
    name = last_name(plain, count)
    before = audit(bare)['summary']
    seen = len(logged(bare, 'Invalid challenge', 0))
    assert probe(bare, our_name=name)['outcome'] == 'rejected'
    logged(bare, 'Invalid challenge', seen + 1)
    after = audit(bare)['summary']
    assert (after['ours'], after['strangers']) == (before['ours'], before['strangers'] + 1)


def test_a_record_too_long_to_read_is_a_violation(knocked):
    result = audit(knocked['bare'], max_lines=1)
    assert result['finding']['outcome'] == 'violation' and 'more than 1 lines' in result['finding']['detail']


def test_a_node_that_would_not_log_its_failed_handshakes_is_a_violation(epmd, knocked):
    """The record exists only if OTP logs them: a node whose logger drops errors leaves dist_audit nothing to read
    (a quiet record that proves nothing), and cluster_verify reads that from the running node."""
    quiet = Node('knock_quiet', epmd, args=hardened_args(free_port()) + ['-kernel', 'logger_level', 'critical'])
    try:
        for target, expected in ((knocked['plain'], 'ok'), (quiet, 'violation')):
            findings, dummy = verify([{'name': target.name, 'epmd_port': epmd.port}], target.cookie.encode(),
                                     checks=['facts'], topology='none')
            assert [(f['observed'], f['outcome']) for f in findings if f['check'] == 'knock_logging'] == [
                (expected == 'ok', expected)]
    finally:
        quiet.stop()
