"""Peers that misbehave on purpose, on loopback: the cases no real node produces."""

import socket
import struct
import threading

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.handshake import (
    DEFAULT_FLAGS, DFLAG_PUBLISHED, gen_digest)

LOOPBACK = '127.0.0.1'


class HostilePeer:
    """Listens on a free loopback port; ``behaviour(conn)`` runs for each client.

    Every accepted socket has a 10 s timeout and is closed by stop(), so a
    test can never leave a thread blocked forever.
    """

    def __init__(self, behaviour, accept=True):
        self.behaviour = behaviour
        self.server = socket.socket()
        self.server.bind((LOOPBACK, 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.clients = []
        self.errors = []
        self.thread = None
        if accept:
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()

    def _serve(self):
        try:
            client, dummy = self.server.accept()
        except OSError:
            return
        client.settimeout(10)
        self.clients.append(client)
        try:
            self.behaviour(client)
        except OSError as exc:
            self.errors.append(exc)

    def stop(self):
        for client in self.clients:
            client.close()
        self.server.close()
        if self.thread:
            self.thread.join(timeout=12)


def recv_frame(sock, header=2):
    size = struct.unpack('>H' if header == 2 else '>I', _exact(sock, header))[0]
    return _exact(sock, size)


def _exact(sock, count):
    data = b''
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError('client closed')
        data += chunk
    return data


def send_frame(sock, payload, header=2):
    sock.sendall(struct.pack('>H' if header == 2 else '>I', len(payload)) + payload)


def fake_handshake(sock, cookie, name=b'fake@127.0.0.1', know_cookie=True, challenge_kind=b'N'):
    """Play the accepting side: our challenge, then an ack (right or wrong digest)."""
    first = recv_frame(sock)
    send_frame(sock, b'sok')
    challenge = 0x12345678
    if challenge_kind == b'N':
        send_frame(sock, struct.pack('>cQIIH', b'N', DEFAULT_FLAGS | DFLAG_PUBLISHED, challenge, 7, len(name)) + name)
    else:
        send_frame(sock, struct.pack('>cHII', b'n', 5, (DEFAULT_FLAGS | DFLAG_PUBLISHED) & 0xFFFFFFFF, challenge) + name)
    complement = None
    if first[:1] == b'n' and challenge_kind == b'N':
        complement = recv_frame(sock)
    reply = recv_frame(sock)
    their_challenge = struct.unpack('>I', reply[1:5])[0]
    if reply[5:] != gen_digest(challenge, cookie):
        sock.close()
        return first, complement, False
    digest = gen_digest(their_challenge, cookie if know_cookie else b'not-the-cookie')
    send_frame(sock, b'a' + digest)
    return first, complement, True
