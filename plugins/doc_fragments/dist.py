# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  node:
    description:
      - The node to reach, as C(name@host). Its port is looked up in EPMD on O(host) (default the host part).
      - Leave it out for an EPMD-less node and give O(host) and O(port) instead.
    type: str
  host:
    description:
      - Address to connect to. Defaults to the host part of O(node).
      - Use it when the node's name does not resolve from where the module runs.
    type: str
  port:
    description:
      - Distribution port of the node. When set, EPMD is not asked (EPMD-less nodes, C(-erl_epmd_port)).
    type: int
  epmd_port:
    description: Port of EPMD on O(host).
    type: int
    default: 4369
  cookie:
    description:
      - The cookie to present. Secret; never logged.
      - Mutually exclusive with O(cookie_file).
    type: str
  cookie_file:
    description:
      - Path, on the machine that runs the module, of a file holding the cookie, read as OTP reads C(.erlang.cookie).
    type: path
  tls:
    description: Speak TLS distribution (C(-proto_dist inet_tls)) to the node.
    type: bool
    default: false
  tls_certfile:
    description: Our client certificate (PEM), for nodes that require one (C(verify_peer), C(fail_if_no_peer_cert)).
    type: path
  tls_keyfile:
    description: Private key of O(tls_certfile), unless that file holds both.
    type: path
  tls_cafile:
    description: CA bundle that signs the node certificate. Defaults to the system trust store.
    type: path
  tls_verify:
    description: Verify the node certificate against O(tls_cafile). Switching it off proves nothing about the node.
    type: bool
    default: true
  tls_check_hostname:
    description: Also check that the node certificate names O(tls_server_name) (default O(host)).
    type: bool
    default: false
  tls_server_name:
    description: Name sent as SNI and, with O(tls_check_hostname), checked against the certificate.
    type: str
  handshake_version:
    description:
      - C(6) sends the OTP 23+ C(N) name message.
      - C(5) sends the old C(n) message (and a complement) that OTP 23 and 24 accept; OTP 25 refuses it before the challenge.
    type: int
    choices: [5, 6]
    default: 6
  probe_name:
    description:
      - The node name we present (a hidden node). Default C(beamsec_probe_<nonce><tag>@<host of the target>), the tag
        an HMAC of the nonce under O(probe_key) (none without a key).
      - Useful to test C(net_kernel:allow/1) lists.
    type: str
  probe_key:
    description:
      - The key that tags the default probe names, so that M(beamsec.cluster.dist_audit) counts this probe's failed
        handshakes as the collection's own rather than a stranger's. Not a cookie; C(verify.yml) keeps one beside
        the generated cookies (C(<beamsec_store_dir>/probe.key)).
    type: str
  timeout:
    description: Seconds the whole exchange may take, EPMD lookup included. Every wait is bounded by it.
    type: float
    default: 5
notes:
  - Runs on the host the task is delegated to, which is the vantage point of the check (a peer, the controller, an outsider).
  - The client is pure Python (standard library only); nothing needs to be installed on the host.
'''
