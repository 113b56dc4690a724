"""A fixed-seed sample of the fuzz run (the full run: make fuzz)."""

from tests.fuzz.fuzz_dist import WEIGHTS, run, target_facts, target_rpc

# The byte parsers take ~0.1 ms an input, the rpc layer and the facts a few ms: ~1% of the sample each,
# so that it takes about as long as it did without them.
SAMPLE_WEIGHTS = dict(WEIGHTS)
SAMPLE_WEIGHTS.update({target_rpc: 0.0065, target_facts: 0.0085})
OK_CHECKS = ('connect_all', 'dist_auto_connect', 'proto_dist', 'listen_address', 'listen_port', 'membership',
             'hidden_peers')


def test_fuzz_sample_raises_only_codec_errors():
    stats = run(count=15000, seed=20261124, weights=SAMPLE_WEIGHTS)
    assert stats['findings'] == [] and stats['finding_kinds'] == {}
    assert stats['false_oks'] == 0
    assert stats['count'] == 15000
    per_target = stats['per_target']
    assert all(n > 1000 for name, n in per_target.items() if name not in ('target_rpc', 'target_facts'))
    assert per_target['target_rpc'] > 80 and per_target['target_facts'] > 100
    assert stats['errors'] > 0 and stats['accepted'] > 0      # mutants both pass and fail
    coverage = stats['coverage']  # the oracle and the rpc model were not idle
    assert coverage['facts read'] > 30 and coverage['rpc model checked'] > 60
    assert all(coverage.get('ok ' + check, 0) > 0 for check in OK_CHECKS)
    assert stats['maxrss_growth_kib'] < 200 * 1024
