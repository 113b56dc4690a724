"""The local demo: start a private EPMD and two OTP nodes on loopback, probe
them with the collection's modules through ansible-playbook, stop them by PID.

Until the multi-host lab exists this is the whole demo: it hardens nothing,
it shows what the probes see.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tests'))
# conftest makes this checkout importable as ansible_collections.beamsec.cluster
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from tests.support.otp import Epmd, Node, free_port  # noqa: E402  pylint: disable=wrong-import-position
from tests.support.tools import tool  # noqa: E402  pylint: disable=wrong-import-position


def main():
    epmd = Epmd()
    nodes = []
    try:
        port = free_port()
        nodes.append(Node('default', epmd))
        nodes.append(Node('hardened', epmd, args=[
            '-kernel', 'connect_all', 'false', '-kernel', 'dist_auto_connect', 'never',
            '-kernel', 'inet_dist_listen_min', str(port), '-kernel', 'inet_dist_listen_max', str(port),
            '-kernel', 'inet_dist_use_interface', '{127,0,0,1}']))
        extra = {
            'epmd_port': epmd.port, 'ansible_python_interpreter': sys.executable,
            'demo_targets': [{'node': n.name, 'cookie_file': str(n.home / '.erlang.cookie')} for n in nodes],
        }
        with tempfile.NamedTemporaryFile('w', suffix='.json') as handle:
            json.dump(extra, handle)
            handle.flush()
            return subprocess.call(
                [tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                 '-e', '@' + handle.name, str(ROOT / 'lab' / 'playbooks' / 'demo_probe.yml')],
                env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.cache' / 'collections')))
    finally:
        for node in nodes:
            node.stop()
        epmd.stop()


if __name__ == '__main__':
    sys.exit(main())
