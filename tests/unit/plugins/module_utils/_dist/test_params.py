"""Bad module input is refused before any connection, naming the option and the fix."""

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.params import (
    CONNECTION_SPEC, ParamError, connect_kwargs)


def params(**overrides):
    base = dict((key, spec.get('default')) for key, spec in CONNECTION_SPEC.items())
    base.update(overrides)
    return base


@pytest.mark.parametrize('given,fragment', [
    (dict(), 'set node (name@host'),
    (dict(node='justaname', cookie='c'), 'node: '),
    (dict(host='10.0.0.1', cookie='c'), 'or host and port'),
    (dict(node='a@b', port=70000, cookie='c'), 'port=70000 is not a TCP port'),
    (dict(node='a@b', epmd_port=0, cookie='c'), 'epmd_port=0'),
    (dict(node='a@b', cookie='c', timeout=0), 'timeout=0'),
    (dict(node='a@b'), 'set cookie (vault it) or cookie_file'),
    (dict(node='a@b', cookie='bad\ncookie'), 'cookie: bad characters'),
    (dict(node='a@b', cookie_file='/nonexistent/cookie'), 'cookie_file: cannot read'),
    (dict(node='a@b', cookie='c', tls_cafile='/etc/hostname'), 'tls is false'),
    (dict(node='a@b', cookie='c', tls=True, tls_cafile='/nonexistent.pem'), 'tls_cafile=/nonexistent.pem'),
    (dict(node='a@b', cookie='c', tls=True, tls_keyfile='/etc/hostname'), 'tls_keyfile needs tls_certfile'),
    (dict(node='a@b', cookie='c', probe_name='nohost'), 'probe_name'),
])
def test_bad_input(given, fragment):
    with pytest.raises(ParamError) as caught:
        connect_kwargs(params(**given))
    assert fragment in str(caught.value)


def test_random_cookie_only_when_allowed():
    kwargs, source, warnings = connect_kwargs(params(node='a@b'), cookie_required=False)
    assert source == 'random' and len(kwargs['cookie']) >= 43 and warnings == []
    other = connect_kwargs(params(node='a@b'), cookie_required=False)[0]['cookie']
    assert other != kwargs['cookie']


def test_good_input_builds_the_call():
    kwargs, source, dummy = connect_kwargs(params(host='127.0.0.1', port=9100, cookie='abc '))
    assert source == 'cookie'
    assert kwargs['cookie'] == b'abc '  # auth keeps inner and trailing spaces before CR/LF
    assert kwargs['tls'] is None and kwargs['port'] == 9100
