"""A fixed-seed sample of the fuzz run (the full run: make fuzz)."""

from tests.fuzz.fuzz_dist import run


def test_fuzz_sample_raises_only_codec_errors():
    stats = run(count=30000, seed=20261124)
    assert stats['findings'] == []
    assert stats['count'] == 30000
    assert all(n > 1000 for n in stats['per_target'].values())  # every parser was exercised
    assert stats['errors'] > 0 and stats['accepted'] > 0      # mutants both pass and fail
    assert stats['maxrss_growth_kib'] < 200 * 1024
