# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""beamsec.cluster.files: render or read each file on the controller, as the template and copy actions do, and
hand them all to the module in one run: one round trip per host for a set of files, not two per file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import pwd
import time

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

MODULE = 'beamsec.cluster.files'
PASSED = ('dest', 'owner', 'group', 'mode', 'validate')
KNOWN = frozenset(PASSED + ('template', 'src'))
DIRECTORY = frozenset(('path', 'owner', 'group', 'mode'))


def _octal(mode):
    """An unquoted YAML 0644 arrives as the int 420."""
    return '0%o' % mode if isinstance(mode, int) else str(mode)


def _directory(index, spec):
    if not isinstance(spec, dict) or not isinstance(spec.get('path'), str) or not spec.get('mode'):
        raise AnsibleActionFail('directories[%d] needs path and mode: got %r' % (index, spec))
    unknown = sorted(set(spec) - DIRECTORY)
    if unknown:
        raise AnsibleActionFail('directories[%d] (%s): unknown option %s; an entry takes %s'
                                % (index, spec['path'], ', '.join(unknown), ', '.join(sorted(DIRECTORY))))
    return dict((k, _octal(v) if k == 'mode' else v) for k, v in spec.items() if v is not None)


def _managed(source, name):
    """ansible_managed as the template action fills it in (DEFAULT_MANAGED_STR, its default 'Ansible managed')."""
    st = os.stat(source)
    try:
        uid = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        uid = str(st.st_uid)
    managed = C.config.get_config_value('DEFAULT_MANAGED_STR')
    return time.strftime(managed.format(host=os.uname()[1], uid=uid, file=name), time.localtime(st.st_mtime))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _render(self, name, task_vars):
        try:
            source = self._find_needle('templates', name)
        except AnsibleError as e:
            raise AnsibleActionFail(to_text(e))
        # Jinja's include path, as the template action builds it
        searchpath = list(task_vars.get('ansible_search_path', [])) + [self._loader._basedir, os.path.dirname(source)]
        searchpath = [q for p in searchpath for q in (os.path.join(p, 'templates'), p)]
        variables = task_vars.copy()
        variables.setdefault('ansible_managed', _managed(source, name))
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
        text = templar.template(trust_as_template(self._loader.get_text_file_contents(source)), escape_backslashes=False)
        return to_bytes(text if text is not None else '', errors='surrogate_or_strict')

    def _read(self, name):
        try:
            source = self._find_needle('files', name)
        except AnsibleError as e:
            raise AnsibleActionFail(to_text(e))
        with open(source, 'rb') as f:
            return f.read()

    def _expand(self, index, spec):
        """An entry as files: a list of src into a directory (dest ends with /) is one file per src."""
        if not isinstance(spec, dict) or not isinstance(spec.get('dest'), str) or not spec.get('mode'):
            raise AnsibleActionFail('files[%d] needs dest and mode (and template or src): got %r' % (index, spec))
        unknown = sorted(set(spec) - KNOWN)
        if unknown:
            raise AnsibleActionFail('files[%d] (%s): unknown option %s; an entry takes %s'
                                    % (index, spec['dest'], ', '.join(unknown), ', '.join(sorted(KNOWN))))
        if bool(spec.get('template')) == bool(spec.get('src')):
            raise AnsibleActionFail('files[%d] (%s): give exactly one of template and src' % (index, spec['dest']))
        if not isinstance(spec.get('src'), list):
            return [spec]
        if not spec['dest'].endswith('/'):
            raise AnsibleActionFail('files[%d]: a list of src goes into a directory; end dest (%s) with /'
                                    % (index, spec['dest']))
        return [dict(spec, src=src, dest=spec['dest'] + os.path.basename(src)) for src in spec['src']]

    def _content(self, spec, task_vars):
        data = self._render(spec['template'], task_vars) if spec.get('template') else self._read(spec['src'])
        passed = dict((k, spec[k]) for k in PASSED if spec.get(k) is not None)
        passed['mode'] = _octal(passed['mode'])
        passed['content'] = to_text(base64.b64encode(data))
        return passed

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        files = self._task.args.get('files', [])
        directories = self._task.args.get('directories', [])
        unknown = set(self._task.args) - {'files', 'directories'}
        if unknown:
            raise AnsibleActionFail('files: unknown option %s; give files and directories' % ', '.join(sorted(unknown)))
        if not isinstance(files, list) or not isinstance(directories, list) or not files + directories:
            raise AnsibleActionFail('files: give a list of files (each with dest and mode) or of directories (each with '
                                    'path and mode), or both')
        specs = [one for i, spec in enumerate(files) for one in self._expand(i, spec)]
        args = dict(files=[self._content(spec, task_vars) for spec in specs],
                    directories=[_directory(i, spec) for i, spec in enumerate(directories)])
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
