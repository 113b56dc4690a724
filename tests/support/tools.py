"""The Ansible command-line tools of the interpreter running the tests (the project venv)."""

import json
import os
import subprocess
import sys
from pathlib import Path


def tool(name):
    """The tool beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else name


def run_ansible_module(module, args, check=False, prefix=()):
    """(exit code, output) of one module run on localhost by the `ansible` CLI, one line per host (-o);
    prefix: a command it runs under (e.g. ip netns exec NAME)."""
    argv = [tool('ansible'), 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=' + sys.executable,
            '-m', module, '-a', json.dumps(args), '-o'] + (['--check'] if check else [])
    argv = list(prefix) + argv
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    return result.returncode, result.stdout + result.stderr


def render_ruleset(dest, peers, node_user, local_users=(), rate=10, burst=50, heartbeat=None):
    """The node role's nftables template rendered to dest, as its firewall concern would render it (``heartbeat``:
    the role's beamsec_heartbeat)."""
    extra = {'node_firewall_peers': list(peers), 'beamsec_node_user': node_user, 'beamsec_local_users': list(local_users),
             'beamsec_firewall_rate': rate, 'beamsec_firewall_burst': burst, 'dest': str(dest),
             'heartbeat': heartbeat or {}}
    subprocess.run([tool('ansible-playbook'), str(Path(__file__).parents[1] / 'integration' / 'playbooks' / 'render_firewall.yml'),
                    '-e', json.dumps(extra)], check=True, capture_output=True, timeout=120)


def render_boot_script(dest, port_min, port_max, connect=(), interval=5, auto_connect='', heartbeat=None):
    """The node role's boot.script rendered to dest for a node listening on these ports: the knock filter, and the
    peers to ``connect`` every ``interval`` seconds (by the rule of dist_auto_connect ``auto_connect``), and the
    partition detector's ``heartbeat`` (the role's beamsec_heartbeat) if given."""
    extra = {'beamsec_dist_port_min': port_min, 'beamsec_dist_port_max': port_max, 'dest': str(dest),
             'connect': list(connect), 'interval': interval, 'auto_connect': auto_connect,
             'heartbeat': heartbeat or {}}
    subprocess.run([tool('ansible-playbook'), str(Path(__file__).parents[1] / 'integration' / 'playbooks' / 'render_boot_script.yml'),
                    '-e', json.dumps(extra)], check=True, capture_output=True, timeout=120)
