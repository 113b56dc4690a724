"""Hub-and-spoke on each host: cookies of their own, a 0400 boot hook on the hub only."""

import re
import subprocess
import time


def hub(host):
    return host.check_output('hostname') == 'beam1'


def test_boot_hook_only_on_the_hub(host):
    hook = host.file('/etc/beamsec/app/boot.script')
    if not hub(host):
        assert not hook.exists
        return
    assert hook.user == 'beam' and hook.mode == 0o400
    assert '-eval' in host.file('/etc/beamsec/app/vm.args').content_string
    cookie = host.file('/var/lib/beam/.erlang.cookie').content_string.strip()
    assert cookie not in host.file('/etc/beamsec/app/vm.args').content_string


def test_a_tenants_firewall_lets_in_the_hub_only(host):
    rules = host.check_output('nft list table inet beamsec')
    peers = set(re.findall(r'ip saddr (?:\{ )?([0-9., ]+?)(?: \})? tcp dport', rules)[0].replace(' ', '').split(','))
    assert peers == ({'10.231.30.11', '10.231.30.12', '10.231.30.13'} if hub(host) else {'10.231.30.11'})


def test_no_cookie_in_any_argv(host):
    cookie = host.file('/var/lib/beam/.erlang.cookie').content_string.strip()
    assert cookie not in host.check_output('cat /proc/[0-9]*/cmdline | tr "\\0" " "')


TENANTS = ('app@10.231.30.12', 'app@10.231.30.13')


def test_the_one_way_hub_reaches_every_tenant_over_tls(host):
    if not hub(host):
        assert not host.file('/usr/local/sbin/beamsec-hub').exists
        return
    nodes = host.run('/usr/local/sbin/beamsec-hub nodes')
    assert nodes.rc == 0, nodes.stderr
    assert sorted(line.split()[:2] for line in nodes.stdout.splitlines()) == [[t, 'up'] for t in TENANTS]
    for tenant in TENANTS:
        value = host.check_output("/usr/local/sbin/beamsec-hub eval %s 'X = node(), {X, erlang:get_cookie() =:= "
                                  "nocookie}.'" % tenant)
        assert value == "{'%s',false}" % tenant
        assert host.check_output('/usr/local/sbin/beamsec-hub rpc %s lists reverse "[[1,2]]"' % tenant) == '[2,1]'
    shell = host.run("printf 'A = 20 + 1.\\nA * 2.\\n' | /usr/local/sbin/beamsec-hub remote %s" % TENANTS[0])
    assert shell.rc == 0 and '21\n' in shell.stdout and '42\n' in shell.stdout, shell.stdout + shell.stderr


def test_the_hub_keeps_its_secrets_to_its_user(host):
    if not hub(host):
        return
    for tenant in TENANTS:
        cookie = host.file('/etc/beamsec/hub/cookies/%s' % tenant)
        assert (cookie.user, cookie.mode) == ('beamsec-hub', 0o400)
    assert (host.file('/etc/beamsec/hub/tls/hub.key').user, host.file('/etc/beamsec/hub/tls/hub.key').mode) == \
        ('beamsec-hub', 0o400)
    tenants = host.file('/etc/beamsec/hub/tenants.json').content_string
    for tenant in TENANTS:
        assert host.file('/etc/beamsec/hub/cookies/%s' % tenant).content_string not in tenants
    refused = host.run('runuser -u nobody -- /usr/local/sbin/beamsec-hub nodes')
    assert refused.rc != 0 and 'run as root or as beamsec-hub' in refused.stderr


def test_a_stopped_tenant_is_down_within_the_timeout(host):
    """beam3's node stopped (through podman, from the test's seat): the hub says down, fast, and never hangs."""
    if not hub(host):
        return
    subprocess.run(['podman', 'exec', 'beamsec-lab-beam3', 'systemctl', 'stop', 'beam-app'], check=True)
    try:
        started = time.monotonic()
        nodes = host.run('/usr/local/sbin/beamsec-hub --timeout 2 nodes')
        assert time.monotonic() - started < 10
        states = dict(line.split()[:2] for line in nodes.stdout.splitlines())
        assert states == {TENANTS[0]: 'up', TENANTS[1]: 'down'} and nodes.rc == 1, nodes.stdout
    finally:
        subprocess.run(['podman', 'exec', 'beamsec-lab-beam3', 'systemctl', 'start', 'beam-app'], check=True)
        for dummy in range(60):  # the tests after this one want beam3 up again
            if host.run('/usr/local/sbin/beamsec-hub --timeout 2 nodes').rc == 0:
                break
            time.sleep(0.5)
