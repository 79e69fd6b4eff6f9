"""The statistics P4's rules added to grokcore.claims.stats: a bootstrap CI of a difference,
Spearman's rho with its CI, the paired difference of two |rho|, and a permutation p-value."""
import numpy as np

from grokcore.claims import stats


def test_diff_ci_brackets_a_clear_difference_and_needs_two_values():
    lo, hi = stats.diff_ci([7, 7, 6, 8], [0, 0, 1, 0])
    assert 5 <= lo <= hi <= 8
    assert all(np.isnan(stats.diff_ci([1.0], [0.0, 1.0])))


def test_spearman_is_one_for_monotone_pairs_and_nan_for_constants():
    x = np.arange(10.0)
    rho, lo, hi = stats.spearman_ci(x, x ** 3)
    assert rho == 1 and lo == hi == 1
    assert stats.spearman_ci(x, -x)[0] == -1
    assert np.isnan(stats.spearman_rows(x, np.ones(10))[0])
    assert np.isnan(stats.spearman_ci([1, 2], [1, 2])[0])


def test_abs_spearman_diff_ci_favours_the_indicator_that_tracks_y():
    y = np.linspace(0, 1, 15)
    good, noise = -y, np.random.default_rng(0).permutation(15).astype(float)
    lo, hi = stats.abs_spearman_diff_ci(good, noise, y)
    assert lo > 0
    lo, hi = stats.abs_spearman_diff_ci(noise, good, y)
    assert hi < 0


def test_permutation_p_small_for_a_real_pairing_and_large_for_none():
    x = np.logspace(2, 5, 12)
    close = lambda a, b: (np.abs(np.log10(a / b)) <= np.log10(2)).sum(-1)  # noqa: E731  (one value per row)
    assert stats.permutation_p(x, x * 1.2, close, n_perm=500) < 0.01
    assert stats.permutation_p(np.full(12, 500.0), np.full(12, 550.0), close, n_perm=200) == 1.0


def test_members_to_decide_a_share():
    assert stats.members_to_decide(3, 3, 1 / 3, 2 / 3) == 8              # all coincide: 8/8 clears 2/3
    assert stats.members_to_decide(8, 8, 1 / 3, 2 / 3) == 8              # already decided
    assert stats.members_to_decide(1, 2, 1 / 3, 2 / 3, most=50) == 30     # one half: inside [1/3, 2/3) at 30
    assert stats.members_to_decide(4, 6, 1 / 3, 2 / 3) is None           # exactly on the 2/3 edge: never
    assert stats.members_to_decide(0, 0, 1 / 3, 2 / 3) is None
