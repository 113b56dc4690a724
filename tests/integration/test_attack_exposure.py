"""Attack (careless operator): an exposure address that does not resolve reads as `ok`.

open_tcp() turns socket.gaierror into Unreachable, and 'unreachable' is in CLOSED, so a
public address the probe could not even try (a bracketed IPv6 address as written in URLs, a
host:port, a name this vantage point cannot resolve) is "nothing accepted a TCP connection"
while the address it meant has EPMD open."""

import socket

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.verify import verify


@pytest.fixture
def open_on_v6_loopback():
    server = socket.socket(socket.AF_INET6)
    server.bind(('::1', 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def test_an_address_that_was_never_tried_is_not_ok(open_on_v6_loopback):
    port = open_on_v6_loopback
    spec = {'name': 'app@127.0.0.1', 'epmd_port': port, 'expect': {}}
    findings, dummy = verify([dict(spec, public_addresses=['::1', '[::1]'])], None, checks=('exposure',), timeout=2)
    observed = {f['detail']: (f['observed'], f['outcome']) for f in findings}
    assert observed['EPMD at ::1:%d' % port][1] == 'violation'  # the control: the port is open
    assert observed['EPMD at [::1]:%d' % port][1] == 'violation', observed
