"""Attack: decoding cost is not bounded by the probe's deadline or by the wire size.

etf.Budget is a placeholder that decode_from() ignores, so no object count and no deadline
is checked while a term decodes; a compressed term may inflate to MAX_SIZE (64 MiB) whatever
its wire size; and map keys go straight into a dict, so keys that all hash alike in CPython
(k * (2**61 - 1)) make decoding quadratic. A node that knows the cookie holds its probe (and
the controller's CPU and memory) far past `timeout`."""

import struct
import time
import tracemalloc

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DistError
from tests.support.hostile_facts import facts_from, hostile
from tests.support.hostile import Raw

TIMEOUT = 1.0


def nil_bomb(count):
    """[[], [], ...]: one byte per empty list, compressed ~1000:1."""
    return Raw(bytes((etf.LIST_EXT,)) + struct.pack('>I', count) + bytes((etf.NIL_EXT,)) * (count + 1), compress=True)


def colliding_map(wire=250 * 1024):
    """#{K => []} whose integer keys all hash to 0 in CPython, under the 256 KiB frame limit."""
    mod, body, count = (1 << 61) - 1, bytearray(), 0
    while True:
        value = (count + 1) * mod
        raw = value.to_bytes((value.bit_length() + 7) // 8, 'little')
        pair = bytes((etf.SMALL_BIG_EXT, len(raw), 0)) + raw + bytes((etf.NIL_EXT,))
        if len(body) + len(pair) > wire:
            return Raw(bytes((etf.MAP_EXT,)) + struct.pack('>I', count) + bytes(body))
        body += pair
        count += 1


@pytest.mark.parametrize('raw', [nil_bomb(3 * 1024 * 1024), colliding_map()], ids=['compressed_3MiB_in_3KiB', 'colliding_map'])
def test_a_reply_cannot_hold_the_probe_past_its_deadline(peers, raw):
    peer = peers(hostile(**{'erlang:node': raw}))
    started = time.monotonic()
    with pytest.raises(DistError):
        facts_from(peer, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 1.0, 'the probe took %.1fs with a %.1fs timeout' % (elapsed, TIMEOUT)


def test_a_small_compressed_frame_cannot_inflate_to_megabytes_of_objects(peers):
    """A 1 KiB frame (decoded at once, outside the two-at-a-time semaphore) becomes 1M lists."""
    peer = peers(hostile(**{'erlang:node': nil_bomb(1024 * 1024)}))
    tracemalloc.start()
    try:
        with pytest.raises(DistError):
            facts_from(peer, timeout=30)
        dummy, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, 'peak %d MiB' % (peak >> 20)
