"""The tenants of a one-way hub: cookies of their own, a boot hook that only records knocks (no peer to keep, no
other cookie), the hub's address the only one their firewall lets in, and a tenant's own node, as malware on it
would use it, reaching neither the hub nor another tenant."""

import re

BIN = '/opt/app/bin/app'
HUB = '10.231.41.11'


def test_a_tenants_boot_hook_keeps_no_peer_and_no_cookie(host):
    script = host.file('/etc/beamsec/app/boot.script')
    assert script.mode == 0o400
    assert 'maps:to_list(#{})' in script.content_string and 'Peers = [],' in script.content_string
    assert 'beamsec_knocks' in script.content_string


def test_a_tenants_firewall_lets_in_the_hub_only(host):
    rules = host.check_output('nft list table inet beamsec')
    peers = set(re.findall(r'ip saddr (?:\{ )?([0-9., ]+?)(?: \})? tcp dport', rules)[0].replace(' ', '').split(','))
    assert peers == {HUB}


def test_no_cookie_in_any_argv(host):
    cookie = host.file('/var/lib/beam/.erlang.cookie').content_string.strip()
    assert cookie not in host.check_output('cat /proc/[0-9]*/cmdline | tr "\\0" " "')


def test_a_compromised_tenant_reaches_no_hub_and_no_tenant(host):
    """From the tenant's seat, with its own cookie, through its own node: nothing answers."""
    others = sorted({'10.231.41.12', '10.231.41.13'} - set(host.check_output('hostname -I').split()))
    attempt = ('IO.inspect({Node.connect(:"beamsec_hub@%s"), Node.connect(:"app@%s"), Node.list()})'
               % (HUB, others[0]))
    assert host.check_output("%s rpc '%s'" % (BIN, attempt)) == '{false, false, []}'


def test_a_tenant_routes_to_the_hub_only(host):
    """The overlay gives a tenant its own address alone and a route to the hub: another tenant's overlay address has
    no route through it at all (the lab's networks have no default route: no route anywhere)."""
    assert 'dev spoke0' in host.check_output('ip route get %s' % HUB)
    for other in sorted({'10.231.41.12', '10.231.41.13'} - set(host.check_output('hostname -I').split())):
        route = host.run('ip route get %s' % other)
        assert route.rc != 0 and 'unreachable' in route.stderr, route.stdout + route.stderr


def test_a_tenant_dials_the_hub_and_lets_in_its_wireguard_only(host):
    hub_public = '10.231.10.11'
    assert host.check_output('wg show spoke0 endpoints').split()[1] == '%s:51820' % hub_public
    rules = host.check_output('nft list table inet beamsec')
    assert 'ip saddr %s udp dport 51820 accept' % hub_public in rules
    assert re.search(r'udp dport 51820 counter packets \d+ bytes \d+ drop', rules)


def test_the_overlay_runs_now_and_at_boot(host):
    unit = host.service('beamsec-wireguard-spoke0.service')
    assert unit.is_enabled and unit.is_running
    assert '10.231.41.' in host.check_output('ip -o -4 addr show dev spoke0')
    assert '10.231.20.' not in host.check_output('hostname -I')  # no lab private network
