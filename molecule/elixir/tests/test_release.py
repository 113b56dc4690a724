"""The hardened mix release: its own bin script runs it, with no cookie on any command line, under TLS."""

import re

BIN = '/opt/app/bin/app'


def main_pid(host):
    return host.check_output('systemctl show -P MainPID beam-app.service')


def node_name(host):
    return 'app@' + host.check_output("ip -o -4 addr show | grep -o '10\\.231\\.41\\.[0-9]*' | head -1")


def command_lines(host):
    """Every process's argv, as any local user reads it."""
    return host.check_output("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done")


def test_the_release_runs_hardened_under_its_unit(host):
    argv = host.check_output("tr '\\0' ' ' < /proc/%s/cmdline" % main_pid(host))
    assert '-boot /opt/app/releases/0.1.0/start ' in argv and '-mode embedded' in argv
    assert '-name %s ' % node_name(host) in argv
    # erlexec spells vm.args out on the command line: why the cookie must never be in it
    assert '-proto_dist inet_tls -ssl_dist_optfile /etc/beamsec/app/ssl_dist.conf' in argv
    assert host.check_output('ps -o user= -p %s' % main_pid(host)) == 'beam'


def remote_session(keys, wait):
    """bin/app remote on a terminal (IEx ignores --remsh without one), fed keys; Ctrl-\\ ends it."""
    return ("(sleep 4; printf '%s'; sleep %d; printf '\\034') | timeout 90 script -qec '%s remote' /dev/null"
            % (keys, wait, BIN))


def test_no_cookie_on_any_command_line_while_remote_and_rpc_run(host):
    cookie = host.file('/var/lib/beam/.erlang.cookie').content_string.strip()
    assert len(cookie) >= 32
    host.check_output('(%s > /tmp/remote.out 2>&1 &)' % remote_session('', 20))
    host.check_output("for i in $(seq 30); do %s rpc 'IO.inspect(Node.list(:hidden))' | grep -q rem- && exit 0;"
                      " sleep 0.2; done; exit 1" % BIN)
    lines = command_lines(host)
    assert '-remsh %s' % node_name(host) in lines
    assert cookie not in lines
    assert '-setcookie' not in lines
    host.run("pkill -f 'script -qec %s remote'" % BIN)


def test_rpc_and_pid_under_tls(host):
    assert host.check_output('%s rpc "IO.puts(node())"' % BIN) == node_name(host)
    assert host.check_output('%s pid' % BIN) == main_pid(host)


def test_remote_shell_under_tls(host):
    session = host.run(remote_session('IO.puts("on " <> Atom.to_string(node()))\\r', 3))
    # evaluated on the node itself; Ctrl-\\ then ends the shell's own VM (exit 131), not the node
    assert 'iex(%s)1>' % node_name(host) in session.stdout and 'on %s' % node_name(host) in session.stdout
    assert session.rc == 131 and host.service('beam-app.service').is_running


def test_commands_without_a_vm_still_work(host):
    assert host.check_output('%s version' % BIN) == 'app 0.1.0'
    assert host.check_output('%s eval "IO.puts(1 + 1)"' % BIN) == '2'


def test_the_builds_cookie_is_locked_away(host):
    shipped = host.file('/opt/app/releases/COOKIE')
    assert shipped.mode == 0o400 and shipped.user == 'root'
    env_sh = host.file('/opt/app/releases/0.1.0/env.sh').content_string
    assert re.search(r"exec '/etc/beamsec/app/release\.sh' \"\$@\"", env_sh)
