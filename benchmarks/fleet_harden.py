"""harden.yml on a lab of N cluster hosts (default 20): the first run and the second (which must change
nothing) timed in total and per host, with Ansible's profile_tasks for the slowest tasks (issue 19).

The lab is made for this run (lab/lab.py up --nodes N) with the lab application deployed as OTP ships it,
and removed at the end (--keep leaves it up). Targets on 2 cores: 20 hosts hardened in under 3 minutes, the
second run under 1 minute. Usage: python benchmarks/fleet_harden.py [--nodes 20] [--forks 20] [--keep]
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INVENTORY = ROOT / '.cache' / 'lab' / 'inventory.yml'
TARGETS = {'first': 180, 'second': 60}  # seconds, for 20 hosts


def playbook(path, forks, extra_env=None):
    """(seconds, output) of one ansible-playbook run against the lab."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.cache' / 'collections'),
               CONTAINERS_CONF=str(ROOT / 'lab' / 'containers.conf'),
               ANSIBLE_CONNECTION_PLUGINS=str(ROOT / 'lab' / 'connection_plugins'), ANSIBLE_PIPELINING='true',
               ANSIBLE_NOCOLOR='1', **(extra_env or {}))
    started = time.monotonic()
    result = subprocess.run([str(BIN / 'ansible-playbook'), '-i', str(INVENTORY), '-f', str(forks), str(path)],
                            cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=3600, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit('%s failed:\n%s' % (path, result.stdout[-4000:] + result.stderr[-2000:]))
    return elapsed, result.stdout


def changed(output):
    return sum(int(n) for n in re.findall(r'changed=(\d+)', output.split('PLAY RECAP')[-1]))


def slowest(output, count=8):
    """profile_tasks' summary: the slowest tasks, each with its seconds."""
    lines = [line for line in output.split('PLAY RECAP')[-1].splitlines() if re.search(r'-+ \d+\.\d+s$', line)]
    return lines[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, default=20)
    parser.add_argument('--forks', type=int, default=20)
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args()
    lab = [sys.executable, str(ROOT / 'lab' / 'lab.py')]
    subprocess.run(lab + ['down'], check=True)
    started = time.monotonic()
    subprocess.run(lab + ['up', '--nodes', str(args.nodes), '--outsiders', '1'], check=True)
    up = time.monotonic() - started
    try:
        app, dummy = playbook(ROOT / 'lab' / 'playbooks' / 'lab_app.yml', args.forks)
        profile = {'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks'}
        first, output = playbook(ROOT / 'playbooks' / 'harden.yml', args.forks, profile)
        second, again = playbook(ROOT / 'playbooks' / 'harden.yml', args.forks, profile)
    finally:
        if not args.keep:
            subprocess.run(lab + ['down'], check=False)
    print('%d hosts (lab up %.0f s, the app deployed %.0f s), forks %d, beamsec_serial 100%%'
          % (args.nodes, up, app, args.forks))
    print('harden.yml first run  %6.1f s (%.1f s a host), %d changed' % (first, first / args.nodes, changed(output)))
    print('harden.yml second run %6.1f s (%.1f s a host), %d changed' % (second, second / args.nodes, changed(again)))
    print('slowest tasks of the first run:')
    print('\n'.join('  ' + line.strip() for line in slowest(output)))
    print('slowest tasks of the second run:')
    print('\n'.join('  ' + line.strip() for line in slowest(again)))
    scale = args.nodes / 20.0
    print('targets (scaled to %d hosts): first < %.0f s %s; second < %.0f s %s; second run 0 changed %s' % (
        args.nodes, TARGETS['first'] * scale, 'MET' if first < TARGETS['first'] * scale else 'MISSED',
        TARGETS['second'] * scale, 'MET' if second < TARGETS['second'] * scale else 'MISSED',
        'MET' if changed(again) == 0 else 'MISSED'))


if __name__ == '__main__':
    main()
