"""Wrong-cookie handshakes at one node from this host, as fast as one source can, for DURATION seconds (bounded:
at most 60 s and 20,000 attempts). Prints JSON: the source address the node sees, attempts, answered (the node
got as far as rejecting the cookie) and seconds. The names carry no probe key: a stranger's knocks.
Usage: knock_flood.py NODE@ADDRESS DURATION"""

import json
import os
import socket
import sys
import time

for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) + [os.path.expanduser('~/.ansible/collections')]:
    if path and path not in sys.path:
        sys.path.append(path)

# pylint: disable=wrong-import-position
from ansible_collections.beamsec.cluster.plugins.module_utils._dist import node  # noqa: E402


def source_for(address):
    with socket.socket(socket.AF_INET6 if ':' in address else socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((address, 9))  # no packet: the kernel only picks the route and source
        return probe.getsockname()[0]


def main():
    target, duration = sys.argv[1], min(float(sys.argv[2]), 60.0)
    tried = answered = 0
    started = time.monotonic()
    while time.monotonic() - started < duration and tried < 20000:
        report = node.probe(node=target, cookie=b'a-stranger-guessing-cookies', timeout=0.2)
        tried += 1
        answered += report['outcome'] == 'rejected'
    print(json.dumps({'source': source_for(target.split('@', 1)[1]), 'tried': tried, 'answered': answered,
                      'seconds': round(time.monotonic() - started, 2)}))


if __name__ == '__main__':
    main()
