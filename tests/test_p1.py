import math

import pytest

from grokcore.claims import p1


def test_mlp_config_is_the_papers_baseline():
    cfg = p1.mlp()
    assert (cfg.model, cfg.combine, cfg.width, cfg.embed, cfg.depth, cfg.act) == ("mlp", "sum", 256, 256, 2, "gelu")
    assert (cfg.optimizer, cfg.momentum, cfg.lr, cfg.wd) == ("sgd", 0.9, (1e-2,), (2e-3,))
    assert (cfg.p, cfg.frac, cfg.split, cfg.split_seed) == (97, 0.2, "shared", 0)


def test_overrides_win_over_the_baseline():
    cfg = p1.mlp(width=512, depth=8, residual=True, res_scale=0.5, clip=1.0, optimizer="adamw")
    assert (cfg.width, cfg.embed, cfg.residual, cfg.clip, cfg.optimizer) == (512, 512, True, 1.0, "adamw")
    t = p1.transformer(width=64, d_mlp=256)
    assert (t.model, t.readout, t.norm, t.width, t.d_mlp, t.wd) == ("transformer", "mean", "pre", 64, 256, (1.0,))


@pytest.mark.parametrize("lo, hi, verdict", [
    (0.9, 1.4, "reproduced"),            # contains 1.11, inside [0.555, 2.22]
    (0.4, 1.5, "partially reproduced"),  # contains 1.11 but too wide
    (1.3, 2.0, "partially reproduced"),  # excludes 1.11, still inside the band
    (2.5, 4.0, "not reproduced"),        # wholly above 2x
    (0.1, 0.5, "not reproduced"),        # wholly below 1/2x
    (math.nan, math.nan, p1.UNCLEAR),
])
def test_ratio_verdict_follows_the_stated_rule(lo, hi, verdict):
    assert p1.ratio_verdict(lo, hi, 1.11) == verdict


def test_ratio_verdict_is_inconclusive_with_too_few_members():
    assert p1.ratio_verdict(0.9, 1.4, 1.11, n_min_ok=False) == p1.UNCLEAR


def test_groks_uses_a_majority_of_seeds():
    assert p1.groks(4, 5) and p1.groks(3, 5) and not p1.groks(2, 5) and not p1.groks(0, 5)
    assert p1.groks(0, 0) is None


def test_pattern_verdict_compares_group_outcomes():
    expected = {"d2": True, "d4": False, "d8res": True}
    assert p1.pattern_verdict({"d2": True, "d4": False, "d8res": True}, expected) == "reproduced"
    assert p1.pattern_verdict({"d2": True, "d4": True, "d8res": True}, expected) == "partially reproduced"
    assert p1.pattern_verdict({"d2": False, "d4": True, "d8res": False}, expected) == "not reproduced"
    assert p1.pattern_verdict({"d2": True, "d4": True, "d8res": False}, expected) == "partially reproduced"
    assert p1.pattern_verdict({"d2": True, "d4": None, "d8res": True}, expected) == p1.UNCLEAR
    # nothing groks: the budget, not depth, may be the limit
    assert p1.pattern_verdict({"d2": False, "d4": False, "d8res": False}, expected) == p1.UNCLEAR


def test_within_rejects_nan_and_applies_slack():
    assert p1.within(34_000, 33_000, 34_000) and not p1.within(40_000, 33_000, 34_000)
    assert p1.within(36_000, 33_000, 34_000, slack=0.1) and not p1.within(math.nan, 0, 1)


def test_combine_verdicts_needs_every_part_for_reproduced():
    r, pr, nr, u = "reproduced", "partially reproduced", "not reproduced", p1.UNCLEAR
    assert p1.combine_verdicts(r, r) == r
    assert p1.combine_verdicts(u, u) == u
    assert p1.combine_verdicts(nr, u) == nr
    assert p1.combine_verdicts(r, nr) == pr and p1.combine_verdicts(r, u) == pr and p1.combine_verdicts(pr, r) == pr


def test_reversal_verdict():
    assert p1.reversal_verdict(0, 2, True) == "reproduced"      # paper regime A: GELU 0/5, ReLU 2/5
    assert p1.reversal_verdict(2, 2, True) == "not reproduced"
    assert p1.reversal_verdict(0, 0, False) == p1.UNCLEAR
