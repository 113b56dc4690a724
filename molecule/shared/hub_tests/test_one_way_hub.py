"""The one-way hub host: no Erlang node, the beamsec-hub command reaching every tenant, secrets kept to its user,
and a compromised tenant, calling back over the hub's own live link, reaching nothing."""

import json
import re
import subprocess
import time

HUB = '/usr/local/sbin/beamsec-hub'


def tenants(host):
    return sorted(t['name'] for t in json.loads(host.file('/etc/beamsec/hub/tenants.json').content_string))


def lab_host_with(address):
    """The lab container that holds an address."""
    names = subprocess.run(['podman', 'ps', '--format', '{{.Names}}'], capture_output=True, text=True, check=True)
    for name in names.stdout.split():
        shown = subprocess.run(['podman', 'exec', name, 'ip', '-o', 'addr'], capture_output=True, text=True, check=False)
        if ' %s/' % address in shown.stdout:
            return name
    raise AssertionError('no lab host has %s' % address)


def test_no_erlang_node_runs_on_the_hub_host(host):
    assert not host.process.filter(comm='beam.smp')
    assert host.check_output("ss -Hltn '( sport = :4369 or sport >= :9100 and sport <= :9199 )'") == ''


def test_nodes_eval_rpc_and_a_shell_on_every_tenant(host):
    nodes = host.run(HUB + ' nodes')
    assert nodes.rc == 0, nodes.stderr
    assert sorted(line.split()[:2] for line in nodes.stdout.splitlines()) == [[t, 'up'] for t in tenants(host)]
    for tenant in tenants(host):
        value = host.check_output("%s eval %s 'X = node(), {X, erlang:get_cookie() =:= nocookie}.'" % (HUB, tenant))
        assert value == "{'%s',false}" % tenant
        assert host.check_output('%s rpc %s lists reverse "[[1,2]]"' % (HUB, tenant)) == '[2,1]'
        shell = host.run("printf 'A = 20 + 1.\\nA * 2.\\n' | %s remote %s" % (HUB, tenant))
        assert shell.rc == 0 and '21\n' in shell.stdout and '42\n' in shell.stdout, shell.stdout + shell.stderr


def test_remote_under_a_terminal(host):
    tenant = tenants(host)[0]
    session = host.run("(sleep 2; printf 'B = 6 * 7.\\nB + 1.\\n'; sleep 3; printf '\\004') | "
                       "timeout 60 script -qec '%s remote %s' /dev/null" % (HUB, tenant))
    assert session.rc == 0 and '42' in session.stdout and '43' in session.stdout, session.stdout


def test_a_compromised_tenant_reaches_nothing_over_the_hubs_live_link(host):
    """Code on the tenant, as malware there would run it, while the hub's link is up: the hub never answers,
    hands over no cookie, and no other tenant is reached through it."""
    first, other = tenants(host)[0], tenants(host)[-1]
    # double quotes only: the expression travels inside single quotes on the shell's command line
    attempt = ('Other = list_to_atom("%s"), Hubs = nodes(hidden), '
               '{length(Hubs), [rpc:call(H, erlang, get_cookie, [Other], 2000) || H <- Hubs], '
               '[rpc:call(H, rpc, call, [Other, os, cmd, ["id"]], 2000) || H <- Hubs], nodes()}.' % other)
    answer = host.check_output("%s --timeout 10 eval %s '%s'" % (HUB, first, attempt))
    # notsup: OTP's erpc sees that the hub offers no spawn at all; timeout: a call the hub ignored
    assert re.fullmatch(r'\{1,\[\{badrpc,(notsup|timeout)\}\],\[\{badrpc,(notsup|timeout)\}\],\[\]\}', answer), answer


def test_the_hub_keeps_its_secrets_to_its_user(host):
    for tenant in tenants(host):
        cookie = host.file('/etc/beamsec/hub/cookies/%s' % tenant)
        assert (cookie.user, cookie.mode) == ('beamsec-hub', 0o400)
        assert cookie.content_string not in host.file('/etc/beamsec/hub/tenants.json').content_string
    key = host.file('/etc/beamsec/hub/tls/hub.key')
    assert (key.user, key.mode) == ('beamsec-hub', 0o400)
    refused = host.run('runuser -u nobody -- %s nodes' % HUB)
    assert refused.rc != 0 and 'run as root or as beamsec-hub' in refused.stderr


def test_a_stopped_tenant_is_down_within_the_timeout(host):
    """The last tenant's node stopped (through podman, from the test's seat): down, fast, and never a hang."""
    stopped = tenants(host)[-1]
    container = lab_host_with(stopped.split('@')[1])
    subprocess.run(['podman', 'exec', container, 'systemctl', 'stop', 'beam-app'], check=True)
    try:
        started = time.monotonic()
        nodes = host.run(HUB + ' --timeout 2 nodes')
        assert time.monotonic() - started < 10
        states = dict(line.split()[:2] for line in nodes.stdout.splitlines())
        assert states == dict({t: 'up' for t in tenants(host)}, **{stopped: 'down'}) and nodes.rc == 1, nodes.stdout
    finally:
        subprocess.run(['podman', 'exec', container, 'systemctl', 'start', 'beam-app'], check=True)
        for dummy in range(60):  # the tests after this one want the tenant up again
            if host.run(HUB + ' --timeout 2 nodes').rc == 0:
                break
            time.sleep(0.5)


def test_an_overlay_hub_reaches_tenants_only_through_tunnels_they_opened(host):
    """On a WireGuard hub, no tenant's endpoint is configured: each one the hub has was learned from the tenant's
    own handshakes (their public addresses), and every tenant has a recent one."""
    for overlay in host.check_output('wg show interfaces').split():
        assert 'Endpoint' not in host.file('/etc/beamsec/wireguard/%s.peers' % overlay).content_string
        endpoints = [line.split()[1] for line in host.check_output('wg show %s endpoints' % overlay).splitlines()]
        assert len(endpoints) == len(tenants(host)) and all(e.startswith('10.231.10.') for e in endpoints), endpoints
        shown = host.check_output('wg show %s latest-handshakes' % overlay)
        handshakes = [int(line.split()[1]) for line in shown.splitlines()]
        assert min(handshakes) > time.time() - 180, handshakes
