"""Attack: an EPMD NAMES line with a port of over 4,300 digits raises ValueError (Python's
int() digit limit) out of epmd.names(): epmd_info, which catches DistError only, ends in a
traceback, and cluster_verify's epmd/exposure_epmd findings become 'error'."""

import struct

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from tests.support.hostile import HostilePeer


@pytest.fixture
def huge_port_epmd():
    def answer(sock):
        sock.recv(64)
        sock.sendall(struct.pack('>I', 4369) + b'name app at port ' + b'9' * 5000 + b'\n')
        sock.close()
    peer = HostilePeer(answer)
    yield peer.port
    peer.stop()


def test_a_huge_port_number_is_a_dist_error(huge_port_epmd):
    with pytest.raises(DistError):
        epmd.names('127.0.0.1', huge_port_epmd, timeout=3)
