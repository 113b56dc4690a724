# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test: is a host a one-way hub (the settings source's reading of beamsec_hub and beamsec_hub_kind)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.beamsec.cluster.plugins.filter.cluster import one_way_hub


class TestModule(object):
    def tests(self):
        return {'one_way_hub': one_way_hub}
