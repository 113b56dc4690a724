"""The knock record's reading: OTP's words, the boot hook's suffix, our probes' tags, and names built to mislead.
(The lines the boot hook writes are checked against real nodes in tests/integration/test_knocks.py.)"""

import time

from ansible_collections.beamsec.cluster.plugins.module_utils._dist import probe_tag
from ansible_collections.beamsec.cluster.plugins.module_utils._dist.knocks import MAX_GROUPS, Record, knock

KEY = 'a-probe-key-for-this-test-only'
NODE = 'app@10.0.0.1'
CHALLENGE = "** Connection attempt from node %s rejected. Invalid challenge reply. ** [beamsec knock challenge from %s]"


def ours(key=KEY, target=NODE):
    probe_tag.use_key(key)
    try:
        return "'%s'" % probe_tag.probe_name(target.split('@')[1], target)
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
    record = Record(KEY, NODE, time.time() - 3600)
    name = ours()
    for line in (CHALLENGE % (name, '10.0.0.1 port 1'),  # ours
                 CHALLENGE % (name, '10.0.0.9 port 2'),  # the same name again: replayed, a stranger's
                 CHALLENGE % (ours(target='app@10.0.0.2'), '10.0.0.9 port 3'),  # made for another node
                 CHALLENGE % (ours('another key'), '10.0.0.9 port 4'),
                 CHALLENGE % ("'%s%s@h'" % (probe_tag.PREFIX, '0' * 32), '10.0.0.9 port 5'),
                 CHALLENGE % ("'beamsec_probe_1234abcd@h'", '10.0.0.9 port 6')):  # no tag (no key)
        record.add(line)
    knocks, summary = record.report(threshold=3)
    assert (summary['ours'], summary['strangers'], summary['by_source']) == (1, 5, {'10.0.0.9': 5})
    assert [k['source'] for k in knocks if k['ours']] == ['10.0.0.1']
    assert len([k for k in knocks if not k['ours']][0]['names']) == 3  # a sample of the names


def test_a_name_issued_before_the_window_is_a_strangers():
    record = Record(KEY, NODE, not_before=time.time() + 3600)  # as if the name had been issued long before
    record.add(CHALLENGE % (ours(), '10.0.0.1 port 1'))
    assert record.report(0)[1]['strangers'] == 1


def test_without_a_key_nothing_is_ours():
    record = Record(None, NODE)
    record.add(CHALLENGE % (ours(), '10.0.0.1 port 1'))
    assert record.report(0)[1]['strangers'] == 1


def test_groups_and_lines_are_bounded():
    record = Record(None, NODE)
    # a name too long to read still counts, from its source
    record.add(CHALLENGE % ("'%s@h'" % ('x' * 100000), '10.9.9.9 port 1'))
    for index in range(MAX_GROUPS + 50):  # as many sources: the ones past the bound count under "other"
        record.add(CHALLENGE % ("'n%d@h'" % index, '10.0.%d.%d port 1' % (index // 250, index % 250)))
    for index in range(500):  # many names from one source cost one group
        record.add(CHALLENGE % ("'m%d@h'" % index, '10.9.9.9 port 2'))
    knocks, summary = record.report(10)
    assert summary['by_source']['10.9.9.9'] == 501 and summary['by_source']['other'] == 51
    assert len(knocks) == MAX_GROUPS + 1 and max(len(k['names']) for k in knocks) <= 3
    assert summary['strangers'] == MAX_GROUPS + 551 and summary['lines_read'] == MAX_GROUPS + 551
