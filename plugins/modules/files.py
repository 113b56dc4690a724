#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: files
short_description: Several small configuration files, rendered on the controller, written in one round trip
version_added: 0.9.0
description:
  - Writes a set of files on the managed host, each atomically (a temporary file in its directory, renamed over it),
    with its owner, group and mode, in one module run; the action plugin renders the templates and reads the files
    on the controller first, as M(ansible.builtin.template) and M(ansible.builtin.copy) do.
  - One task per concern instead of one per file, so a fleet pays one round trip (not two per file) for an unchanged
    set. Handlers are notified once when any file of the set changed; RV(files) says which.
  - The directories the files go into can be made, and their owner, group and mode kept, in the same run
    (O(directories)), as M(ansible.builtin.file) with O(ansible.builtin.file#module:state=directory) would.
  - The contents travel base64 in a C(no_log) module argument, so they are in no result and no log on the host; a
    diff shows them. A secret (a cookie, the boot hook with per-peer cookies) gets a task of its own with
    C(no_log) and diff turned off, as the node role's cookie file has.
author: beamsec.cluster maintainers (@beamsec)
attributes:
  check_mode:
    support: full
    description: Reports which files and directories would change and writes none.
  diff_mode:
    support: full
    description: Shows each changed file's content before and after, and each changed directory's owner, group and mode.
  action:
    support: full
    description: The action plugin renders and reads on the controller.
options:
  directories:
    description:
      - Directories made before the files are written, with their missing parents, as M(ansible.builtin.file) makes
        them (O(ansible.builtin.file#module:state=directory)); each one this run makes gets the owner, group and mode
        of its entry, and an existing directory's owner, group or mode is put right when it differs.
      - A path that exists and is not a directory fails the task, and no file is written.
      - A directory is made even when a file of the set then fails its O(files[].validate).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path on the managed host.
        type: path
        required: true
      owner:
        description: The directory's owner.
        type: str
        default: root
      group:
        description: The directory's group.
        type: str
        default: root
      mode:
        description: The directory's mode, as an octal string (V('0755')).
        type: str
        required: true
  files:
    description:
      - The files, each written only when its content, owner, group or mode differs.
      - At least one file or one directory (O(directories)) is given.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path on the managed host; its directory must exist, or be one of O(directories).
        type: path
        required: true
      template:
        description:
          - A template, found as M(ansible.builtin.template) finds its O(ansible.builtin.template#module:src) (the
            role's C(templates/) first). Exactly one of O(files[].template) and O(files[].src) is given.
        type: str
      src:
        description:
          - A file on the controller, found as M(ansible.builtin.copy) finds its source (the role's C(files/)).
          - Or a list of files, each written into the directory O(files[].dest) (which then ends with C(/)) under its
            own name, with the same owner, group and mode.
        type: raw
      owner:
        description: The file's owner.
        type: str
        default: root
      group:
        description: The file's group.
        type: str
        default: root
      mode:
        description: The file's mode, as an octal string (V('0644')).
        type: str
        required: true
      validate:
        description: A command run on the new content before it is put in place (C(%s) is its path), as in
          M(ansible.builtin.template); the file is not written when it fails.
        type: str
      content:
        description: Set by the action plugin (the rendered template or the file, base64); do not set it.
        type: str
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.copy
'''

EXAMPLES = r'''
- name: The node's vm.args and environment file
  beamsec.cluster.files:
    files:
      - {template: vm.args.j2, dest: /etc/beamsec/app/vm.args, mode: "0644"}
      - {template: env.j2, dest: /etc/beamsec/app/env, mode: "0644"}
  notify: beamsec restart node

- name: A drop-in and its directory, in one run
  beamsec.cluster.files:
    directories:
      - {path: /etc/systemd/system/epmd.socket.d, mode: "0755"}
    files:
      - {template: epmd.socket.conf.j2, dest: /etc/systemd/system/epmd.socket.d/beamsec.conf, mode: "0644"}

- name: Directories alone
  beamsec.cluster.files:
    directories:
      - {path: /etc/beamsec/app, mode: "0755"}
      - {path: /etc/beamsec/app/tls, group: beam, mode: "0750"}

- name: Python modules into one directory
  beamsec.cluster.files:
    files:
      - {src: [files/a.py, files/b.py], dest: /opt/tool/lib/, mode: "0644"}
'''

RETURN = r'''
files:
  description: Each file's path and whether it changed (or would, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{dest: /etc/beamsec/app/vm.args, changed: true}]
directories:
  description: Each directory's path and whether it changed (made, or its owner, group or mode put right; or would be,
    in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/systemd/system/epmd.socket.d, changed: false}]
'''

import base64
import grp
import os
import pwd
import shlex
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

FILE_SPEC = dict(
    dest=dict(type='path', required=True),
    template=dict(type='str'),
    src=dict(type='raw'),
    # base64: a diff shows the decoded text, which the masking of a no_log value does not touch
    content=dict(type='str', no_log=True),
    owner=dict(type='str', default='root'),
    group=dict(type='str', default='root'),
    mode=dict(type='str', required=True),
    validate=dict(type='str'),
)

DIRECTORY_SPEC = dict(
    path=dict(type='path', required=True),
    owner=dict(type='str', default='root'),
    group=dict(type='str', default='root'),
    mode=dict(type='str', required=True),
)


def _ids(module, spec, path):
    """(uid, gid, mode); None for an owner or group that does not exist yet: check mode, where an earlier task
    would have made it."""
    try:
        mode = int(spec['mode'], 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg='%s: mode %s is not an octal mode such as 0644' % (path, spec['mode']))
    try:
        return pwd.getpwnam(spec['owner']).pw_uid, grp.getgrnam(spec['group']).gr_gid, mode
    except KeyError:
        if module.check_mode:
            return None
        module.fail_json(msg='%s: owner %s or group %s is not on this host' % (path, spec['owner'], spec['group']))


def _described(owner, group, mode):
    """A directory as its diff shows it."""
    return 'directory, owner %s, group %s, mode %04o\n' % (owner, group, mode)


def _shown(attrs):
    if attrs is None:
        return 'absent\n'
    uid, gid, mode = attrs
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return _described(owner, group, mode)


def _directory_plan(module, spec):
    """(attributes, whether it is missing, whether it changes, diff or None) for one directory."""
    path = spec['path']
    if not os.path.isabs(path):
        module.fail_json(msg='directory %s must be an absolute path' % path)
    attrs = _ids(module, spec, path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        module.fail_json(msg='%s exists and is not a directory' % path)
    old = None if st is None else (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    # attrs is None for an owner check mode has not made yet: it would change
    if attrs is not None and old == attrs:
        return attrs, False, False, None
    after = _described(spec['owner'], spec['group'], int(spec['mode'], 8))
    return attrs, st is None, True, dict(before_header=path, after_header=path, before=_shown(old), after=after)


def _make_directories(plans):
    """Each missing directory with its missing parents (made 0700, then given the entry's owner, group and mode:
    never a moment more open than asked), and an existing one's owner, group and mode put right."""
    for spec, (attrs, missing, change, dummy) in plans:
        if not change:
            continue
        made = []
        if missing:
            path = spec['path']
            while not os.path.isdir(path):
                made.insert(0, path)
                path = os.path.dirname(path)
            for path in made:
                os.mkdir(path, 0o700)
        for path in made or [spec['path']]:
            os.chown(path, attrs[0], attrs[1])
            os.chmod(path, attrs[2])


def _current(path):
    """The file's content and (uid, gid, mode), or (None, None) when there is no regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(st.st_mode):
        return None, None
    with open(path, 'rb') as f:
        return f.read(), (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def _validate(module, command, path):
    if '%s' not in command:
        module.fail_json(msg='validate must contain %%s (the new file\'s path): %s' % command)
    argv = [arg.replace('%s', path) for arg in shlex.split(command)]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg='validate failed (%s): %s' % (command, (err or out).strip()), rc=rc)


def _stage(module, spec, content, attrs, staged):
    """The new content in a temporary file beside dest, with its final owner and mode, validated."""
    uid, gid, mode = attrs
    fd, tmp = tempfile.mkstemp(prefix='.beamsec-', dir=os.path.dirname(spec['dest']))
    staged.append(tmp)
    # the final owner and mode before a byte is written: never a moment readable by more
    os.fchown(fd, uid, gid)
    os.fchmod(fd, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    if spec['validate']:
        _validate(module, spec['validate'], tmp)
    return tmp


def _checked(module, spec):
    """(content, attributes) of one file, its entry checked: before any directory of the set is made."""
    dest = spec['dest']
    if not os.path.isabs(dest):
        module.fail_json(msg='dest %s must be an absolute path' % dest)
    if spec['content'] is None:
        module.fail_json(msg='%s: no content; run beamsec.cluster.files as a task (its action plugin renders it)' % dest)
    return base64.b64decode(spec['content']), _ids(module, spec, dest)


def _plan(module, spec, content, attrs, coming):
    """(content to write or None, attributes, whether they change, diff or None) for one checked file; coming: the
    directories check mode would have made."""
    dest = spec['dest']
    if os.path.dirname(dest) in coming or not os.path.isdir(os.path.dirname(dest)):
        # in check mode an earlier task (or this one's directories) would have made it
        if not module.check_mode:
            module.fail_json(msg='%s: the directory %s does not exist' % (dest, os.path.dirname(dest)))
        old, old_attrs = None, None
    else:
        old, old_attrs = _current(dest)
    # attrs is None for an owner check mode has not made yet: it would change
    if old == content:
        return None, attrs, attrs is None or old_attrs != attrs, None
    diff = dict(before_header=dest, after_header=dest, before=to_text(old or b'', errors='surrogate_or_replace'),
                after=to_text(content, errors='surrogate_or_replace'))
    return content, attrs, True, diff


def _apply(module, plans):
    """Every new file staged and validated before any is put in place: a set that fails changes nothing
    (a half-written set would leave a change that no handler heard of)."""
    staged = []
    try:
        moves = [(_stage(module, spec, content, attrs, staged), spec['dest'])
                 for spec, (content, attrs, dummy, dummy2) in plans if content is not None]
        for spec, (content, attrs, change, dummy) in plans:
            if content is None and change:
                os.chown(spec['dest'], attrs[0], attrs[1])
                os.chmod(spec['dest'], attrs[2])
        for tmp, dest in moves:
            os.replace(tmp, dest)
    finally:
        for tmp in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(files=dict(type='list', elements='dict', default=[], options=FILE_SPEC),
                           directories=dict(type='list', elements='dict', default=[], options=DIRECTORY_SPEC)),
        supports_check_mode=True,
    )
    if not module.params['files'] and not module.params['directories']:
        module.fail_json(msg='give at least one file or directory')
    # every entry checked (and each file's directory known) before anything is made
    directories = [(spec, _directory_plan(module, spec)) for spec in module.params['directories']]
    checked = [(spec, _checked(module, spec)) for spec in module.params['files']]
    coming = set()
    if module.check_mode:
        coming = set(spec['path'] for spec, plan in directories if plan[1])
    else:
        _make_directories(directories)
    plans = [(spec, _plan(module, spec, content, attrs, coming)) for spec, (content, attrs) in checked]
    if not module.check_mode:
        _apply(module, plans)
    made = [dict(path=spec['path'], changed=plan[2]) for spec, plan in directories]
    results = [dict(dest=spec['dest'], changed=change) for spec, (dummy, dummy2, change, dummy3) in plans]
    result = dict(changed=any(r['changed'] for r in made + results), files=results, directories=made)
    if module._diff:
        result['diff'] = [plan[3] for dummy, plan in directories if plan[3]] + [plan[3] for dummy, plan in plans if plan[3]]
    module.exit_json(**result)


if __name__ == '__main__':
    main()
