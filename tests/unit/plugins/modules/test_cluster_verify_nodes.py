"""cluster_verify's nodes option: each node's own cookie file is read, and what is wrong with the file is said."""

import os
import pwd
import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import CONNECTION_SPEC, ParamError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.seat import SeatError, run_as
from ansible_collections.beamsec.cluster.plugins.modules.cluster_verify import (
    ARGUMENT_SPEC, NODE_SPEC, check_seat, node_specs)

COOKIE = 'Zq8-vW3.kP9_xL2~mN7-bR4.tY6_cH1~jD5'


def node(name, **extra):
    return dict({'name': name, 'port': None, 'epmd_port': 4369, 'address': None, 'cookie': None,
                 'cookie_file': None, 'public_addresses': [], 'expect': {}}, **extra)


def test_a_nodes_cookie_file_open_to_others_is_warned_about(tmp_path):
    loose, tight = tmp_path / 'loose', tmp_path / 'tight'
    for path, mode in ((loose, 0o644), (tight, 0o400)):
        path.write_text(COOKIE)
        path.chmod(mode)
    specs, warnings = node_specs({'nodes': [node('a@10.0.0.1', cookie_file=str(loose)),
                                            node('b@10.0.0.2', cookie_file=str(tight))], 'hubs': []})
    assert [s['cookie_bytes'] for s in specs] == [COOKIE.encode()] * 2
    assert len(warnings) == 1 and warnings[0].startswith('nodes[0].cookie_file: ') and '644' in warnings[0]
    assert COOKIE not in warnings[0]


def test_a_missing_cookie_file_names_the_node(tmp_path):
    with pytest.raises(ParamError, match=r'nodes\[0\]\.cookie_file'):
        node_specs({'nodes': [node('a@10.0.0.1', cookie_file=str(tmp_path / 'none'))], 'hubs': []})


def test_the_connection_options_are_the_shared_ones():
    for key in ('cookie', 'cookie_file', 'tls', 'tls_certfile', 'tls_keyfile', 'tls_cafile', 'timeout'):
        assert ARGUMENT_SPEC[key] is CONNECTION_SPEC[key]
    for key in ('port', 'epmd_port', 'cookie', 'cookie_file'):
        assert NODE_SPEC[key] is CONNECTION_SPEC[key]


def test_the_local_seat_takes_only_exposure_probes_and_no_cookie():
    seat = {'run_as': 'nobody', 'checks': ['exposure'], 'cookie': None, 'cookie_file': None, 'nodes': [node('a@h')]}
    check_seat(seat)
    with pytest.raises(ParamError, match=r'run_as=nobody runs only checks: \[exposure\]'):
        check_seat(dict(seat, checks=['exposure', 'auth']))
    with pytest.raises(ParamError, match='give no cookie or cookie_file'):
        check_seat(dict(seat, nodes=[node('a@h', cookie_file='/x')]))


@pytest.mark.parametrize('account, says', [('root', 'is root'), ('no-such-account-here', 'no local account')])
def test_a_seat_that_cannot_be_taken_is_an_error_not_a_result(account, says):
    with pytest.raises(SeatError, match=says):
        run_as(account, lambda: 1, 5)


def test_the_seat_is_the_accounts_and_its_faults_and_hangs_are_errors():
    assert run_as('nobody', os.geteuid, 5) == pwd.getpwnam('nobody').pw_uid
    with pytest.raises(SeatError, match='failed: ZeroDivisionError'):
        run_as('nobody', lambda: 1 // 0, 5)
    with pytest.raises(SeatError, match='did not end within 0.5 s'):
        run_as('nobody', lambda: time.sleep(30), 0.5)
