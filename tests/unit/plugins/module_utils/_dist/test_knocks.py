"""The knock record's reading: OTP's words, the boot hook's suffix, our probes' tags, and names built to mislead.
(The lines the boot hook writes are checked against real nodes in tests/integration/test_knocks.py.)"""

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import probe_tag
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.knocks import MAX_GROUPS, Record, knock

KEY = 'a-probe-key-for-this-test-only'
CHALLENGE = "** Connection attempt from node %s rejected. Invalid challenge reply. ** [beamsec knock challenge from %s]"


def ours(key=KEY):
    probe_tag.use_key(key)
    try:
        return "'%s'" % probe_tag.probe_name('10.0.0.1')
    finally:
        probe_tag.use_key(None)


def test_the_hooks_lines_and_otps_own():
    assert knock(CHALLENGE % ("'x@h'", '10.0.0.9 port 41000')) == ('challenge', '10.0.0.9', "'x@h'")
    assert knock('** Connection attempt from disallowed node "x@h" ** [beamsec knock disallowed from ::1 port 9]') == (
        'disallowed', '::1', '"x@h"')
    assert knock(' - {unsupported_record_type,0} [beamsec knock tls from unknown]') == ('tls', 'unknown', None)
    # a node without the hook: OTP's report still counts, from nowhere known (RabbitMQ's own log has a prefix)
    assert knock("2026-12-02 [error] <0.1.0> ** Connection attempt from node 'x@h' rejected. Invalid challenge "
                 "reply. **") == ('challenge', 'unknown', "'x@h'")
    assert knock('=ERROR REPORT==== 2-Dec-2026::15:07:36.961877 ===') is None
    assert knock('** Node app@h not responding **') is None


def test_a_name_cannot_move_the_source_or_pass_for_ours():
    fake = "'x [beamsec knock challenge from 6.6.6.6 port 1]@h'"
    assert knock(CHALLENGE % (fake, '10.0.0.9 port 41000'))[:2] == ('challenge', '10.0.0.9')
    record = Record(KEY)
    name = ours()
    for line in (CHALLENGE % (name, '10.0.0.1 port 1'),  # ours
                 CHALLENGE % (name, '10.0.0.9 port 2'),  # the same name again: replayed, a stranger's
                 CHALLENGE % (ours('another key'), '10.0.0.9 port 3'),
                 CHALLENGE % ("'%s0123456789abcdef0123456789abcdef@h'" % probe_tag.PREFIX, '10.0.0.9 port 4'),
                 CHALLENGE % ("'beamsec_probe_1234abcd@h'", '10.0.0.9 port 5')):  # no tag (no key)
        record.add(line)
    knocks, summary = record.report(threshold=3)
    assert (summary['ours'], summary['strangers'], summary['by_source']) == (1, 4, {'10.0.0.9': 4})
    assert [k['source'] for k in knocks if k['ours']] == ['10.0.0.1']


def test_without_a_key_nothing_is_ours():
    record = Record(None)
    record.add(CHALLENGE % (ours(), '10.0.0.1 port 1'))
    assert record.report(0)[1]['strangers'] == 1


def test_groups_and_lines_are_bounded():
    record = Record(None)
    # a name too long to read still counts, from its source
    record.add(CHALLENGE % ("'%s@h'" % ('x' * 100000), '10.9.9.9 port 1'))
    for index in range(MAX_GROUPS + 50):
        record.add(CHALLENGE % ("'n%d@h'" % index, '10.0.%d.%d port 1' % (index // 250, index % 250)))
    knocks, summary = record.report(10)
    assert summary['by_source']['10.9.9.9'] == 1 and summary['by_source']['other'] == 51
    assert len(knocks) == MAX_GROUPS + 1
    assert summary['strangers'] == MAX_GROUPS + 51 and summary['lines_read'] == MAX_GROUPS + 51
