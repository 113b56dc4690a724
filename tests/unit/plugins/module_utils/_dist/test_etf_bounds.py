"""What a hostile term may cost the decoder: objects, hash probes, time, depth.

No timed assertions here: costs are asserted through the object budget and the
outcome; how fast is benchmarks/decode_cost.py's business.
"""

import struct
import sys
import zlib

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DecodeError, Timeout
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom, MapPairs

U32 = struct.Struct('>I').pack


def nils(count):
    """A list of ``count`` empty lists, without the version byte."""
    return b'l' + U32(count) + b'j' * count + b'j'


def compressed(body, level=9):
    return b'\x83P' + U32(len(body)) + zlib.compress(body, level)


class FakeDeadline:
    """Counts remaining() calls; raises Timeout from call number ``expire_at`` on."""

    def __init__(self, expire_at=None):
        self.calls = 0
        self.expire_at = expire_at

    def remaining(self, stage):
        self.calls += 1
        if self.expire_at is not None and self.calls >= self.expire_at:
            raise Timeout('no answer in time (at %s)' % stage, stage)
        return 1.0


# ---------------------------------------------------------------- compressed terms


def test_zlib_bomb_is_refused_before_inflating():
    bomb = compressed(nils(4 * 1024 * 1024))  # about 4 KB that inflate a thousandfold
    assert len(bomb) < 8192
    with pytest.raises(DecodeError, match='claims'):
        etf.decode(bomb)


def test_compressed_term_within_the_ratio_is_held_to_its_wire_size_in_objects():
    bomb = compressed(nils(etf.INFLATE_FLOOR - 10))  # inflates within the floor, ~100 bytes on the wire
    assert len(bomb) < 200
    with pytest.raises(DecodeError, match='objects'):
        etf.decode(bomb)
    with pytest.raises(DecodeError, match='compressed term of %d bytes makes more than' % (len(bomb) - 1)):
        etf.decode(bomb, budget=etf.Budget(etf.MAX_OBJECTS))  # a message's budget, far larger
    # the very same term, uncompressed, is fine: it pays for its objects in bytes
    assert etf.decode(b'\x83' + nils(etf.INFLATE_FLOOR - 10)) == [[]] * (etf.INFLATE_FLOOR - 10)


def test_compressed_term_may_not_borrow_ratio_from_the_bytes_after_it():
    body = b'm' + U32(200000) + bytes(200000)  # a binary of zeros: some 200 bytes deflated
    term = compressed(body)
    frame = term + b'\x83' + b'm' + U32(100000) + bytes(100000)
    with pytest.raises(DecodeError, match='inflates to 200005'):
        etf.decode_from(frame, 0)


def test_small_compressed_terms_still_decode():
    assert etf.decode(compressed(b'l' + U32(1000) + b'w\x05hello' * 1000 + b'j')) == [Atom('hello')] * 1000
    assert etf.decode(compressed(b'm' + U32(15000) + bytes(15000))) == bytes(15000)
    # a compressed term with another after it, as a control term and its payload
    frame = etf.encode([Atom('a')] * 500, compressed=6) + etf.encode(Atom('next'))
    value, pos = etf.decode_from(frame, 0)
    assert value == [Atom('a')] * 500 and etf.decode_from(frame, pos) == (Atom('next'), len(frame))


def test_compressed_objects_count_against_a_shared_budget():
    budget = etf.Budget(50)
    with pytest.raises(DecodeError, match='more than 50 objects'):
        etf.decode(compressed(nils(100)), budget=budget)


# ---------------------------------------------------------------- maps


def colliding_ints(count):
    """Ints that all hash to 0 in CPython: multiples of the hash modulus."""
    return [k * sys.hash_info.modulus * (-1) ** k for k in range(1, count + 1)]


def test_map_of_colliding_int_keys_is_pairs_and_linear():
    keys = colliding_ints(5000)
    data = etf.encode(MapPairs([(key, index) for index, key in enumerate(keys)]))
    assert len({hash(key) for key in keys}) == 1
    # it decodes within a budget of its own objects: a map, its pairs, their keys and values
    decoded = etf.decode(data, budget=etf.Budget(1 + 3 * len(keys)))
    assert isinstance(decoded, MapPairs)
    assert [key for key, dummy in decoded] == keys
    assert [value for dummy, value in decoded] == list(range(len(keys)))


def test_large_map_with_keys_of_chosen_hashes_is_pairs():
    count = etf.SMALL_MAP + 1
    for keys in ([float(k) + 0.5 for k in range(count)], [(k, k) for k in range(count)],
                 [Atom('a')] + [1 << 62] + list(range(count))):
        decoded = etf.decode(etf.encode(MapPairs([(key, 0) for key in keys])))
        assert isinstance(decoded, MapPairs), keys[:3]
        assert [key for key, dummy in decoded] == keys


def test_large_map_with_keys_of_unchosen_hashes_is_a_dict():
    modulus = sys.hash_info.modulus
    keys = ([Atom('k%d' % k) for k in range(100)] + [b'b%d' % k for k in range(100)]
            + [-modulus + 1, modulus - 1, -1, -2, 0, True] + list(range(2, 1000)))
    decoded = etf.decode(etf.encode(MapPairs([(key, key) for key in keys])))
    assert isinstance(decoded, dict)
    assert len(decoded) == len(keys) and all(decoded[key] == key for key in keys)


def test_small_map_is_a_dict_whatever_its_keys():
    keys = colliding_ints(etf.SMALL_MAP - 2) + [1.5, (1, 2)]
    decoded = etf.decode(etf.encode(MapPairs([(key, 0) for key in keys])))
    assert isinstance(decoded, dict) and list(decoded) == keys


def test_one_and_one_point_oh_and_true_stay_distinct_keys():
    for count in (0, 40):
        pairs = [(1, Atom('int')), (1.0, Atom('float')), (True, Atom('atom'))] + [(k + 10, 0) for k in range(count)]
        decoded = etf.decode(etf.encode(MapPairs(pairs)))
        assert isinstance(decoded, MapPairs)
        assert [type(key) for key, dummy in decoded][:3] == [int, float, bool]


# ---------------------------------------------------------------- the budget


def test_budget_counts_every_element():
    data = etf.encode([[1, 2], (3, 4), 'abc', {Atom('k'): b'v'}])
    with pytest.raises(DecodeError, match='more than 10 objects'):
        etf.decode(data, budget=etf.Budget(10))
    budget = etf.Budget(100)
    etf.decode(data, budget=budget)
    assert budget.used == 15  # the list, its 4 elements, 1, 2, 3, 4, 3 characters, a pair, its key and value


def test_one_budget_is_shared_by_a_control_term_and_its_payload():
    control = etf.encode((2, Atom(''), etf.Pid(Atom('n@h'), 1, 0, 1)))
    payload = etf.encode(list(range(300)))
    frame = b'p' + control + payload
    budget = etf.Budget(200)
    value, pos = etf.decode_from(frame, 1, budget=budget)
    assert value[0] == 2 and 0 < budget.used < 20
    with pytest.raises(DecodeError, match='more than 200 objects'):
        etf.decode_from(frame, pos, budget=budget)
    # each alone fits
    assert etf.decode_from(frame, pos, budget=etf.Budget(400))[0] == list(range(300))


def test_default_budget_is_proportional_to_the_input():
    assert etf.decode(b'\x83' + nils(200000)) == [[]] * 200000  # bytes pay for objects
    with pytest.raises(DecodeError, match='objects'):
        etf.decode(compressed(nils(etf.INFLATE_FLOOR - 10)))  # 16,000 objects from ~50 bytes


def test_deadline_is_asked_during_a_long_decode():
    deadline = FakeDeadline()
    etf.decode(b'\x83' + nils(100000), budget=etf.Budget(etf.MAX_OBJECTS, deadline))
    assert deadline.calls >= 100000 // etf.CHECK_EVERY


def test_deadline_stops_a_long_decode():
    deadline = FakeDeadline(expire_at=3)
    with pytest.raises(Timeout):
        etf.decode(b'\x83' + nils(100000), budget=etf.Budget(etf.MAX_OBJECTS, deadline))
    assert deadline.calls == 3


def test_deadline_covers_list_segments_that_make_no_objects():
    chain = b'\x83' + b'l\x00\x00\x00\x00' * 50000 + b'j'  # [] as 50,000 empty cons segments
    deadline = FakeDeadline(expire_at=5)
    with pytest.raises(Timeout):
        etf.decode(chain, budget=etf.Budget(etf.MAX_OBJECTS, deadline))
    with pytest.raises(DecodeError, match='objects'):
        etf.decode(chain, budget=etf.Budget(1000))


def test_identifiers_and_strings_count_what_they_make():
    pids = etf.encode([etf.Pid(Atom('n@h'), 1000, 2000, 3000)] * 100)
    with pytest.raises(DecodeError):
        etf.decode(pids, budget=etf.Budget(300))
    with pytest.raises(DecodeError):
        etf.decode(etf.encode('x' * 1000), budget=etf.Budget(500))


# ---------------------------------------------------------------- depth


@pytest.mark.parametrize('level', [b'h\x01', b'h\x02a\x01', b'l\x00\x00\x00\x01', b't\x00\x00\x00\x01a\x01'])
def test_every_kind_of_nesting_is_bounded(level):
    deep = b'\x83' + level * 5000 + b'j' * 5001
    with pytest.raises(DecodeError, match='nested'):
        etf.decode(deep)


def test_nesting_inside_a_compressed_term_is_bounded():
    with pytest.raises(DecodeError, match='nested'):
        etf.decode(compressed(b'h\x01' * 5000 + b'j'))


def test_nesting_up_to_the_limit_decodes():
    value = etf.decode(b'\x83' + b'h\x01' * (etf.MAX_DEPTH) + b'j')
    for dummy in range(etf.MAX_DEPTH):
        value = value[0]
    assert value == []


# ---------------------------------------------------------------- errors


def test_errors_never_repr_a_hostile_value():
    """repr() of an int past 4,300 digits raises ValueError: no message may hold one."""
    huge = b'o' + U32(3000) + b'\x00' + b'\xff' * 3000
    with pytest.raises(DecodeError, match='arity'):
        etf.decode(b'\x83q' + b'w\x01m' + b'w\x01f' + huge)  # fun m:f/Huge
    with pytest.raises(etf.EncodeError):
        etf.encode((1 << 20000, etf.Pid(Atom('n@h'), -1, 0, 0)))


def test_the_process_wide_atom_cache_keeps_only_short_names():
    # OTP's atoms are at most 255 characters; the wire format allows 65,535 bytes. A long one is decoded, not kept.
    from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf as codec
    long_name, short_name = 'l' * 1000 + 'ong', 'short_atom_for_the_cache'
    term = (bytes([131, 108, 0, 0, 0, 2, 118]) + len(long_name).to_bytes(2, 'big') + long_name.encode()
            + bytes([119, len(short_name)]) + short_name.encode() + bytes([106]))  # [LongAtom, short_atom]
    assert codec.decode(term) == [long_name, short_name]
    kept = set(codec._ATOMS.values())
    assert short_name in kept and long_name not in kept
