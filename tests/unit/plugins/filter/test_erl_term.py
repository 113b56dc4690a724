"""Term text from the filters, parsed by real Erlang (erl_scan + erl_parse + erl_eval)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beamsec.cluster.plugins.filter.erl_term import erl_ip, erl_term
from ansible_collections.beamsec.cluster.plugins.test.ip_in_network import ip_in_network
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import etf
from tests.support.strict import same

A = etf.Atom


@pytest.mark.parametrize('value,strings,expected', [
    (True, 'atom', True), (False, 'atom', False), (42, 'atom', 42), (-7, 'atom', -7),
    (1.5, 'atom', 1.5), (1e20, 'atom', 1e20), (2.5e-7, 'atom', 2.5e-7),
    ('never', 'atom', A('never')), ('Capital', 'atom', A('Capital')), ("it's", 'atom', A("it's")),
    ('end', 'atom', A('end')), ('a b\\c', 'atom', A('a b\\c')), ('', 'atom', A('')),
    ('tlsv1.3', 'atom', A('tlsv1.3')), ('/etc/ssl/c.pem', 'charlist', [ord(c) for c in '/etc/ssl/c.pem']),
    ('say "hi"', 'charlist', [ord(c) for c in 'say "hi"']), ('h\u00e9', 'binary', 'h\u00e9'.encode()),
    (['tlsv1.3', 'tlsv1.2'], 'atom', [A('tlsv1.3'), A('tlsv1.2')]),
    ({'verify': 'verify_peer', 'depth': 2}, 'atom', {A('verify'): A('verify_peer'), A('depth'): 2}),
    (None, 'atom', A('undefined')),
])
def test_erlang_reads_what_erl_term_writes(oracle, value, strings, expected):
    index, data = oracle.term_to_binary(erl_term(value, strings))
    assert same(etf.decode(data), expected), erl_term(value, strings)


@pytest.mark.parametrize('address,expected', [
    ('10.231.20.11', (10, 231, 20, 11)), ('127.0.0.1', (127, 0, 0, 1)),
    ('fd00::1', (0xfd00, 0, 0, 0, 0, 0, 0, 1)), ('[::1]', (0, 0, 0, 0, 0, 0, 0, 1)),
])
def test_erl_ip_matches_inet_parse_address(oracle, address, expected):
    dummy, data = oracle.term_to_binary('element(2, inet:parse_address("%s"))' % address.strip('[]'))
    assert etf.decode(data) == expected
    dummy, data = oracle.term_to_binary(erl_ip(address))
    assert etf.decode(data) == expected


def test_bad_values_are_filter_errors():
    for bad in (float('nan'), object()):
        with pytest.raises(AnsibleFilterError):
            erl_term(bad)
    with pytest.raises(AnsibleFilterError):
        erl_ip('10.0.0')
    with pytest.raises(AnsibleFilterError):
        erl_term('x', 'tuple')


def test_ip_in_network():
    assert ip_in_network('10.231.20.11', '10.231.20.0/24')
    assert not ip_in_network('10.231.10.11', '10.231.20.0/24')
    assert not ip_in_network('nonsense', '10.231.20.0/24')
    assert ip_in_network('fd00::5', 'fd00::/64')
