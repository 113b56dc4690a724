# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A connection to this machine whose modules run in children of a fork server: for tests that run a role
on many stand-in hosts of this machine (ANSIBLE_CONNECTION_PLUGINS=tests/support/connection_plugins).

Starting a Python that imports ansible.module_utils.basic costs ~0.2 s of CPU per module run, over 90 % of
a task on a local host: the node matrix (97 hosts x ~100 tasks) spent 10 minutes on it. This process
imports it once and forks a child per module run; the child runs the pipelined AnsiballZ wrapper as
`python` would (as __main__, the module's own code from its payload, real subprocesses, real files) and
sends back its exit code, stdout and stderr. Anything else (a command, become, a file transfer) runs as the
local connection runs it. Start the server with `python module_server.py SOCKET` (stop it by its PID) and
point BEAMSEC_MODULE_SERVER at SOCKET."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    author: beamsec.cluster maintainers (@beamsec)
    name: module_server
    short_description: this machine, modules run by a fork server
    description:
        - The local connection, but a pipelined Python module runs in a child of the fork server at
          C(BEAMSEC_MODULE_SERVER) instead of a new interpreter.
    options:
        become_success_timeout:
            type: int
            default: 10
            description: As for the local connection.
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description: As for the local connection.
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

import os
import sys
from pathlib import Path

# imported once here, inherited by every child (the AnsiballZ payload has the same version's copy)
import ansible.module_utils.basic  # noqa: F401 pylint: disable=unused-import
import ansible.module_utils.common.json  # noqa: F401 pylint: disable=unused-import
from ansible.plugins.connection.local import Connection as LocalConnection

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'lab'))
import fork_server  # noqa: E402 pylint: disable=wrong-import-position,import-error


def _ours(python):
    return os.path.realpath(python) == os.path.realpath(sys.executable)


class Connection(LocalConnection):
    transport = 'module_server'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        env = fork_server.pipelined_python(cmd, _ours) if in_data else None
        if env is None or self.become:
            return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        try:
            return fork_server.run(os.environ['BEAMSEC_MODULE_SERVER'], env, in_data)
        except OSError as error:
            return 1, b'', ('module server: %s' % error).encode()


if __name__ == '__main__':
    fork_server.serve(sys.argv[1])
