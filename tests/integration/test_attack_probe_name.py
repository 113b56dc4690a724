"""Attack (careless operator): probe_name, documented as "useful to test net_kernel:allow/1
lists", set to a member's name tears down that member's live connection.

The node answers send_name with status 'alive' (it is connected to a node of that name) and
handshake.recv_status answers 'strue' ("replace it"), so the node drops its real connection
to the member; with dist_auto_connect never it stays down. The probe should answer 'sfalse'
(or refuse) unless the name is its own random one."""

import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from tests.support.cluster import call


def test_a_probe_never_replaces_a_members_connection(cluster):
    va, vb = cluster[0], cluster[1]
    assert vb.name in call(va, 'erlang', 'nodes')
    try:
        va.connect(our_name=vb.name).close()
    except DistError:
        pass  # refusing to connect under a live member's name is fine
    time.sleep(0.5)
    assert vb.name in call(va, 'erlang', 'nodes'), 'the probe disconnected %s from %s' % (vb.name, va.name)
