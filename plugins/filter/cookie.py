# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cookie strength rule, shared by the node role and the dist_cookie module (module_utils/_dist/cookie.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import MIN_LENGTH, cookie_weakness


def weakness(cookie, min_length=MIN_LENGTH):
    return cookie_weakness(str(cookie), min_length)


class FilterModule(object):

    def filters(self):
        return {'cookie_weakness': weakness}
