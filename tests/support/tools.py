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


def run_ansible_module(module, args, check=False):
    """(exit code, output) of one module run on localhost by the `ansible` CLI, one line per host (-o)."""
    argv = [tool('ansible'), 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=' + sys.executable,
            '-m', module, '-a', json.dumps(args), '-o'] + (['--check'] if check else [])
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    return result.returncode, result.stdout + result.stderr
