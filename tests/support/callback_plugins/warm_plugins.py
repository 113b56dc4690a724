# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the Jinja filter and test plugins once, in the controller's main process, before the first task.

Ansible forks a worker per task and host, and a worker loads (compiles) every filter and test plugin it
uses that its parent had not: a third of a task's controller time on a local host. Loaded here, before
the first fork, every worker inherits them. For tests that run a role on many stand-in hosts
(ANSIBLE_CALLBACK_PLUGINS=tests/support/callback_plugins, ANSIBLE_CALLBACKS_ENABLED=warm_plugins)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    author: beamsec.cluster maintainers (@beamsec)
    name: warm_plugins
    type: aggregate
    short_description: load filter and test plugins before the first fork
    description:
        - Loads every filter and test plugin of ansible.builtin and of the collections in use in the main process.
"""

import importlib
import pkgutil

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import action_loader, filter_loader, test_loader

COLLECTIONS = ('ansible_collections.beamsec.cluster',)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'warm_plugins'
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        action_loader.get('ansible.legacy.normal', class_only=True)  # the action of every module without one
        for loader in (filter_loader, test_loader):
            list(loader.all())
        for collection in COLLECTIONS:
            for kind in ('filter', 'test'):
                package = importlib.import_module('%s.plugins.%s' % (collection, kind))
                for module in pkgutil.iter_modules(package.__path__):
                    importlib.import_module('%s.%s' % (package.__name__, module.name))
