# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # For modules that only look: they change nothing, so check mode runs them as usual.
    INFO_MODULE = r'''
attributes:
  check_mode:
    support: full
    description: Changes nothing; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to diff.
'''

    # Every module that talks to nodes: module_defaults for group/beamsec.cluster.dist sets the shared
    # connection options (timeout, TLS files, cookie_file) once.
    ACTION_GROUP = r'''
attributes:
  action_group:
    description: Use C(group/beamsec.cluster.dist) in C(module_defaults) to set the shared options once.
    support: full
    membership:
      - beamsec.cluster.dist
'''
