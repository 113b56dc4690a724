"""The boot hook's peer connections on real OTP nodes: under OTP's default dist_auto_connect a lost link comes
back at the next round; under once and never it stays lost (the hook connected the peer once and does not again),
which is what once is for. The link is lost as OTP loses one: the peer drops the connection."""

import time

import pytest

from ansible_collections.beamsec.cluster.plugins.module_utils._dist.etf import Atom
from tests.support.cluster import call
from tests.support.otp import Node, free_port, hardened_args
from tests.support.tools import render_boot_script

INTERVAL = 1  # seconds between the hook's rounds


def linked(node, peer, want, within):
    """Whether ``peer`` is in node's nodes() (== want) within ``within`` seconds, polled."""
    end = time.monotonic() + within
    while True:
        now = peer.name in call(node, 'erlang', 'nodes')
        if now == want or time.monotonic() > end:
            return now
        time.sleep(0.2)


@pytest.mark.parametrize('auto_connect, comes_back', [('', True), ('once', False), ('never', False)])
def test_a_lost_link(epmd, tmp_path, auto_connect, comes_back):
    cookie = 'boot-connect-cookie'
    peer_port, port = free_port(), free_port()
    peer = Node('keep_peer_%s' % (auto_connect or 'always'), epmd, cookie=cookie, args=hardened_args(peer_port, auto_connect))
    started = [peer]
    try:
        script = tmp_path / 'boot.script'
        render_boot_script(script, port, port, connect=[peer.name], interval=INTERVAL, auto_connect=auto_connect)
        node = Node('keep_node_%s' % (auto_connect or 'always'), epmd, cookie=cookie,
                    args=hardened_args(port, auto_connect) + ['-eval', '{ok, ok} = file:script("%s")' % script])
        started.append(node)
        assert linked(node, peer, True, 10 * INTERVAL), 'the hook never connected the peer at boot'
        assert call(peer, 'erlang', 'disconnect_node', Atom(node.name)) is True
        # three rounds of the hook: the default reconnects at the first
        assert linked(node, peer, True, 3 * INTERVAL + 1) is comes_back
        if not comes_back:  # the hook is done with its one peer: it has nothing left to do
            assert call(node, 'erlang', 'whereis', Atom('beamsec_peers')) == 'undefined'
    finally:
        for member in started:
            member.stop()
