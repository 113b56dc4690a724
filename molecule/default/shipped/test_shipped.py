"""What converge leaves on each cluster host, read on the host itself."""


def test_app_node_runs_as_its_user(host):
    assert host.service('beam-app.service').is_running
    assert host.service('beam-app.service').is_enabled
    beams = host.process.filter(comm='beam.smp')
    assert beams and all(proc.user == 'beam' for proc in beams)


def test_cookie_is_a_private_file_and_not_in_argv(host):
    cookie = host.file('/var/lib/beam/.erlang.cookie')
    assert cookie.is_file and cookie.user == 'beam' and cookie.mode == 0o400
    for proc in host.process.filter(comm='beam.smp'):
        assert '-setcookie' not in proc.args


def test_epmd_listens_on_every_interface_before_hardening(host):
    # Debian's epmd.socket: *:4369 - exactly what the node role's epmd concern must change
    assert host.socket('tcp://0.0.0.0:4369').is_listening or host.socket('tcp://:::4369').is_listening
