"""OTP's own TLS distribution client against nodes named by IP address: the server
certificate must carry the address as a dNSName too, which is why the tls_dist role
issues DNS:<address> beside IP:<address>."""

import os
import subprocess

import pytest

from tests.support.otp import Node
from tests.support.pki import ssl_dist_optfile

PING = ('case net_adm:ping(list_to_atom(os:getenv("TARGET"))) of pong -> halt(0); pang -> halt(1) end.')


def otp_ping(target, optfile, epmd):
    """A hidden, non-listening OTP node pings target over TLS; True on pong."""
    env = dict(os.environ, HOME=str(target.home), TARGET=target.name, ERL_EPMD_PORT=str(epmd.port))
    result = subprocess.run(['erl', '-noshell', '-hidden', '-dist_listen', 'false', '-start_epmd', 'false',
                             '-name', 'pinger@127.0.0.1', '-proto_dist', 'inet_tls', '-ssl_dist_optfile',
                             str(optfile), '-eval', PING], env=env, capture_output=True, timeout=60, check=False)
    return result.returncode == 0


@pytest.fixture(scope='module')
def tls_pair(epmd, nodes, pki):
    """Two TLS nodes: one whose certificate has only IP:127.0.0.1, one that also has DNS:127.0.0.1."""
    made = {}
    for label, ip_as_dns in (('ip_only', False), ('ip_and_dns', True)):
        cert, key = pki['authority'].issue('n2n-' + label, hosts=('127.0.0.1',), ip_as_dns=ip_as_dns)
        optfile = ssl_dist_optfile(pki['dir'] / ('n2n-%s.conf' % label), cert, key, pki['ca'])
        nodes.append(Node('n2n_' + label, epmd, args=['-proto_dist', 'inet_tls', '-ssl_dist_optfile', str(optfile)]))
        made[label] = (nodes[-1], optfile)
    return made


def test_otp_client_checks_the_node_host_as_a_dns_name(epmd, tls_pair):
    client_cert_node, client_optfile = tls_pair['ip_and_dns']
    assert otp_ping(client_cert_node, client_optfile, epmd)
    ip_only = tls_pair['ip_only'][0]
    # same CA, right cookie, valid certificate: still refused on the host-name check
    assert not otp_ping(ip_only, client_optfile, epmd)
