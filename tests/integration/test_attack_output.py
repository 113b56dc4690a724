"""Attack: what a node says about itself reaches dist_info's result unbounded.

node_facts() returns node names of any length (an atom on the wire may have 65,535 bytes;
OTP's have at most 255 characters), 10,000 of them per list, and -proto_dist/-connect_all
arguments of 64 x 64 texts of 1,024 characters each; dist_info returns the facts as they are
(not through shown()). With a compressed reply (up to 64 MiB inflated) a few KiB on the wire
become megabytes of module output, against the threat model's "256 characters of text,
64 items of a list, 1,024 values in all"."""

import json
import struct

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from tests.support.hostile_facts import facts_from, hostile
from tests.support.hostile import Raw

LIMIT = 1024 * 1024  # far above 1,024 values of 256 characters


def long_node_names(count=2000, length=4000):
    name = b'n' * length + b'@h'
    atom = bytes((etf.ATOM_UTF8_EXT,)) + struct.pack('>H', len(name)) + name
    return Raw(bytes((etf.LIST_EXT,)) + struct.pack('>I', count) + atom * count + bytes((etf.NIL_EXT,)), compress=True)


def wide_argument():
    value = bytes((etf.STRING_EXT,)) + struct.pack('>H', 1024) + b'A' * 1024
    inner = bytes((etf.LIST_EXT,)) + struct.pack('>I', 64) + value * 64 + bytes((etf.NIL_EXT,))
    outer = bytes((etf.LIST_EXT,)) + struct.pack('>I', 64) + inner * 64 + bytes((etf.NIL_EXT,))
    return Raw(bytes((etf.SMALL_TUPLE_EXT, 2, etf.SMALL_ATOM_UTF8_EXT, 2)) + b'ok' + outer, compress=True)


@pytest.mark.parametrize('call, raw', [('erlang:nodes:visible', long_node_names()),
                                       ('init:get_argument:proto_dist', wide_argument())],
                         ids=['node_names', 'proto_dist_argument'])
def test_facts_reach_the_result_bounded(peers, call, raw):
    try:
        facts = facts_from(peers(hostile(**{call: raw})), timeout=10)
    except DistError:
        return  # refused as out of shape: a finding, nothing returned
    size = len(json.dumps(facts))
    assert size < LIMIT, 'dist_info would return %d bytes of facts' % size
