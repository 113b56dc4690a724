"""The controller's store (generated cookies, PKI, reports) has one default for every inventory source:
beside an inventory file or directory, else in the user's ~/.beamsec; never relative, never the root."""

import json
import os
import sys
from pathlib import Path
import subprocess

import pytest

from tests.support.tools import tool

PLAYBOOK = Path(__file__).with_name('playbooks') / 'stores.yml'
LOCAL = 'ansible_connection=local ansible_python_interpreter=%s' % sys.executable


def run(tmp_path, inventory):
    home = tmp_path / 'home'
    home.mkdir()
    argv = [tool('ansible-playbook'), str(PLAYBOOK)] + (['-i', inventory] if inventory else [])
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=str(tmp_path),
                            env=dict(os.environ, HOME=str(home), ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
                                     ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0'))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index('{'):])
    seen = {}
    for task in report['plays'][1]['tasks']:
        for outcome in task['hosts'].values():
            if isinstance(outcome.get('msg'), dict):
                seen[outcome['msg']['host']] = outcome['msg']
    return home / '.beamsec' / 'cookie', seen


def check(seen, expected):
    for host, store in expected.items():
        assert seen[host]['role'] == seen[host]['playbooks'] == str(store), seen[host]
        assert Path(store).is_file() and Path(store).stat().st_mode & 0o077 == 0
    assert not Path('/.beamsec').exists()


def test_an_ini_file_keeps_it_beside_itself(tmp_path):
    (tmp_path / 'inv').mkdir()
    (tmp_path / 'inv' / 'hosts.ini').write_text('h1 %s\n' % LOCAL)
    home_store, seen = run(tmp_path, str(tmp_path / 'inv' / 'hosts.ini'))
    check(seen, {'h1': tmp_path / 'inv' / '.beamsec' / 'cookie', 'added': home_store, 'localhost': home_store})


def test_a_yaml_file_keeps_it_beside_itself(tmp_path):
    (tmp_path / 'hosts.yml').write_text('all:\n  hosts:\n    h1: {ansible_connection: local, '
                                        'ansible_python_interpreter: %s}\n' % sys.executable)
    home_store, seen = run(tmp_path, str(tmp_path / 'hosts.yml'))
    check(seen, {'h1': tmp_path / '.beamsec' / 'cookie', 'added': home_store})


def test_a_directory_keeps_it_inside_hidden(tmp_path):
    (tmp_path / 'inventory').mkdir()
    (tmp_path / 'inventory' / 'hosts').write_text('h1 %s\n' % LOCAL)
    home_store, seen = run(tmp_path, str(tmp_path / 'inventory'))
    check(seen, {'h1': tmp_path / 'inventory' / '.beamsec' / 'cookie', 'added': home_store})


@pytest.mark.parametrize('inventory,hosts', [('localhost,', ['localhost', 'added']), (None, ['localhost'])],
                         ids=['host-list', 'implicit-localhost'])
def test_no_inventory_file_keeps_it_in_the_users_home(tmp_path, inventory, hosts):
    home_store, seen = run(tmp_path, inventory)
    check(seen, dict.fromkeys(hosts, home_store))
