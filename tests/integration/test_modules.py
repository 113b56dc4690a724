"""The modules, run by ansible-playbook against real nodes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.otp import free_port
from tests.support.tools import tool

PLAYBOOKS = Path(__file__).with_name('playbooks')


def run_playbook(name, extra, *args):
    extra_file = Path(os.environ.get('TMPDIR', '/tmp')) / ('beamsec-extra-%d.json' % os.getpid())
    extra_file.write_text(json.dumps(dict(extra, ansible_python_interpreter=sys.executable)))
    extra_file.chmod(0o600)
    try:
        return subprocess.run(
            [tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e', '@%s' % extra_file,
             str(PLAYBOOKS / name)] + list(args),
            capture_output=True, text=True, timeout=300, check=False,
            env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    finally:
        extra_file.unlink()


@pytest.fixture(scope='module')
def extra_vars(epmd, plain_node, hardened_node, tls_node, pki):
    return {
        'epmd_port': epmd.port, 'unused_port': free_port(),
        'plain_node': plain_node.name, 'plain_cookie': plain_node.cookie,
        'plain_cookie_file': str(plain_node.home / '.erlang.cookie'),
        'hardened_node': hardened_node.name, 'hardened_cookie_file': str(hardened_node.home / '.erlang.cookie'),
        'tls_node': tls_node.name, 'tls_cookie_file': str(tls_node.home / '.erlang.cookie'),
        'client_cert': str(pki['client'][0]), 'client_key': str(pki['client'][1]), 'ca_cert': str(pki['ca']),
    }


@pytest.mark.parametrize('mode', [[], ['--check']], ids=['run', 'check'])
def test_probe_playbook(extra_vars, mode):
    result = run_playbook('probe_nodes.yml', extra_vars, *mode)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'failed=0' in result.stdout and 'changed=0' in result.stdout


def test_cookie_never_shows_in_verbose_output(extra_vars, plain_node):
    result = run_playbook('probe_nodes.yml', extra_vars, '-vvv')
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in output  # the cookie option was there, masked
    assert plain_node.cookie not in output


@pytest.mark.parametrize('extra,expected', [
    ({}, "node: node 'justaname' is not of the form 'name@host'"),
    ({'bad_node': 'a@b', 'bad_timeout': -1}, 'timeout=-1.0 must be a number of seconds above 0'),
])
def test_bad_input_names_the_option(extra, expected):
    result = run_playbook('bad_input.yml', extra)
    assert result.returncode != 0
    assert expected in result.stdout
    assert 'Traceback' not in result.stdout + result.stderr


def test_module_defaults_set_the_shared_options_once(extra_vars):
    result = run_playbook('module_defaults.yml', extra_vars)
    assert result.returncode == 0, result.stdout[-3000:]
    assert extra_vars['plain_cookie'] not in result.stdout + result.stderr
