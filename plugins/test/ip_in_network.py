# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test: is an address inside a CIDR network (without the netaddr library)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def ip_in_network(address, network):
    """True when the address lies in the network; false for anything that does not parse."""
    try:
        return ipaddress.ip_address(str(address).strip('[]')) in ipaddress.ip_network(str(network), strict=False)
    except ValueError:
        return False


class TestModule(object):
    def tests(self):
        return {'ip_in_network': ip_in_network}
