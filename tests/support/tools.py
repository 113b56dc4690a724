"""The Ansible command-line tools of the interpreter running the tests (the project venv)."""

import sys
from pathlib import Path


def tool(name):
    """The tool beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else name
