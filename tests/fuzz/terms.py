"""Well-formed Erlang terms for the fuzz run: random ones, and mutations of given ones.

A ``Terms`` makes Python values that etf.encode turns into terms a node could send
(atoms, small and huge integers, floats, charlists, binaries, tuples, records,
lists, maps, pids, refs, ports, deep nesting), plus pieces no encoder makes
(NaN, infinities, old tags, nesting past the decoder's limit): those are held
as sentinel atoms and spliced in as raw bytes by ``encode``.
"""

# Exact types on purpose: a Pid is a tuple subclass, an Atom a str, a bool an int.
# pylint: disable=unidiomatic-typecheck

import math
import struct

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf

A = etf.Atom

ATOMS = ('true', 'false', 'undefined', 'never', 'once', 'always', 'ok', 'error', 'badrpc', 'tls', 'tcp',
         'inet', 'inet6', 'listen', 'conf', 'state', 'net_address', 'io_request', 'ongoing_change_to',
         'inet_tcp_dist', 'inet_tls_dist', 'erl_epmd', 'kernel', '', 'Never', 'never ', 'TLS', 'a@h',
         'hostile@127.0.0.1', 'b@127.0.0.1', 'other@10.0.0.9', 'x' * 255, '\u00fc', '\u4e2d@h', 'nonode@nohost')
NODES = ('hostile@127.0.0.1', 'b@127.0.0.1', 'n@h', 'other@10.0.0.9', 'nonode@nohost')
INTS = (0, 1, -1, 2, 60, 255, 256, 4369, 40000, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31, 2 ** 32,
        2 ** 63, 2 ** 64, -2 ** 64, 2 ** 16384, -2 ** 16384, 10 ** 4400)
FLOATS = (0.0, -0.0, 1.0, 1.5, -2.5, 60.0, 40000.0, 1e308, -1e308, 5e-324, 2.0 ** 70)
TEXTS = ('', 'false', 'true', 'never', 'once', 'tls', 'tcp', 'ok', 'undefined', '127.0.0.1', '::1', '25',
         'inet_tls', 'inet_tcp', 'hostile@127.0.0.1', 'false ', 'FALSE', 'n\u00e9ver', '\u4e2d\u6587',
         '\ud800', '\U0010ffff', 'x' * 300, 'y' * 1100)
IPS = ((127, 0, 0, 1), (0, 0, 0, 0), (10, 0, 0, 5), (192, 168, 1, 1), (0, 0, 0, 0, 0, 0, 0, 1),
       (0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0xFFFF, 0x7F00, 1), (256, 0, 0, 1), (127, 0, 0, -1),
       (127, 0, 0), (127, 0, 0, 1, 0), (True, 0, 0, 1), (65536, 0, 0, 0, 0, 0, 0, 1), (2 ** 70, 0, 0, 1))

_NAN = struct.pack('>d', math.nan)
RAW = {
    'nan': bytes((etf.NEW_FLOAT_EXT,)) + _NAN,
    '+inf': bytes((etf.NEW_FLOAT_EXT,)) + struct.pack('>d', math.inf),
    '-inf': bytes((etf.NEW_FLOAT_EXT,)) + struct.pack('>d', -math.inf),
    'old nan': bytes((etf.FLOAT_EXT,)) + b'nan'.ljust(31, b'\0'),
    'old float': bytes((etf.FLOAT_EXT,)) + b'6.00000000000000000000e+01'.ljust(31, b'\0'),
    'latin-1 never': b'd\x00\x05never',
    'latin-1 false': b'd\x00\x05false',
    'latin-1 tls': b's\x03tls',
    'string false': b'k\x00\x05false',
    'list false': b'l\x00\x00\x00\x05' + b''.join(b'a' + bytes((c,)) for c in b'false') + b'j',
    'improper false': b'l\x00\x00\x00\x05' + b''.join(b'a' + bytes((c,)) for c in b'false') + b'a\x00',
    'too deep': b'h\x01' * 310 + b'j',
    'deep list': b'l\x00\x00\x00\x01' * 290 + b'j' + b'j' * 290,
    'old pid': b'gs\x03n@h\x00\x00\x00\x01\x00\x00\x00\x02\x03',
    'old ref': b'es\x03n@h\x00\x00\x00\x05\x01',
    'empty small big': b'n\x00\x00',
    'negative zero big': b'n\x01\x01\x00',
    'long utf8 atom': b'v\x01\x2c' + b'a' * 300,
    'export': b'qs\x01md\x00\x01fa\x02',
    'bitstring': b'M\x00\x00\x00\x01\x03\xe0',
    'export bignum arity': b'qs\x01ms\x01fo\x00\x00\x07\xd0\x00' + b'\xff' * 2000,
    'export list arity': b'qs\x01ms\x01fl\x00\x00\x07\xd0' + b'a\x01' * 2000 + b'j',
    'bignum of 4,933 digits': b'o\x00\x00\x08\x01\x00' + b'\x00' * 2048 + b'\x01',
}


class Terms:
    """Random well-formed terms from one ``random.Random``; raw pieces are kept in ``raws``."""

    def __init__(self, rng):
        self.rng = rng
        self.raws = {}

    # -- leaves
    def raw(self, name=None):
        name = name or self.rng.choice(sorted(RAW))
        sentinel = 'fuzz_raw_%03d' % len(self.raws)
        self.raws[etf.encode(A(sentinel))[1:]] = RAW[name]
        return A(sentinel)

    def atom(self):
        return A(self.rng.choice(ATOMS))

    def integer(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(INTS)
        if roll < 0.9:
            return rng.randint(-70000, 70000)
        return rng.getrandbits(rng.choice((33, 64, 200, 2100))) * rng.choice((1, -1))

    def float_(self):
        return self.rng.choice(FLOATS) if self.rng.random() < 0.7 else self.rng.uniform(-1e6, 1e6)

    def text(self):
        return self.rng.choice(TEXTS)

    def binary(self):
        rng = self.rng
        if rng.random() < 0.6:
            return rng.choice(TEXTS).encode('utf-8', 'surrogatepass')
        size = rng.choice((0, 1, 5, 64, 300, 2000))
        return rng.getrandbits(8 * size).to_bytes(size, 'big') if size else b''

    def node(self):
        return A(self.rng.choice(NODES))

    def pid(self):
        rng = self.rng
        return etf.Pid(self.node(), rng.getrandbits(rng.choice((3, 15, 32))), rng.getrandbits(rng.choice((1, 13, 32))),
                       rng.getrandbits(rng.choice((2, 32))))

    def ref(self):
        rng = self.rng
        return etf.Reference(self.node(), rng.getrandbits(rng.choice((2, 32))),
                             tuple(rng.getrandbits(32) for dummy in range(rng.choice((1, 3, 3, 5, 0)))))

    def port(self):
        rng = self.rng
        return etf.Port(self.node(), rng.getrandbits(rng.choice((8, 32, 64))), rng.getrandbits(rng.choice((2, 32))))

    def leaf(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            return self.atom()
        if roll < 0.45:
            return self.integer()
        if roll < 0.52:
            return self.float_()
        if roll < 0.64:
            return self.text()
        if roll < 0.74:
            return self.binary()
        if roll < 0.80:
            return self.pid()
        if roll < 0.86:
            return self.ref()
        if roll < 0.90:
            return self.port()
        if roll < 0.95:
            return self.raw()
        return rng.choice((None, True, False, [], (), {}, etf.Export(A('m'), A('f'), 2),
                           etf.BitBinary(b'\xe0', 3)))

    # -- containers
    def record(self, depth=0):
        rng = self.rng

        def term():
            return self.term(depth + 1)
        kind = rng.randrange(6)
        if kind == 0:
            return (A('ok'), term())
        if kind == 1:
            return self.listen(depth + 1)
        if kind == 2:
            return self.net_address(depth + 1)
        if kind == 3:
            return (A('conf'), rng.choice((True, False, term())), rng.choice((True, False)))
        if kind == 4:
            return (A('state'),) + tuple(term() for dummy in range(rng.randrange(6)))
        return (A(rng.choice(('ongoing_change_to', 'badrpc', 'EXIT', 'error'))), term())

    def net_address(self, depth=0):
        rng = self.rng
        address = rng.choice(IPS) if rng.random() < 0.8 else self.term(depth + 1)
        port = rng.choice((40000, 0, 65535, 65536, -1, 2 ** 70)) if rng.random() < 0.8 else self.term(depth + 1)
        return (A('net_address'), (address, port) if rng.random() < 0.9 else self.term(depth + 1),
                rng.choice(('localhost', b'h', A('h'))), rng.choice((A('tcp'), A('tls'), 'tls', b'tls', A('x'))),
                rng.choice((A('inet'), A('inet6'))))

    def listen(self, depth=0):
        rng = self.rng
        address = self.net_address(depth + 1) if rng.random() < 0.9 else self.term(depth + 1)
        module = rng.choice((A('inet_tcp_dist'), A('inet_tls_dist'), A('inet6_tls_dist'), 'inet_tls_dist',
                             A('_dist'), A('x')))
        return (A('listen'), self.port(), self.pid(), address, module)

    def term(self, depth=0):
        """A random term; at depth 0 sometimes a big or a deep one."""
        rng = self.rng
        if depth == 0 and rng.random() < 0.02:
            return self.big() if rng.random() < 0.5 else self.deep()
        if depth >= 4 or rng.random() < 0.45:
            return self.leaf()
        roll = rng.random()
        if roll < 0.25:
            return tuple(self.term(depth + 1) for dummy in range(rng.choice((0, 1, 2, 2, 3, 4, 5, 8))))
        if roll < 0.5:
            return [self.term(depth + 1) for dummy in range(rng.choice((0, 1, 2, 3, 5, 8)))]
        if roll < 0.6:
            return self.map_(depth)
        if roll < 0.85:
            return self.record(depth)
        return etf.ImproperList([self.term(depth + 1)], self.leaf())

    def map_(self, depth=0):
        rng = self.rng
        if rng.random() < 0.7:
            keys = (A('k'), A('ok'), A('never'), 1, 2.5, b'k', 'k', (A('a'), 1), self.pid())
            return dict((rng.choice(keys), self.term(depth + 1)) for dummy in range(rng.randrange(5)))
        pairs = [([1], self.term(depth + 1)), ((A('a'), []), 2), (1, 'x'), (1.0, 'y'), (True, 'z')]
        return etf.MapPairs(pairs[:rng.randint(1, 5)])

    def big(self):
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            return list(range(rng.choice((300, 3000))))
        if kind == 1:
            return [self.node() for dummy in range(rng.choice((100, 2000)))]
        if kind == 2:
            return tuple(self.leaf() for dummy in range(rng.choice((70, 300))))
        return [self.binary() for dummy in range(rng.choice((20, 80)))]

    def deep(self):
        rng = self.rng
        value = self.leaf()
        for dummy in range(rng.choice((10, 100, 250, 296))):
            value = rng.choice(((value,), [value], {A('k'): value}))
        return value

    # -- mutations of a given (normal) value
    def mutate(self, value, depth=0):
        rng = self.rng
        kind = type(value)
        if kind in (tuple, list) and value and depth < 6 and rng.random() < 0.5:
            items = list(value)
            index = rng.randrange(len(items))
            items[index] = self.mutate(items[index], depth + 1)
            return kind(items)
        roll = rng.random()
        if roll < 0.2:
            return self.term(2)
        if roll < 0.4:
            return self.convert(value)
        if roll < 0.5:
            return rng.choice(((value,), [value], (A('ok'), value), (value, value), {A('k'): value}))
        if kind in (tuple, list) and value:
            items = list(value)
            op = rng.randrange(5)
            if op == 0:
                return items[rng.randrange(len(items))]
            if op == 1:
                del items[rng.randrange(len(items))]
            elif op == 2:
                items.insert(rng.randrange(len(items) + 1), self.term(3))
            elif op == 3:
                items.insert(rng.randrange(len(items) + 1), items[rng.randrange(len(items))])
            else:
                first, second = rng.randrange(len(items)), rng.randrange(len(items))
                items[first], items[second] = items[second], items[first]
            return kind(items)
        return self.convert(value)

    def convert(self, value):
        """The same value as another type: atom <-> charlist <-> binary, int <-> float, tuple <-> list..."""
        rng = self.rng
        if isinstance(value, bool):
            return rng.choice((A('true' if value else 'false'), 'true' if value else 'false',
                               b'true' if value else b'false', int(value), not value))
        if isinstance(value, A):
            return rng.choice((str(value), str(value).encode('utf-8'), A(str(value).upper()),
                               A((value + ' ')[:255]), (value,), [value]))
        if isinstance(value, int):
            if abs(value) > 2 ** 64:
                return rng.choice((1e308, value + 1, -value, 0))
            return rng.choice((float(value), value + 1, value - 1, -value, value * 2 ** 64, str(value), A(str(value))))
        if isinstance(value, float):
            return rng.choice((int(value), self.raw('nan'), self.raw('+inf'), -value))
        if isinstance(value, (bytes, str)):
            text = value.decode('utf-8', 'replace') if isinstance(value, bytes) else value
            return rng.choice((A(text[:255]), text.encode('utf-8', 'surrogatepass'), text, text.upper(),
                               text + '\0', [text]))
        if type(value) is tuple:
            return rng.choice((list(value), value[:-1], value + (A('x'),), etf.MapPairs([(0, v) for v in value][:1])))
        if type(value) is list:
            return rng.choice((tuple(value), value * 2, value[::-1], etf.ImproperList(value, A('tail'))
                               if value else A('nil')))
        return self.term(2)


def encode(value, raws):
    """etf.encode with the raw pieces spliced in where their sentinels are."""
    data = etf.encode(value)
    for sentinel, raw in raws.items():
        if sentinel in data:
            data = data.replace(sentinel, raw)
    return data
