"""Cookie files are read exactly as OTP's auth module reads them."""

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.cookie import (
    CookieError, parse_cookie, read_cookie_file)
from tests.support.otp import Node


@pytest.mark.parametrize('content', [b'plain', b'with trailing newline\n', b'inner  spaces kept \r\n',
                                     b'~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./'])
def test_node_and_client_agree_on_the_cookie(epmd, nodes, tmp_path, content):
    home = tmp_path / 'home'
    home.mkdir()
    cookie_file = home / '.erlang.cookie'
    cookie_file.write_bytes(content)
    cookie_file.chmod(0o400)
    nodes.append(Node('cookiefile%d' % len(nodes), epmd, home=home))
    cookie, warning = read_cookie_file(str(cookie_file))
    assert warning is None
    report = node.probe(node=nodes[-1].name, cookie=cookie, epmd_port=epmd.port)
    assert report['outcome'] == 'accepted', (content, report)


def test_bad_cookies_are_refused_with_a_reason(tmp_path):
    for raw in (b'', b'\n', b'bad\x00byte', b'two\nlines'):
        with pytest.raises(CookieError):
            parse_cookie(raw)
    loose = tmp_path / 'loose'
    loose.write_bytes(b'abc')
    loose.chmod(0o644)
    assert 'make it 0400' in read_cookie_file(str(loose))[1]
    with pytest.raises(CookieError, match='cannot read'):
        read_cookie_file(str(tmp_path / 'missing'))
