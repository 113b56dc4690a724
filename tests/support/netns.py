"""Two network namespaces of a test's own, joined by a veth pair: a node side (10.78.0.1) with a real EPMD
and a real OTP node, and a peer side (10.78.0.2). Optionally the node role's nftables ruleset loaded on the
node side. Everything started is stopped by PID and the namespaces deleted on exit."""

import contextlib
import subprocess
import time

NODE, PEER = 'beamsec-fw-node', 'beamsec-fw-peer'
NODE_IP, PEER_IP = '10.78.0.1', '10.78.0.2'
NODE_NAME = 'fw@' + NODE_IP
DIST_PORT = 9100


def run_in(name, *argv, check=True, timeout=60):
    return subprocess.run(['ip', 'netns', 'exec', name] + list(argv), capture_output=True, text=True, timeout=timeout,
                          check=check)


@contextlib.contextmanager
def node_and_peer(cookie, ruleset=None, any_address=False):
    """Yield once the node listens on DIST_PORT; cookie is the node's (given on its command line: a test cookie).
    any_address: the node listens on every address of its namespace (an overlay's too), not NODE_IP alone."""
    for name in (NODE, PEER):
        subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)
        subprocess.run(['ip', 'netns', 'add', name], check=True)
    started = []
    try:
        subprocess.run(['ip', 'link', 'add', 'bsfw0', 'netns', NODE, 'type', 'veth', 'peer', 'name', 'bsfw1', 'netns',
                        PEER], check=True)
        for name, link, address in ((NODE, 'bsfw0', NODE_IP), (PEER, 'bsfw1', PEER_IP)):
            run_in(name, 'ip', 'link', 'set', 'lo', 'up')
            run_in(name, 'ip', 'addr', 'add', address + '/24', 'dev', link)
            run_in(name, 'ip', 'link', 'set', link, 'up')
        if ruleset:
            run_in(NODE, 'nft', '-f', str(ruleset))
        started.append(subprocess.Popen(['ip', 'netns', 'exec', NODE, 'epmd', '-address', '127.0.0.1,' + NODE_IP],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        started.append(subprocess.Popen(
            ['ip', 'netns', 'exec', NODE, 'erl', '-noshell', '-name', NODE_NAME, '-setcookie', cookie,
             '-kernel', 'inet_dist_listen_min', str(DIST_PORT), '-kernel', 'inet_dist_listen_max', str(DIST_PORT)]
            + ([] if any_address else ['-kernel', 'inet_dist_use_interface', '{%s}' % NODE_IP.replace('.', ',')]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for dummy in range(100):
            if run_in(NODE, 'ss', '-Hltn', 'sport = :%d' % DIST_PORT).stdout.strip():
                break
            time.sleep(0.1)
        yield
    finally:
        for process in started:
            process.kill()
            process.wait(timeout=10)
        for name in (NODE, PEER):
            subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)
