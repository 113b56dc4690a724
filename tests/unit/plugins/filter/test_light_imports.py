"""The filter and test plugins import nothing of the distribution client but small modules of constants: Ansible
loads them again in every worker (a process per task and host), and the collection loader compiles each imported
module from source there, so an import of the client (etf, connection, verify...) cost every task about 60 ms of
controller CPU (measured with harden.yml on the lab)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
PACKAGE = 'ansible_collections.beamsec.cluster'
CLIENT = PACKAGE + '.plugins.module_utils._dist.'
LIGHT = {'errors', 'kernel', 'cookie'}  # constants and the cookie's checks: the standard library only


def test_the_plugins_import_no_more_of_the_client_than_its_constants():
    plugins = ['%s.plugins.%s.%s' % (PACKAGE, path.parent.name, path.stem)
               for kind in ('filter', 'test') for path in sorted((ROOT / 'plugins' / kind).glob('*.py'))]
    code = ('import sys; sys.path.insert(0, %r); import tests.conftest; import importlib\n'
            'for name in %r: importlib.import_module(name)\n'
            'print(" ".join(sorted(m[%d:] for m in sys.modules if m.startswith(%r))))'
            % (str(ROOT), plugins, len(CLIENT), CLIENT))
    loaded = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                            timeout=60).stdout.split()
    assert len(plugins) >= 7
    assert set(loaded) <= LIGHT, loaded
    assert 'kernel' in loaded  # the check sees what the plugins import
