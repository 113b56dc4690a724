"""What a peer sent, shown bounded: text, items, depth, integers; EPMD names of EPMD's size."""

import json

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import epmd
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import ProtocolError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.shown import erl, short, shown


def test_a_big_binary_is_shown_by_its_size():
    assert shown(b'x' * (20 << 20)).startswith('<binary of 20971520 bytes')


def test_a_bignum_is_shown_by_its_size_and_json_takes_it():
    assert shown(1 << 16384) == '<integer of 16385 bits>'
    json.dumps(shown([1 << 16384, -(1 << 70), 1 << 63]))


def test_depth_items_and_total_are_bounded():
    deep = Atom('x')
    for dummy in range(299):
        deep = (deep,)
    assert len(json.dumps(shown(deep))) < 200
    wide = [[b'y' * 300] * 1000] * 1000
    assert len(json.dumps(shown(wide))) < 64 * 1024
    assert len(short(wide)) <= 300


def test_erlang_syntax_tells_a_string_from_an_atom():
    assert erl(Atom('never')) == 'never'
    assert erl([ord(c) for c in 'never']) == '"never"'
    assert erl((Atom('ok'), b'bin', 1 << 100, Atom('Quoted'))) == "{ok,<<\"bin\">>,<integer of 101 bits>,'Quoted'}"


def test_an_epmd_name_longer_than_epmd_allows_is_refused():
    answer = b'\0\0\x11\x11' + b'name ' + b'n' * 300 + b' at port 1\n'
    with pytest.raises(ProtocolError):
        epmd.parse_names(answer)
    assert epmd.parse_names(b'\0\0\x11\x11name ' + b'n' * 255 + b' at port 1\n')[1][0][1] == 1
