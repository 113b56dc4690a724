"""lab/lab.py: up and down are idempotent and down leaves nothing behind."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB = [sys.executable, str(ROOT / 'lab' / 'lab.py')]
ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / 'lab' / 'containers.conf'))

pytestmark = pytest.mark.skipif(shutil.which('podman') is None, reason='the lab needs podman')


def run(*args):
    return subprocess.run(list(args), env=ENV, check=True, capture_output=True, text=True, timeout=1800).stdout


def labelled(kind):
    listing = {'containers': ['podman', 'ps', '-a', '-q'], 'networks': ['podman', 'network', 'ls', '-q']}[kind]
    return run(*(listing + ['--filter', 'label=beamsec.lab=1'])).split()


def test_up_twice_then_down_twice():
    run(*LAB, 'down')  # from a known state: an interrupted run may have left a lab of another size
    run(*LAB, 'up', '--nodes', '2', '--outsiders', '1')
    first = sorted(labelled('containers'))
    run(*LAB, 'up', '--nodes', '2', '--outsiders', '1')
    assert sorted(labelled('containers')) == first and len(first) == 3  # nothing recreated
    inventory = (ROOT / '.cache' / 'lab' / 'inventory.yml').read_text()
    for expected in ('beam_nodes:', 'outsiders:', 'beamsec_private_address: 10.231.20.11',
                     'ansible_connection: lab_podman', 'beamsec_verify_from: beam1'):
        assert expected in inventory
    assert 'beamsec_private_address' not in inventory.split('outsiders:')[1]  # the outsider is public only
    booted = subprocess.run(['podman', 'exec', 'beamsec-lab-beam1', 'systemctl', 'is-system-running'], env=ENV,
                            check=False, capture_output=True, text=True, timeout=60).stdout.strip()
    assert booted in ('running', 'degraded')
    run(*LAB, 'down')
    run(*LAB, 'down')
    assert labelled('containers') == [] and labelled('networks') == []
    assert not (ROOT / '.cache' / 'lab' / 'inventory.yml').exists()
