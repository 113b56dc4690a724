# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's connection: containers.podman.podman with pipelining. The module's code goes to
`podman exec -i` on stdin, so a task costs one podman exec per host instead of about five
(temp dir, copy, chmod, run, clean up): the molecule scenarios run about twice as fast.
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

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):

    transport = 'lab_podman'
    has_pipelining = True

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if in_data is None:
            return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)  # pylint: disable=bad-super-call
        exec_args = ['exec', '-i'] + (['--user', self.user] if self.user else [])
        return self._podman(exec_args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
