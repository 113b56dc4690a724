"""The roles' architecture (docs/architecture.md) held by the files: every beamsec_* default
defined once, in the private beamsec role; every setting documented once, by the role that
uses it; each concern of the node role selectable by its tag."""

import subprocess
from pathlib import Path

import yaml

from tests.support.tools import tool

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / 'roles'


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def _documented():
    """Option name -> the roles whose argument_specs document it."""
    seen = {}
    for spec in sorted(ROLES.glob('*/meta/argument_specs.yml')):
        for entry in _load(spec)['argument_specs'].values():
            for option in entry.get('options') or {}:
                seen.setdefault(option, []).append(spec.parts[-3])
    return seen


def test_every_default_is_defined_once_in_the_beamsec_role():
    defined = {}
    for path in sorted(ROLES.glob('*/defaults/*.yml')) + sorted(ROLES.glob('*/vars/*.yml')):
        for name in _load(path):
            defined.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert {n: where for n, where in defined.items() if len(where) > 1} == {}
    outside = {n: where for n, where in defined.items()
               if n.startswith('beamsec_') and not where[0].startswith('roles/beamsec/')}
    assert outside == {}


def test_every_setting_is_documented_once_and_has_its_default():
    documented = _documented()
    assert {n: roles for n, roles in documented.items() if len(roles) > 1} == {}
    defaults = set(_load(ROLES / 'beamsec' / 'defaults' / 'main.yml'))
    assert defaults - set(documented) == set(), 'defaults nobody documents'
    assert set(documented) - defaults == set(), 'documented settings without a default'


def _tasks(*args):
    out = subprocess.run([tool('ansible-playbook'), '--list-tasks', str(ROOT / 'tests' / 'integration' / 'playbooks' / 'list_node.yml')]
                         + list(args), capture_output=True, text=True, timeout=120, check=True).stdout
    return [line.split('\t')[0].strip() for line in out.splitlines() if 'beamsec.cluster.node :' in line]


def test_a_tag_selects_its_concern_and_the_facts_it_reads():
    every = _tasks()
    firewall = _tasks('--tags', 'beamsec_firewall')
    assert 'beamsec.cluster.node : Ruleset, checked with nft -c before it is written, and the unit that loads it at boot' in firewall
    # the address it admits peers on, and the validation of the node settings, run under any tag
    assert 'beamsec.cluster.node : Export the cluster address for the other concerns and the hub role' in firewall
    assert 'beamsec.cluster.node : Validate the node settings' in firewall
    assert not [t for t in firewall if 'vm.args' in t or t.endswith(': Unit') or 'EPMD' in t]
    assert len(firewall) < len(every) / 2
    dist = _tasks('--tags', 'beamsec_dist')
    assert "beamsec.cluster.node : The node's vm.args and environment file" in dist and 'Ruleset' not in ' '.join(dist)


def test_harden_includes_the_roles_under_any_tag():
    """harden.yml includes the node and hub roles (an include's condition is evaluated once per host, a listed role's
    for each of its tasks): the include itself must run under any --tags, for the role's own tags to pick its tasks."""
    plays = _load(ROOT / 'playbooks' / 'harden.yml')
    includes = {task['ansible.builtin.include_role']['name']: task for play in plays for task in play.get('tasks', [])
                if 'ansible.builtin.include_role' in task}
    for role in ('beamsec.cluster.node', 'beamsec.cluster.hub'):
        assert 'always' in includes[role].get('tags', []), role
