"""The collection builds, installs offline from its tarball, and documents itself."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import tool

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / 'plugins' / 'modules').glob('*.py'))


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist')
    dest = tmp_path_factory.mktemp('collections')
    subprocess.run([tool('ansible-galaxy'), 'collection', 'build', '--output-path', str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=120)
    tarball = next(out.glob('beamsec-cluster-*.tar.gz'))
    subprocess.run([tool('ansible-galaxy'), 'collection', 'install', '--offline', '--force', '-p', str(dest), str(tarball)],
                   check=True, capture_output=True, timeout=120)
    return dest


def test_tarball_holds_the_collection_and_nothing_else(installed):
    root = installed / 'ansible_collections' / 'beamsec' / 'cluster'
    for needed in ['README.md', 'MANIFEST.json', 'meta/runtime.yml', 'requirements.txt', 'docs/architecture.svg',
                   'plugins/module_utils/_dist/handshake.py', 'plugins/doc_fragments/dist.py',
                   'roles/node/tasks/main.yml', 'roles/hub/tasks/main.yml', 'roles/beamsec/defaults/main.yml',
                   'playbooks/harden.yml', 'playbooks/verify.yml', 'playbooks/rotate_cookie.yml',
                   'meta/execution-environment.yml', 'bindep.txt', 'changelogs/config.yaml']:
        assert (root / needed).exists(), needed
    # the lab (its unhardened demo node on hosts: beam_nodes, its podman connection), the scenarios, the tests,
    # CI and the developer's installer stay in the repository
    for absent in ['.cache', 'lab', 'molecule', 'tests', 'scripts', '.ci', '.config', 'Makefile',
                   'requirements-test.txt', 'benchmarks', 'playbooks/lab_app.yml', 'execution-environment.yml']:
        assert not (root / absent).exists(), absent


def test_the_installed_playbooks_run_by_fqcn(installed, tmp_path):
    """The installed copy's playbooks, by name: verify.yml on an inventory with no node reports none."""
    (tmp_path / 'hosts.yml').write_text('beam_nodes:\n  hosts: {}\n')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_NOCOLOR='1')
    for playbook in ['beamsec.cluster.harden', 'beamsec.cluster.verify', 'beamsec.cluster.rotate_cookie']:
        result = subprocess.run([tool('ansible-playbook'), '-i', str(tmp_path / 'hosts.yml'), '--syntax-check', playbook],
                                capture_output=True, text=True, timeout=120, check=False, env=env)
        assert result.returncode == 0, result.stderr
    lab = subprocess.run([tool('ansible-playbook'), '--syntax-check', 'beamsec.cluster.lab_app'],
                         capture_output=True, text=True, timeout=120, check=False, env=env)
    assert lab.returncode != 0


@pytest.mark.parametrize('module', MODULES)
def test_ansible_doc_renders(installed, module):
    result = subprocess.run([tool('ansible-doc'), 'beamsec.cluster.%s' % module], capture_output=True, text=True,
                            timeout=120, check=False,
                            env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_NOCOLOR='1'))
    assert result.returncode == 0, result.stderr
    assert 'RETURN VALUES' in result.stdout and 'EXAMPLES' in result.stdout
    assert '[WARNING]' not in result.stderr


def test_changelog_fragments_lint(tmp_path):
    """The changes are antsibull-changelog fragments; lint passes here and fails on a fragment it cannot use."""
    lint = [tool('antsibull-changelog'), 'lint']
    result = subprocess.run(lint, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    planted = tmp_path / 'bad.yml'
    planted.write_text('---\nnew_stuff:\n  - a section antsibull-changelog does not know\n')
    result = subprocess.run(lint + [str(planted)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and 'new_stuff' in result.stdout + result.stderr


def test_execution_environment_dependencies(installed, tmp_path):
    """ansible-builder reads the installed collection's meta/execution-environment.yml: its Python and system
    requirements; and execution-environment.yml makes a build context on a Debian base (apt-get)."""
    result = subprocess.run([tool('ansible-builder'), 'introspect', str(installed)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert 'cryptography' in result.stdout and 'beamsec.cluster' in result.stdout, result.stdout
    assert 'python3 [platform:dpkg]' in result.stdout and 'erlang-base' in result.stdout, result.stdout
    result = subprocess.run([tool('ansible-builder'), 'create', '-f', str(ROOT / 'execution-environment.yml'),
                             '-c', str(tmp_path / 'context')], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (tmp_path / 'context' / 'Containerfile').read_text()
    assert 'ARG PKGMGR="/usr/bin/apt-get"' in containerfile and 'beamsec-ee-base' in containerfile
    assert 'COPY _build/collections/ /usr/share/ansible/collections/' in containerfile
