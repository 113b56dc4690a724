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


def test_tarball_holds_the_collection(installed):
    root = installed / 'ansible_collections' / 'beamsec' / 'cluster'
    for needed in ['README.md', 'MANIFEST.json', 'meta/runtime.yml',
                   'plugins/module_utils/_dist/handshake.py', 'plugins/doc_fragments/dist.py']:
        assert (root / needed).exists(), needed
    assert not (root / '.cache').exists()


@pytest.mark.parametrize('module', MODULES)
def test_ansible_doc_renders(installed, module):
    result = subprocess.run([tool('ansible-doc'), 'beamsec.cluster.%s' % module], capture_output=True, text=True,
                            timeout=120, check=False,
                            env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_NOCOLOR='1'))
    assert result.returncode == 0, result.stderr
    assert 'RETURN VALUES' in result.stdout and 'EXAMPLES' in result.stdout
    assert '[WARNING]' not in result.stderr
