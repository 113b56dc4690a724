"""The hub role ships only the client modules the hub command imports (roles/hub/vars/main.yml,
hub_client_modules): the list must be hub_command's import closure, no module missing (the command would fail
on the hub) and none more (the verifier stays off the hub)."""

from pathlib import Path

import yaml

from scripts.architecture import dist_imports  # the client's imports as the architecture picture reads them

ROOT = Path(__file__).resolve().parents[5]
CLIENT = ROOT / 'plugins' / 'module_utils' / '_dist'


def test_the_hub_ships_the_command_s_import_closure():
    closure, todo = set(), ['hub_command']
    while todo:
        module = todo.pop()
        if module not in closure:
            closure.add(module)
            todo.extend(dist_imports(CLIENT / ('%s.py' % module)))
    shipped = yaml.safe_load((ROOT / 'roles' / 'hub' / 'vars' / 'main.yml').read_text())['hub_client_modules']
    assert len(shipped) == len(set(shipped))
    assert set(shipped) == closure | {'__init__'}
    assert len(closure) < len(list(CLIENT.glob('*.py'))) - 1  # the verifier is not in it
