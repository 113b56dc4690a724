# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of the kernel application's parameters as OTP reads them.

Apart from the client (no import of it): the filter plugins read these in every Ansible worker.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

AUTO_CONNECT = ('never', 'once')  # what net_kernel matches; anything else, or unset, is AUTO_CONNECT_DEFAULT
AUTO_CONNECT_DEFAULT = 'always'
