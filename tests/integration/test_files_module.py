"""beamsec.cluster.files on this host (local connection): templates rendered with their includes and
ansible_managed, files read, each written atomically with its owner and mode, in one run; unchanged sets report
nothing; check mode writes nothing; a failing validate keeps the old file; the contents stay out of the result."""

import base64
import json
import os
import subprocess
import sys

from tests.support.tools import tool

PLAY = '''
- hosts: localhost
  gather_facts: false
  vars: {who: world}
  tasks:
    - name: The set
      beamsec.cluster.files:
        files: %s%s
      register: written
%s'''


# as ansible.builtin.template renders it (checked side by side): the include's last newline goes with trim_blocks
RENDERED = '# Ansible managed\nhello world\nincluded world'


def run(tmp_path, files, *flags, task='', directories=None):
    (tmp_path / 'templates').mkdir(exist_ok=True)
    (tmp_path / 'files').mkdir(exist_ok=True)
    (tmp_path / 'templates' / 'a.j2').write_text('# {{ ansible_managed }}\nhello {{ who }}\n{% include "inc.j2" %}')
    (tmp_path / 'templates' / 'inc.j2').write_text('included {{ who }}\n')
    (tmp_path / 'files' / 's.txt').write_text('static\n')
    (tmp_path / 'templates' / 'secret.j2').write_text('{{ secret }}')
    made = '' if directories is None else '\n        directories: %s' % json.dumps(directories)
    (tmp_path / 'play.yml').write_text(PLAY % (json.dumps(files), made, task))
    argv = [tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e',
            'ansible_python_interpreter=%s' % sys.executable, str(tmp_path / 'play.yml')] + list(flags)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, cwd=str(tmp_path),
                            env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_NOCOLOR='1',
                                     ANSIBLE_LOCALHOST_WARNING='0'))
    if '-vvv' in flags:
        return result, None
    report = json.loads(result.stdout[result.stdout.index('{'):])
    return result, report['plays'][0]['tasks'][0]['hosts']['localhost']


def spec(tmp_path, **over):
    out = tmp_path / 'out'
    out.mkdir(exist_ok=True)
    files = [dict(template='a.j2', dest=str(out / 'a'), mode='0640'),
             dict(src='s.txt', dest=str(out / 's'), mode=384, owner='nobody', group='nogroup')]
    files[0].update(over)
    return files


def test_writes_the_set_then_reports_nothing(tmp_path):
    files = spec(tmp_path)
    result, first = run(tmp_path, files)
    assert result.returncode == 0 and first['changed'], result.stdout[-2000:]
    assert [f['changed'] for f in first['files']] == [True, True]
    a, s = tmp_path / 'out' / 'a', tmp_path / 'out' / 's'
    assert a.read_text() == RENDERED
    assert (a.stat().st_mode & 0o7777, a.stat().st_uid) == (0o640, 0)
    # an unquoted 0600 (the int 384) is the mode 0600, not 0o600 read as decimal
    assert s.read_text() == 'static\n' and s.stat().st_mode & 0o7777 == 0o600
    assert s.stat().st_uid == int(subprocess.check_output(['id', '-u', 'nobody']))
    # the contents travel base64 in a no_log option: not in the result
    assert 'aGVsbG8' not in result.stdout and 'hello world' not in result.stdout
    result, second = run(tmp_path, files)
    assert result.returncode == 0 and not second['changed'] and not any(f['changed'] for f in second['files'])


def test_a_mode_alone_is_put_right_and_a_content_change_shows_in_the_diff(tmp_path):
    files = spec(tmp_path)
    run(tmp_path, files)
    a = tmp_path / 'out' / 'a'
    os.chmod(a, 0o666)
    result, fixed = run(tmp_path, files)
    assert fixed['changed'] and [f['changed'] for f in fixed['files']] == [True, False]
    assert a.stat().st_mode & 0o7777 == 0o640
    a.write_text('old\n')
    result, diffed = run(tmp_path, files, '--diff')
    assert diffed['diff'] == [dict(before_header=str(a), after_header=str(a), before='old\n',
                                   after=RENDERED)]


def test_check_mode_writes_nothing(tmp_path):
    files = spec(tmp_path)
    result, checked = run(tmp_path, files, '--check')
    assert result.returncode == 0 and checked['changed']
    assert not (tmp_path / 'out' / 'a').exists() and not (tmp_path / 'out' / 's').exists()


def test_a_failing_validate_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    files = spec(tmp_path, validate='grep -q nowhere %s')
    a = tmp_path / 'out' / 'a'
    a.write_text('old\n')
    result, failed = run(tmp_path, files)
    assert result.returncode != 0 and failed['failed'] and 'validate failed' in failed['msg']
    assert a.read_text() == 'old\n' and sorted(os.listdir(tmp_path / 'out')) == ['a']
    result, passed = run(tmp_path, spec(tmp_path, validate='grep -q hello %s'))
    assert result.returncode == 0 and passed['changed'] and 'hello world' in a.read_text()


def test_bad_entries_are_named(tmp_path):
    result, failed = run(tmp_path, [dict(template='a.j2', src='s.txt', dest=str(tmp_path / 'x'), mode='0644')])
    assert failed['failed'] and 'exactly one of template and src' in failed['msg']
    # a misspelt option is named, not dropped (an owner left out would have been root)
    result, failed = run(tmp_path, [dict(template='a.j2', dest=str(tmp_path / 'x'), mode='0644', ownr='nobody')])
    assert failed['failed'] and 'unknown option ownr' in failed['msg'] and not (tmp_path / 'x').exists()
    result, failed = run(tmp_path, [dict(template='a.j2', dest=str(tmp_path / 'nodir' / 'x'), mode='0644')])
    assert failed['failed'] and 'does not exist' in failed['msg']
    result, failed = run(tmp_path, [dict(template='a.j2', dest=str(tmp_path / 'x'), mode='0644', owner='nosuchuser')])
    assert failed['failed'] and 'owner nosuchuser or group root is not on this host' in failed['msg']


def test_a_list_of_src_goes_into_a_directory_under_their_names(tmp_path):
    (tmp_path / 'out').mkdir()
    (tmp_path / 'lib').mkdir()
    for name in ('m1.py', 'm2.py'):
        (tmp_path / 'lib' / name).write_text('# %s\n' % name)
    srcs = [str(tmp_path / 'lib' / 'm1.py'), str(tmp_path / 'lib' / 'm2.py')]
    result, written = run(tmp_path, [dict(src=srcs, dest=str(tmp_path / 'out') + '/', mode='0644')])
    assert result.returncode == 0 and [f['changed'] for f in written['files']] == [True, True]
    assert (tmp_path / 'out' / 'm2.py').read_text() == '# m2.py\n'
    result, failed = run(tmp_path, [dict(src=srcs, dest=str(tmp_path / 'out'), mode='0644')])
    assert failed['failed'] and 'end dest' in failed['msg']


def test_a_secret_stays_out_of_vvv_and_the_diff_with_no_log(tmp_path):
    """The boot hook and the cookie file are written this way: no_log on the task, diff off."""
    secret = 'Zk3x9SECRETcookieVALUE42'
    files = [dict(template='secret.j2', dest=str(tmp_path / 'out' / 'cookie'), mode='0400')]
    (tmp_path / 'out').mkdir()
    flags = ('-vvv', '--diff', '-e', 'secret=' + secret)
    result, dummy = run(tmp_path, files, *flags, task='      no_log: true\n      diff: false\n')
    assert result.returncode == 0 and (tmp_path / 'out' / 'cookie').read_text() == secret
    output = result.stdout + result.stderr
    encoded = base64.b64encode(secret.encode()).decode()
    assert secret not in output and encoded not in output and encoded[:16] not in output
    # the positive control: the same task without them shows the secret in its diff
    (tmp_path / 'out' / 'cookie').write_text('old')
    result, dummy = run(tmp_path, files, *flags)
    assert result.returncode == 0 and secret in result.stdout


def test_a_set_that_fails_validation_changes_no_file(tmp_path):
    """The first file of the set is staged, the second fails its validate: neither is put in place, so no change is
    left that a handler did not hear of."""
    files = spec(tmp_path)
    files[1]['validate'] = 'grep -q nowhere %s'
    a = tmp_path / 'out' / 'a'
    a.write_text('old\n')
    result, failed = run(tmp_path, files)
    assert result.returncode != 0 and 'validate failed' in failed['msg']
    assert a.read_text() == 'old\n' and sorted(os.listdir(tmp_path / 'out')) == ['a']


def test_directories_are_made_with_their_parents_and_kept(tmp_path):
    """The files' directories in the same run, as ansible.builtin.file makes them: missing parents too, each with the
    entry's owner, group and mode; unchanged, nothing to report; a mode changed by hand is put right."""
    (tmp_path / 'out').mkdir()
    d, e = tmp_path / 'out' / 'd', tmp_path / 'out' / 'd' / 'e'
    files = [dict(template='a.j2', dest=str(e / 'a'), mode='0640')]
    directories = [dict(path=str(e), mode=0o750, owner='nobody', group='nogroup')]
    result, first = run(tmp_path, files, directories=directories)
    assert result.returncode == 0 and first['changed'], result.stdout[-2000:]
    assert [x['changed'] for x in first['directories']] == [True] and [f['changed'] for f in first['files']] == [True]
    nobody = int(subprocess.check_output(['id', '-u', 'nobody']))
    for path in (d, e):
        assert (path.stat().st_mode & 0o7777, path.stat().st_uid) == (0o750, nobody)
    assert (e / 'a').read_text() == RENDERED
    result, second = run(tmp_path, files, directories=directories)
    assert result.returncode == 0 and not second['changed'] and not second['directories'][0]['changed']
    os.chmod(e, 0o777)
    result, fixed = run(tmp_path, files, '--diff', directories=directories)
    assert fixed['changed'] and [x['changed'] for x in fixed['directories']] == [True]
    assert not fixed['files'][0]['changed'] and e.stat().st_mode & 0o7777 == 0o750
    assert 'mode 0777' in result.stdout and 'mode 0750' in result.stdout


def test_check_mode_makes_no_directory(tmp_path):
    (tmp_path / 'out').mkdir()
    e = tmp_path / 'out' / 'e'
    files = [dict(template='a.j2', dest=str(e / 'a'), mode='0640')]
    result, planned = run(tmp_path, files, '--check', '--diff', directories=[dict(path=str(e), mode='0755')])
    assert result.returncode == 0 and planned['changed'] and planned['directories'][0]['changed']
    assert planned['files'][0]['changed'] and not e.exists()
    assert 'absent' in result.stdout and 'directory, owner root, group root, mode 0755' in result.stdout


def test_a_bad_directory_entry_changes_nothing(tmp_path):
    (tmp_path / 'out').mkdir()
    (tmp_path / 'out' / 'plain').write_text('a file\n')
    files = [dict(template='a.j2', dest=str(tmp_path / 'out' / 'a'), mode='0640')]
    result, failed = run(tmp_path, files, directories=[dict(path=str(tmp_path / 'out' / 'plain'), mode='0755')])
    assert failed['failed'] and 'exists and is not a directory' in failed['msg']
    assert not (tmp_path / 'out' / 'a').exists()
    result, failed = run(tmp_path, files, directories=[dict(path=str(tmp_path / 'out' / 'd'), mode='0755', mdoe='0700')])
    assert failed['failed'] and 'unknown option mdoe' in failed['msg']
    # a file of the set that cannot be written (its owner is not on this host): the directory is not made either
    bad = [dict(template='a.j2', dest=str(tmp_path / 'out' / 'd' / 'a'), mode='0640', owner='nosuchuser')]
    result, failed = run(tmp_path, bad, directories=[dict(path=str(tmp_path / 'out' / 'd'), mode='0755')])
    assert failed['failed'] and 'nosuchuser' in failed['msg'] and not (tmp_path / 'out' / 'd').exists()


def test_directories_alone(tmp_path):
    (tmp_path / 'out').mkdir()
    d = tmp_path / 'out' / 'd'
    result, made = run(tmp_path, [], directories=[dict(path=str(d), mode='0700')])
    assert result.returncode == 0 and made['changed'] and made['files'] == [] and d.stat().st_mode & 0o7777 == 0o700
    result, again = run(tmp_path, [], directories=[dict(path=str(d), mode='0700')])
    assert result.returncode == 0 and not again['changed']
    result, failed = run(tmp_path, [])
    assert failed['failed'] and 'give a list of files' in failed['msg']
