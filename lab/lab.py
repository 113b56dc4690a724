"""The local lab: real hosts (podman containers running systemd) on a public
and a private network, built from Debian packages only.

    python3 lab/lab.py build [--force]       image from debootstrap, cached by package list
    python3 lab/lab.py up [--nodes 3] [--outsiders 1] [--public-only]
    python3 lab/lab.py down [--image]        containers and networks (and the image)
    python3 lab/lab.py status

Cluster hosts sit on both networks (with --public-only, on the public one: their
private network is then an overlay they make); outsiders only on the public one. Both
networks are dual-stack (IPv4 and a ULA IPv6 prefix) and --internal: no
gateway, nothing routes between them or off them, so an outsider is really
outside and no lab packet can leave the lab.
Ansible reaches the hosts with lab/connection_plugins/lab_podman.py (containers.podman.podman, pipelined)
(podman exec): no sshd, no keys, and nothing listening that the node role's firewall
would have to let through.
"""

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

LAB = Path(__file__).resolve().parent
ROOT = LAB.parent
CACHE = ROOT / '.cache' / 'lab'
INVENTORY = CACHE / 'inventory.yml'
# a directory per host, shared with it at /opt/beamsec-lab: the fork server that runs the lab connection's
# modules (lab/fork_server.py, lab/connection_plugins/lab_podman.py) and its socket
SHARED = CACHE / 'shared'
SHARED_IN_HOST = '/opt/beamsec-lab'
COOKIE = CACHE / 'app.cookie'
PREFIX = 'beamsec-lab'
LABEL = 'beamsec.lab=1'
MIRROR = os.environ.get('BEAMSEC_LAB_MIRROR', 'http://deb.debian.org/debian')
SUITE = 'bookworm'
NETWORKS = {
    # dual-stack: IPv4 and a ULA IPv6 prefix (fd31:...), both private to the lab
    'public': {'name': PREFIX + '-public', 'subnet': '10.231.10.0/24', 'prefix': '10.231.10.',
               'subnet6': 'fd31:10::/64', 'prefix6': 'fd31:10::'},
    'private': {'name': PREFIX + '-private', 'subnet': '10.231.20.0/24', 'prefix': '10.231.20.',
                'subnet6': 'fd31:20::/64', 'prefix6': 'fd31:20::'},
}
BOOT_TIMEOUT = 90
RECIPE = 2  # bump when build() or _prepare_rootfs() changes what the image holds


def podman_env():
    return dict(os.environ, CONTAINERS_CONF=str(LAB / 'containers.conf'))


def podman(*args, check=True, capture=True):
    result = subprocess.run(['podman'] + list(args), env=podman_env(), check=False, timeout=600,
                            capture_output=capture, text=True)
    if check and result.returncode != 0:
        raise SystemExit('podman %s failed: %s' % (' '.join(args), (result.stderr or '').strip()))
    return result


def packages():
    return [line.strip() for line in (LAB / 'packages.txt').read_text().splitlines()
            if line.strip() and not line.startswith('#')]


def image_tag():
    """The image is named by what goes into it: rebuilt when the package list or the recipe changes."""
    digest = hashlib.sha256((LAB / 'packages.txt').read_bytes())
    digest.update(('%s %s %d' % (SUITE, MIRROR, RECIPE)).encode())
    return '%s:%s' % (PREFIX, digest.hexdigest()[:12])


def image_exists(tag):
    return podman('image', 'exists', tag, check=False).returncode == 0


def build(force=False):
    tag = image_tag()
    if image_exists(tag) and not force:
        print('image %s is up to date' % tag)
        return tag
    rootfs = CACHE / 'rootfs'
    if rootfs.exists():
        shutil.rmtree(rootfs)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run(['debootstrap', '--variant=minbase', '--include=' + ','.join(packages()), SUITE, str(rootfs),
                    MIRROR], check=True, timeout=1800, stdout=subprocess.DEVNULL)
    _prepare_rootfs(rootfs)
    tar = subprocess.Popen(['tar', '-C', str(rootfs), '--numeric-owner', '-c', '.'], stdout=subprocess.PIPE)
    subprocess.run(['podman', 'import', '--change', 'CMD=["/sbin/init"]', '--change', 'LABEL beamsec.lab="1"',
                    '-', tag], stdin=tar.stdout, env=podman_env(), check=True, timeout=600, stdout=subprocess.DEVNULL)
    tar.wait()
    shutil.rmtree(rootfs)
    print('image %s built in %.0f s' % (tag, time.monotonic() - started))
    return tag


def _prepare_rootfs(rootfs):
    """What a container host needs that a fresh debootstrap lacks."""
    (rootfs / 'etc' / 'machine-id').write_text('')  # systemd makes one per host at boot
    for unit in ('getty@tty1.service', 'console-getty.service', 'systemd-timesyncd.service'):
        link = rootfs / 'etc' / 'systemd' / 'system' / unit
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to('/dev/null')  # masked: no consoles, no clock to set in a container
    # systemd in a podman container now and then misses the event that a stopped unit's cgroup is empty (seen:
    # main process exited 0, cgroup empty, "State 'final-sigterm' timed out"), and waits DefaultTimeoutStopSec
    # (90 s) before it starts the unit again: a restart that hangs the lab's tests, not a host's behaviour
    conf = rootfs / 'etc' / 'systemd' / 'system.conf.d'
    conf.mkdir(parents=True, exist_ok=True)
    (conf / 'lab.conf').write_text('[Manager]\nDefaultTimeoutStopSec=20s\n')
    # RabbitMQ's package enables its service: the rabbitmq lab app starts it where it is wanted
    (rootfs / 'etc' / 'systemd' / 'system' / 'multi-user.target.wants' / 'rabbitmq-server.service').unlink(
        missing_ok=True)
    (rootfs / 'var' / 'cache' / 'apt' / 'archives').mkdir(parents=True, exist_ok=True)
    for stale in (rootfs / 'var' / 'cache' / 'apt' / 'archives').glob('*.deb'):
        stale.unlink()


def ensure_networks():
    for net in NETWORKS.values():
        if podman('network', 'exists', net['name'], check=False).returncode == 0:
            continue
        # --internal: no gateway and no route off the bridge, so nothing a lab
        # host sends can leave the lab (a routed bridge would hand packets for
        # unknown addresses to this machine's uplink).
        podman('network', 'create', '--internal', '--label', LABEL, '--disable-dns', '--ipv6',
               '--subnet', net['subnet'], '--subnet', net['subnet6'], net['name'])


def _address(net, index):
    return NETWORKS[net]['prefix'] + str(index)


def _address6(net, index):
    return NETWORKS[net]['prefix6'] + str(index)


def hosts(nodes, outsiders, public_only=False):
    plan = []
    for index in range(1, nodes + 1):
        private = {'private': None, 'private6': None} if public_only else {
            'private': _address('private', 10 + index), 'private6': _address6('private', 10 + index)}
        plan.append(dict({'name': 'beam%d' % index, 'group': 'beam_nodes',
                          'public': _address('public', 10 + index), 'public6': _address6('public', 10 + index)},
                         **private))
    for index in range(1, outsiders + 1):
        plan.append({'name': 'outsider%d' % index if outsiders > 1 else 'outsider', 'group': 'outsiders',
                     'public': _address('public', 100 + index), 'public6': _address6('public', 100 + index),
                     'private': None, 'private6': None})
    return plan


def container_state(name):
    result = podman('container', 'inspect', '--format', '{{.State.Status}}', name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def start_host(tag, host):
    name = '%s-%s' % (PREFIX, host['name'])
    state = container_state(name)
    if state == 'running':
        return name
    if state is not None:
        podman('start', name)
        return name
    shared = SHARED / name
    shared.mkdir(parents=True, exist_ok=True)
    args = ['run', '-d', '--name', name, '--hostname', host['name'], '--label', LABEL,
            '--systemd=always', '--cap-add', 'NET_ADMIN', '--volume', '%s:%s' % (shared, SHARED_IN_HOST),
            # wireguard-go's tun device, for the WireGuard overlay (this kernel has no WireGuard module)
            '--device', '/dev/net/tun',
            '--network', '%s:ip=%s,ip6=%s' % (NETWORKS['public']['name'], host['public'], host['public6'])]
    if host['private']:
        args += ['--network', '%s:ip=%s,ip6=%s' % (NETWORKS['private']['name'], host['private'],
                                                   host['private6'])]
    podman(*(args + [tag, '/sbin/init']))
    return name


def start_fork_server(name):
    """The host's fork server for the lab connection's modules, unless it answers already."""
    shared = SHARED / name
    sock = shared / 'modules.sock'
    if sock.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(sock))
            return
        except OSError:
            sock.unlink()
        finally:
            probe.close()
    shutil.copy(LAB / 'fork_server.py', shared / 'fork_server.py')
    lib = shared / 'lib' / 'ansible'
    if not lib.exists():  # this controller's modules and module_utils: the version of every payload it sends
        import ansible  # pylint: disable=import-outside-toplevel
        for part in ('module_utils', 'modules'):
            shutil.copytree(Path(ansible.__file__).parent / part, lib / part,
                            ignore=shutil.ignore_patterns('__pycache__'))
        (lib / '__init__.py').write_text('')
    podman('exec', '-d', name, '/usr/bin/python3', SHARED_IN_HOST + '/fork_server.py', SHARED_IN_HOST + '/modules.sock',
           SHARED_IN_HOST + '/lib')
    deadline = time.monotonic() + BOOT_TIMEOUT
    while not sock.exists():
        if time.monotonic() > deadline:
            raise SystemExit('%s: the fork server did not start' % name)
        time.sleep(0.1)


def wait_booted(name):
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        state = podman('exec', name, 'systemctl', 'is-system-running', check=False).stdout.strip()
        if state in ('running', 'degraded'):
            return state
        time.sleep(0.3)
    raise SystemExit('%s did not finish booting within %d s' % (name, BOOT_TIMEOUT))


def interfaces(name):
    """{address: interface} inside the host, as the kernel names them."""
    out = podman('exec', name, 'ip', '-j', 'addr', 'show').stdout
    found = {}
    for link in json.loads(out):
        for addr in link.get('addr_info', []):
            found[addr['local']] = link['ifname']
    return found


def write_inventory(plan):
    lines = ['# Generated by lab/lab.py up: the lab hosts, reached with podman exec.', 'all:', '  vars:',
             '    ansible_connection: lab_podman  # lab/connection_plugins: containers.podman.podman, pipelined',
             '    ansible_python_interpreter: /usr/bin/python3',
             '    lab_cookie_file: %s' % COOKIE,
             '    # the hardening takes over the lab app (lab/playbooks/lab_app.yml) and keeps its cookie',
             '    beamsec_service_name: beam-app', '    beamsec_cookie_store: %s' % COOKIE,
             '    # this machine does not route to the lab: cluster_verify runs on the first node',
             '    beamsec_verify_from: %s' % next(h['name'] for h in plan if h['group'] == 'beam_nodes'),
             '  children:']
    for group in ('beam_nodes', 'outsiders'):
        lines += ['    %s:' % group, '      hosts:']
        for host in (h for h in plan if h['group'] == group):
            name = '%s-%s' % (PREFIX, host['name'])
            ifaces = interfaces(name)
            lines += ['        %s:' % host['name'], '          ansible_host: %s' % name,
                      '          beamsec_public_address: %s' % host['public'],
                      '          beamsec_public_interface: %s' % ifaces[host['public']],
                      "          lab_public_address6: '%s'" % host['public6']]
            if host['private']:
                lines += ['          beamsec_private_address: %s' % host['private'],
                          '          beamsec_private_interface: %s' % ifaces[host['private']],
                          "          lab_private_address6: '%s'" % host['private6']]
    INVENTORY.parent.mkdir(parents=True, exist_ok=True)
    INVENTORY.write_text('\n'.join(lines) + '\n')
    return INVENTORY


def ensure_cookie():
    """The lab application's cookie: made once, 0600, on this machine only."""
    if not COOKIE.exists():
        COOKIE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(str(COOKIE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, 'w') as handle:
            handle.write(secrets.token_urlsafe(32))
    return COOKIE


def up(nodes=3, outsiders=1, public_only=False):
    started = time.monotonic()
    ensure_cookie()
    tag = build()
    ensure_networks()
    plan = hosts(nodes, outsiders, public_only)
    names = [start_host(tag, host) for host in plan]
    for name in names:
        wait_booted(name)
        start_fork_server(name)
    path = write_inventory(plan)
    print('lab up: %d hosts in %.1f s; inventory %s' % (len(names), time.monotonic() - started, path))


def down(image=False):
    ids = podman('ps', '-a', '-q', '--filter', 'label=' + LABEL).stdout.split()
    if ids and podman('rm', '-f', '-t', '2', *ids, check=False).returncode != 0:
        # podman may lose the race with a container that stops while it sends SIGKILL
        # ("container state improper: stopped"); once stopped, a second rm removes it
        podman('rm', '-f', '--ignore', '-t', '2', *ids)
    for net in NETWORKS.values():
        if podman('network', 'exists', net['name'], check=False).returncode == 0:
            podman('network', 'rm', '-f', net['name'])
    if image:
        for ref in podman('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter',
                          'reference=' + PREFIX).stdout.split():
            podman('rmi', '-f', ref)
    if INVENTORY.exists():
        INVENTORY.unlink()
    shutil.rmtree(SHARED, ignore_errors=True)
    print('lab down: %d containers removed' % len(ids))


def status():
    print(podman('ps', '-a', '--filter', 'label=' + LABEL, '--format',
                 '{{.Names}} {{.Status}} {{.Networks}}').stdout, end='')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('build').add_argument('--force', action='store_true')
    cmd_up = sub.add_parser('up')
    cmd_up.add_argument('--nodes', type=int, default=3)
    cmd_up.add_argument('--outsiders', type=int, default=1)
    cmd_up.add_argument('--public-only', action='store_true', help='cluster hosts without the private network')
    sub.add_parser('down').add_argument('--image', action='store_true')
    sub.add_parser('status')
    args = parser.parse_args(argv)
    if args.command == 'build':
        build(args.force)
    elif args.command == 'up':
        up(args.nodes, args.outsiders, args.public_only)
    elif args.command == 'down':
        down(args.image)
    else:
        status()
    return 0


if __name__ == '__main__':
    sys.exit(main())
