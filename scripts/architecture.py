"""Draw the collection's architecture from its code: playbooks -> roles -> the settings source (the cluster
filter) and modules -> the client's layers (module_utils/_dist). Writes docs/architecture.dot and, when
Graphviz is there, docs/architecture.svg. Usage: python scripts/architecture.py
"""

import ast
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLE_USE = re.compile(r'(?:import_role|include_role):\s*\n\s*name:\s*(?:beamsec\.cluster\.)?(\w+)')
ROLE_LIST = re.compile(r'-\s*role:\s*beamsec\.cluster\.(\w+)')
MODULE_USE = re.compile(r'beamsec\.cluster\.(\w+):\s*$', re.M)
FILTER_USE = re.compile(r'beamsec\.cluster\.(cluster_members|verify_nodes|flavour_default|node_settings|verify_report|'
                        r'one_way_hub)')
TAGS = re.compile(r'tags:\s*\[(\w+)\]\s*\n\s*ansible\.builtin\.(?:import_tasks:|include_tasks:\s*\n\s*file:)\s*(\w+)\.yml')
CLIENT = 'ansible_collections.beamsec.cluster.plugins.module_utils._dist'


def yaml_files(directory):
    return sorted(p for p in directory.rglob('*.yml') if p.is_file())


def uses(path):
    text = path.read_text()
    return (set(ROLE_USE.findall(text)) | set(ROLE_LIST.findall(text)), set(MODULE_USE.findall(text)),
            set(FILTER_USE.findall(text)))


def dist_imports(path):
    """The client's modules a Python file imports (from the package, or from one of its modules)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == CLIENT:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith(CLIENT + '.'):
            found.add(node.module[len(CLIENT) + 1:].split('.')[0])
    return found


def edges():
    lines = []
    modules = sorted(p.stem for p in (ROOT / 'plugins' / 'modules').glob('*.py'))
    layers = sorted(p.stem for p in (ROOT / 'plugins' / 'module_utils' / '_dist').glob('*.py') if p.stem != '__init__')
    for playbook in sorted((ROOT / 'playbooks').glob('*.yml')):
        roles, mods, filters = uses(playbook)
        for task_file in yaml_files(ROOT / 'playbooks' / 'tasks'):
            if task_file.name in playbook.read_text():
                more = uses(task_file)
                roles, mods, filters = roles | more[0], mods | more[1], filters | more[2]
        name = 'playbook ' + playbook.stem
        lines += ['"%s" -> "role %s";' % (name, r) for r in sorted(roles)]
        lines += ['"%s" -> "module %s";' % (name, m) for m in sorted(mods) if m in modules]
        lines += ['"%s" -> "settings (filter cluster.py)" [style=dashed];' % name for dummy in filters][:1]
    for role in sorted(p.name for p in (ROOT / 'roles').iterdir()):
        roles, mods, filters = set(), set(), set()
        for path in yaml_files(ROOT / 'roles' / role):
            more = uses(path)
            roles, mods, filters = roles | more[0], mods | more[1], filters | more[2]
        lines += ['"role %s" -> "role %s";' % (role, r) for r in sorted(roles - {role})]
        lines += ['"role %s" -> "module %s";' % (role, m) for m in sorted(mods) if m in modules]
        if filters:
            lines.append('"role %s" -> "settings (filter cluster.py)" [style=dashed];' % role)
    for module in modules:
        lines += ['"module %s" -> "_dist %s";' % (module, m)
                  for m in sorted(dist_imports(ROOT / 'plugins' / 'modules' / (module + '.py'))) if m in layers]
    for layer in layers:
        lines += ['"_dist %s" -> "_dist %s" [color=gray];' % (layer, m)
                  for m in sorted(dist_imports(ROOT / 'plugins' / 'module_utils' / '_dist' / (layer + '.py')))
                  if m in layers and m != layer]
    return lines


def concerns():
    """Each role's concerns: the tagged task files its main.yml imports (the tag, and the file)."""
    lines = []
    for main in sorted((ROOT / 'roles').glob('*/tasks/main.yml')):
        found = TAGS.findall(main.read_text())
        if found:
            label = '\\n'.join('%s (%s.yml)' % pair for pair in found)
            lines.append('"role %s" [label="role %s\\n\\n%s"];' % (main.parts[-3], main.parts[-3], label))
    return lines


def main():
    body = edges()
    text = ('digraph architecture {\n  graph [rankdir=LR, fontname="Helvetica", ranksep=1.2];\n'
            '  node [fontname="Helvetica", shape=box, style=filled, fillcolor=white];\n'
            '  "settings (filter cluster.py)" [fillcolor=lightyellow];\n'
            + ''.join('  %s\n' % line for line in body) + '}\n')
    colours = {'playbook': 'lightblue', 'role': 'palegreen', 'module': 'orange', '_dist': 'lightgray'}
    for kind, colour in colours.items():
        names = sorted(set(re.findall(r'"(%s [^"]+)"' % kind, text)))
        text = text.replace('}\n', ''.join('  "%s" [fillcolor=%s];\n' % (n, colour) for n in names) + '}\n')
    text = text.replace('}\n', ''.join('  %s\n' % line for line in concerns()) + '}\n')
    (ROOT / 'docs' / 'architecture.dot').write_text(text)
    if shutil.which('dot'):
        subprocess.run(['dot', '-Tsvg', str(ROOT / 'docs' / 'architecture.dot'), '-o',
                        str(ROOT / 'docs' / 'architecture.svg')], check=True)
    print('%d edges; docs/architecture.dot%s' % (len(body), ' and .svg' if shutil.which('dot') else ''))


if __name__ == '__main__':
    main()
