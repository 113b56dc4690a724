"""Hub-and-spoke on each host: cookies of their own, a 0400 boot hook on the hub only."""

import re


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
