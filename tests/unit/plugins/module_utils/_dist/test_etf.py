"""ETF codec against real erlang:term_to_binary/2 and binary_to_term/1."""

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import DecodeError, EncodeError
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import (
    Atom, BitBinary, Export, Fun, ImproperList, MapPairs, Pid, Port, Reference)
from tests.support.strict import same

A = Atom

# (Erlang expression, term_to_binary options, the Python value it must decode to)
GOLDEN = [
    ('0', '[]', 0), ('255', '[]', 255), ('256', '[]', 256), ('-1', '[]', -1),
    ('2147483647', '[]', 2147483647), ('-2147483648', '[]', -2147483648),
    ('2147483648', '[]', 2147483648), ('-(1 bsl 64)', '[]', -(1 << 64)),
    ('1 bsl 2100', '[]', 1 << 2100), ('-(1 bsl 2100) + 7', '[]', -(1 << 2100) + 7),
    ('1.5', '[]', 1.5), ('-0.0', '[]', -0.0), ('1.0e300', '[]', 1.0e300),
    ('3.25', '[{minor_version, 0}]', 3.25),
    ('ok', '[]', A('ok')), ("'hello world'", '[]', A('hello world')),
    ("'\\x{11D}is'", '[]', A('\u011dis')), ('true', '[]', True), ('false', '[]', False),
    ('ok', '[{minor_version, 1}]', A('ok')), ("'\\x{11D}'", '[{minor_version, 1}]', A('\u011d')),
    ('list_to_atom(lists:duplicate(255, $a))', '[]', A('a' * 255)),
    ('list_to_atom(lists:duplicate(255, $a))', '[{minor_version, 1}]', A('a' * 255)),
    ('list_to_atom(lists:duplicate(200, 16#11D))', '[]', A('\u011d' * 200)),
    ('{}', '[]', ()), ('{1, a}', '[]', (1, A('a'))),
    ('list_to_tuple(lists:seq(1, 300))', '[]', tuple(range(1, 301))),
    ('[]', '[]', []), ('[1, 2, 3]', '[]', [1, 2, 3]), ('"abc"', '[]', [97, 98, 99]),
    ('[1, a]', '[]', [1, A('a')]), ('[256]', '[]', [256]),
    ('lists:seq(1, 300)', '[]', list(range(1, 301))),
    ('[X rem 256 || X <- lists:seq(1, 70000)]', '[]', [x % 256 for x in range(1, 70001)]),
    ('[1 | 2]', '[]', ImproperList([1], 2)), ('[a, b | c]', '[]', ImproperList([A('a'), A('b')], A('c'))),
    ('[a | <<1>>]', '[]', ImproperList([A('a')], b'\x01')),
    ('<<>>', '[]', b''), ('<<1, 2, 3>>', '[]', b'\x01\x02\x03'),
    ('<<"h\\x{e9}llo"/utf8>>', '[]', 'h\u00e9llo'.encode('utf-8')),
    ('<<1:3>>', '[]', BitBinary(b'\x20', 3)), ('<<1, 2:4>>', '[]', BitBinary(b'\x01\x20', 4)),
    ('#{}', '[]', {}), ('#{a => 1, <<"b">> => [2]}', '[]', {A('a'): 1, b'b': [2]}),
    ('maps:from_list([{X, X * X} || X <- lists:seq(1, 40)])', '[]', {x: x * x for x in range(1, 41)}),
    ('#{[1] => x}', '[]', MapPairs([([1], A('x'))])),
    ('#{1 => a, 1.0 => b}', '[]', MapPairs([(1, A('a')), (1.0, A('b'))])),
    ('lists:duplicate(1000, hello)', '[compressed]', [A('hello')] * 1000),
    ('{lists:seq(1, 500), <<0:8000>>}', '[{compressed, 9}]', (list(range(1, 501)), bytes(1000))),
    ('fun lists:map/2', '[]', Export(A('lists'), A('map'), 2)),
    ('{ok, [{k, #{v => {1.0, "s", <<"b">>}}}], -70000}', '[]',
     (A('ok'), [(A('k'), {A('v'): (1.0, [115], b'b')})], -70000)),
]

# Terms with no literal (identity depends on the running node): checked by type.
OPAQUE = [
    ('self()', Pid), ('hd(erlang:ports())', Port), ('make_ref()', Reference),
    ('fun(X) -> X + 1 end', Fun), ("fun(X) -> {X, self(), make_ref()} end", Fun),
]


@pytest.mark.parametrize('expr,opts,expected', GOLDEN, ids=[g[0][:40] for g in GOLDEN])
def test_decode_matches_erlang(oracle, expr, opts, expected):
    index, data = oracle.term_to_binary(expr, opts)
    decoded = etf.decode(data)
    assert same(decoded, expected), (decoded, expected)
    # and what we encode, Erlang reads back as the very same term
    assert oracle.equals(index, etf.encode(expected))


@pytest.mark.parametrize('expr,opts,expected', [g for g in GOLDEN if 'compressed' not in g[1]])
def test_encode_is_byte_identical_where_order_is_defined(oracle, expr, opts, expected):
    if opts != '[]' or isinstance(expected, (dict, MapPairs)):
        pytest.skip('Erlang orders map keys and picks atom tags by option')
    dummy, data = oracle.term_to_binary(expr, '[{minor_version, 2}]')  # UTF-8 atoms, as in distribution
    assert etf.encode(expected) == data


@pytest.mark.parametrize('expr,kind', OPAQUE)
def test_opaque_terms_round_trip_through_erlang(oracle, expr, kind):
    index, data = oracle.term_to_binary(expr)
    decoded = etf.decode(data)
    assert isinstance(decoded, kind)
    assert oracle.equals(index, etf.encode(decoded))


def test_golden_vectors_cover_every_tag_otp25_sends(oracle):
    seen = set()
    for expr, opts, dummy in GOLDEN + [(e, '[]', None) for e, dummy in OPAQUE]:
        seen |= tags_in(oracle.term_to_binary(expr, opts)[1])
    required = {70, 77, 80, 88, 89, 90, 97, 98, 99, 100, 104, 105, 106, 107, 108, 109, 110,
                111, 112, 113, 116, 118, 119}
    assert required <= seen, sorted(required - seen)


def tags_in(data):
    """Every tag byte in data, found by walking it with the decoder itself."""
    found = set()
    original = dict(etf._DISPATCH)
    try:
        for tag, handler in original.items():
            def spy(self, pos, depth, _tag=tag, _handler=handler):
                found.add(_tag)
                return _handler(self, pos, depth)
            etf._DISPATCH[tag] = spy
        etf.decode(data)
    finally:
        etf._DISPATCH.update(original)
    return found


def test_old_formats_erlang_still_reads(oracle):
    """PID_EXT, PORT_EXT, REFERENCE_EXT, NEW_REFERENCE_EXT and SMALL_ATOM_EXT:
    built from the new forms, and checked against what Erlang makes of them."""
    node = b'\x73\x0dnonode@nohost'  # SMALL_ATOM_EXT
    olds = [
        b'\x83\x67' + node + b'\x00\x00\x00\x2a\x00\x00\x00\x01\x00',
        b'\x83\x66' + node + b'\x00\x00\x00\x07\x00',
        b'\x83\x65' + node + b'\x00\x00\x00\x05\x00',
        b'\x83\x72\x00\x03' + node + b'\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03',
    ]
    for old in olds:
        modern = oracle.reencode(old)
        assert modern is not None, old
        assert oracle.reencode(etf.encode(etf.decode(old))) == modern


def test_decode_errors_are_codec_errors():
    for bad in [b'', b'\x82a\x01', b'\x83', b'\x83\xff', b'\x83l\xff\xff\xff\xffj',
                b'\x83m\x00\x00\x00\x05ab', b'\x83P\x7f\xff\xff\xff' + b'x' * 10,
                b'\x83a\x01\x00', b'\x83M\x00\x00\x00\x01\x09\xff']:
        with pytest.raises(DecodeError):
            etf.decode(bad)


def test_nesting_is_bounded():
    deep = b'\x83' + b'h\x01' * 5000 + b'j'
    with pytest.raises(DecodeError, match='nested'):
        etf.decode(deep)


def test_compression_bomb_is_refused():
    import zlib
    bomb = b'\x83P' + (10 ** 9).to_bytes(4, 'big') + zlib.compress(b'\x00' * 10 ** 6)
    with pytest.raises(DecodeError, match='claims'):
        etf.decode(bomb)
    lie = b'\x83P' + (100).to_bytes(4, 'big') + zlib.compress(b'm' + b'\x00' * 10 ** 6)
    with pytest.raises(DecodeError):
        etf.decode(lie)


def test_encode_refuses_what_erlang_cannot_hold():
    for bad in [float('nan'), float('inf'), object(), A('x' * 256), {1: set()}]:
        with pytest.raises(EncodeError):
            etf.encode(bad)


def test_python_str_is_an_erlang_string(oracle):
    index, dummy = oracle.term_to_binary('"25"')
    assert oracle.equals(index, etf.encode('25'))
    index, dummy = oracle.term_to_binary('[16#11D, $a]')
    assert oracle.equals(index, etf.encode('\u011da'))


# ---------------------------------------------------------------- round trips

atoms = st.text(min_size=0, max_size=20).filter(lambda s: s not in ('true', 'false')).map(Atom)
leaves = st.one_of(
    st.integers(min_value=-(1 << 2200), max_value=1 << 2200), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False), atoms, st.binary(max_size=40),
    st.builds(lambda data, bits: BitBinary(etf._mask_tail(data, bits), bits),
              st.binary(min_size=1, max_size=8), st.integers(1, 7)),
    st.builds(Pid, atoms, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.builds(Port, atoms, st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1)),
    st.builds(Reference, atoms, st.integers(0, 2**32 - 1),
              st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5).map(tuple)),
    st.builds(Export, atoms, atoms, st.integers(0, 255)),
)
terms = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.lists(inner, max_size=6).map(tuple),
    st.dictionaries(st.one_of(atoms, st.integers(0, 1000), st.binary(max_size=4)), inner, max_size=4),
    st.builds(ImproperList, st.lists(inner, min_size=1, max_size=4),
              st.one_of(atoms, st.integers(), st.binary(max_size=4))),
), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(terms)
def test_round_trip(term):
    assert same(etf.decode(etf.encode(term)), term)
    assert same(etf.decode(etf.encode(term, compressed=6)), term)


@settings(max_examples=60, deadline=None)
@given(terms)
def test_erlang_agrees_with_our_encoding(oracle, term):
    """Erlang decodes what we encode, and its re-encoding decodes to the same value."""
    back = oracle.reencode(etf.encode(term))
    assert back is not None
    assert same(etf.decode(back), term)
