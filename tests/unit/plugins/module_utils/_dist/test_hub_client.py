"""The hub role ships only the client modules the hub command imports (roles/hub/vars/main.yml,
hub_client_modules): the list must be hub_command's import closure, no module missing (the command would fail
on the hub) and none more (the verifier stays off the hub)."""

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[5]
CLIENT = ROOT / 'plugins' / 'module_utils' / '_dist'
PACKAGE = 'ansible_collections.beamsec.cluster.plugins.module_utils._dist'


def _imports(module):
    """The client modules that a module of the client imports."""
    found = set()
    for node in ast.walk(ast.parse((CLIENT / ('%s.py' % module)).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith(PACKAGE + '.'):
            found.add(node.module[len(PACKAGE) + 1:].split('.')[0])
    return found


def test_the_hub_ships_the_command_s_import_closure():
    closure, todo = set(), ['hub_command']
    while todo:
        module = todo.pop()
        if module not in closure:
            closure.add(module)
            todo.extend(_imports(module))
    shipped = yaml.safe_load((ROOT / 'roles' / 'hub' / 'vars' / 'main.yml').read_text())['hub_client_modules']
    assert len(shipped) == len(set(shipped))
    assert set(shipped) == closure | {'__init__'}
    assert len(closure) < len(list(CLIENT.glob('*.py'))) - 1  # the verifier is not in it
