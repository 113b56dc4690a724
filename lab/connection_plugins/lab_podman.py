# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's connection: containers.podman.podman with pipelining. A pipelined module goes to the lab
host's fork server (lab/fork_server.py, started by lab/lab.py, its socket in a directory the host shares
with this machine): a module run costs a fork there, not a `podman exec` (about half a second of podman,
conmon and runc each) and a new Python. Without the server (an older lab), or as another user, the module's
code goes to `podman exec -i` on stdin: one exec per task and host instead of about five (temp dir, copy,
chmod, run, clean up).
The lab's only; not part of the collection (ANSIBLE_CONNECTION_PLUGINS=lab/connection_plugins)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    author: beamsec.cluster maintainers (@beamsec)
    name: lab_podman
    short_description: podman exec into a lab container, with pipelining
    description:
        - containers.podman.podman with C(podman exec -i), so that Ansible can pipeline modules.
    options:
      remote_addr:
        description: The container's name.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: User to run commands as in the container.
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments to pass to the podman command line.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: Executable for podman command.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
      pipelining:
        description: Pipeline modules through stdin.
        default: true
        env:
          - name: ANSIBLE_PIPELINING
        vars:
          - name: ansible_pipelining
        type: boolean
"""

import os
import shlex
import sys

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

LAB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, LAB)
import fork_server  # noqa: E402 pylint: disable=wrong-import-position,import-error

# lab/lab.py: each host's shared directory, by container name (the server's socket is in it)
SHARED = os.path.join(os.path.dirname(LAB), '.cache', 'lab', 'shared')
SOCKET = 'modules.sock'
PYTHONS = ('/usr/bin/python3', '/usr/bin/python3.11')  # the lab image's


class Connection(PodmanConnection):

    transport = 'lab_podman'
    has_pipelining = True

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if in_data is None:
            return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)  # pylint: disable=bad-super-call
        server = os.path.join(SHARED, self._container_id, SOCKET)
        env = fork_server.pipelined_python(to_native(cmd), PYTHONS.__contains__)
        if env is not None and self.user in (None, 'root'):
            try:
                return fork_server.run(server, env, in_data)
            except OSError:  # no server (an older lab, a restarted host): podman exec, as before
                pass
        exec_args = ['exec', '-i'] + (['--user', self.user] if self.user else [])
        return self._podman(exec_args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
