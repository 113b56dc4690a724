"""A TLS close that the socket layer reports as an error (SSLZeroReturnError / SSLEOFError) is a close, as b''
is: in the middle of a frame it is Truncated, between frames Closed.
Closed at recv_challenge_ack is read as 'rejected' (the wrong_cookie check's ok). CPython's TLS sockets turn a
peer's close into b'' (ragged EOFs suppressed), so no real peer here raises these: the stub stands for a TLS
socket that does."""

import ssl

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.connection import Connection, Deadline
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.errors import Closed, Truncated
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.loop import run


class _TlsStub:
    """What an SSLSocket's recv gives: bytes, then the close as an SSLError."""

    def __init__(self, *chunks):
        self.chunks = list(chunks)

    def gettimeout(self):
        return 0.0

    def pending(self):  # decrypted bytes held (so no read waits on this stub)
        return 1

    def recv(self, most):
        item = self.chunks.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self):
        pass


def _tls_conn(*chunks):
    conn = Connection(_TlsStub(*chunks), Deadline(1.0))
    conn.tls, conn.header, conn.stage = True, 4, 'recv_challenge_ack'
    return conn


@pytest.mark.parametrize('error', [ssl.SSLZeroReturnError(6, 'TLS/SSL connection has been closed (EOF)'),
                                   ssl.SSLEOFError(8, 'EOF occurred in violation of protocol')])
@pytest.mark.parametrize('sent', [b'\x00\x00', b'\x00\x00\x00\x11a'])  # inside the header; inside the body
def test_a_tls_close_inside_a_frame_is_truncated(error, sent):
    with pytest.raises(Truncated):
        run(_tls_conn(sent, error).recv_frame())


def test_a_tls_close_between_frames_is_closed():  # the control
    with pytest.raises(Closed) as caught:
        run(_tls_conn(ssl.SSLZeroReturnError(6, 'closed')).recv_frame())
    assert not isinstance(caught.value, Truncated)
