"""The verdict machinery every claim rule shares: outcomes, censored medians, equivalence bands,
and firmness (the rule rerun on seed resamples)."""
import math

import numpy as np
import pandas as pd
import pytest

from grokcore.claims import rules
from grokcore.claims.ledger import COLUMNS, judge, record_claims


def members(t_train, t_grok, budget=1000.0, dnf=None):
    d = pd.DataFrame({"t_train": np.asarray(t_train, float), "t_grok": np.asarray(t_grok, float)})
    d["budget"] = budget
    d["dnf"] = dnf if dnf is not None else ""
    return d


def test_outcomes_separate_grokking_from_generalising_without_delay():
    d = rules.outcomes(members([100, 100, 100, np.nan], [500, 150, np.nan, np.nan]))
    assert d["outcome"].tolist() == ["grokked", "no delay", "not generalised", "not memorised"]
    assert d["grokked"].tolist() == [True, False, False, False]
    # the never-generalised member is censored at the budget; the never-memorised has no delay
    assert d["delay_c"].tolist()[:3] == [400, 50, 900] and math.isnan(d["delay_c"].iloc[3])
    assert d["event"].tolist() == [True, True, False, False]


def test_km_median_counts_censored_members_instead_of_dropping_them():
    # dropping the censored runs would give median 100 and 150; counted, they push it up
    assert rules.km_median([100, 900, 900, 900], [True, False, False, False]) == math.inf
    assert rules.km_median([100, 200, 900, 900], [True, True, False, False]) == 200
    assert rules.km_median([100, 200, 300, 900], [True, True, True, False]) == 200
    assert rules.km_median([100, 200, 300], [True, True, True]) == 200


def _km_median_by_hand(times, events):
    """The product-limit estimate step by step over distinct times (events before censorings)."""
    surv, at_risk = 1.0, len(times)
    for t in sorted(set(times)):
        died = sum(1 for x, e in zip(times, events) if x == t and e)
        if died:
            surv *= 1 - died / at_risk
            if surv <= 0.5 + 1e-12:
                return t
        at_risk -= sum(1 for x in times if x == t)
    return math.inf


def test_the_vectorised_km_median_matches_the_product_limit_by_hand():
    from grokcore.claims import stats
    rng = np.random.default_rng(1)
    t = rng.integers(1, 50, (300, 5)).astype(float)
    e = rng.random((300, 5)) < 0.6
    got = stats.km_median_rows(t, e)
    assert np.array_equal(got, [_km_median_by_hand(list(a), list(b)) for a, b in zip(t, e)])


@pytest.mark.parametrize("ci, verdict", [
    ((0.9, 1.2), rules.REPRODUCED),           # inside [1/1.5, 1.5]
    ((2.0, 3.0), rules.NOT_REPRODUCED),                  # wholly outside
    ((0.1, 20.0), rules.INCONCLUSIVE),             # wider than the band: too few seeds
    ((1.2, 1.9), rules.PARTIALLY_REPRODUCED),              # overlaps, not inside, not wider
    ((float("nan"), 1.0), rules.INCONCLUSIVE),
])
def test_ratio_band_is_equivalence_not_containment(ci, verdict):
    assert rules.ratio_band_verdict(*ci, paper=1.0, factor=1.5) == verdict


def test_fmt_never_prints_nan_or_numpy_reprs():
    assert rules.fmt(np.float64(0.123456)) == "0.123"
    assert rules.fmt(float("nan")) == "n/a" and rules.fmt(math.inf) == "> budget"
    assert rules.fmt(33500.0) == "33.5k"


# ------------------------------------------------------------------ firmness (issue 22)
@rules.rule("TEST-threshold", by=("config",))
def _median_above(df, threshold=500.0):
    """Reproduced when the median T_grok of the members exceeds `threshold`."""
    med = float(np.median(df["t_grok"]))
    return rules.Verdict(rules.REPRODUCED if med > threshold else rules.NOT_REPRODUCED, rules.fmt(med), n_seeds=len(df))


def _table(values):
    d = members([10] * len(values), values)
    d["config"] = "a"
    return d


def test_a_verdict_far_from_its_threshold_is_firm():
    r = rules.RULES["TEST-threshold"]
    share, dist = rules.firmness(r, _table([900, 950, 1000, 1100, 1200]), rules.REPRODUCED)
    assert share == 1.0 and dist == {rules.REPRODUCED: 1.0}


def test_a_verdict_at_its_threshold_is_fragile():
    r = rules.RULES["TEST-threshold"]
    data = _table([100, 200, 501, 800, 900])  # median just above the threshold
    verdict = r.fn(data).verdict
    share, dist = rules.firmness(r, data, verdict)
    assert verdict == rules.REPRODUCED and share < rules.FRAGILE
    assert set(dist) == {rules.REPRODUCED, rules.NOT_REPRODUCED}


def test_firmness_uses_a_fixed_generator():
    r = rules.RULES["TEST-threshold"]
    data = _table([100, 200, 501, 800, 900])
    assert rules.firmness(r, data, rules.REPRODUCED) == rules.firmness(r, data, rules.REPRODUCED)


def test_judge_makes_a_fragile_verdict_inconclusive_and_keeps_the_rules_verdict(tmp_path):
    data = _table([100, 200, 501, 800, 900])
    row = judge("TEST-threshold", data, n_resamples=50)
    assert row["raw_verdict"] == rules.REPRODUCED and 0 < row["firmness"] < rules.FRAGILE
    assert row["verdict"] == rules.INCONCLUSIVE and row["fragile"] and row["note"].startswith("fragile")
    with pytest.raises(ValueError, match="no rule for claim id"):
        judge("P9-nothing", data)
    row = {**row, "claim_id": "P1-depth"}
    out = record_claims("p1_depth", "smoke", [row], folder=tmp_path)
    assert out.loc["P1-depth", "firmness"] == row["firmness"]
    assert out.loc["P1-depth", "raw_verdict"] == rules.REPRODUCED and out.loc["P1-depth", "fragile"]


def test_judge_keeps_a_firm_verdict():
    row = judge("TEST-threshold", _table([900, 950, 1000, 1100, 1200]), n_resamples=50)
    assert row["verdict"] == row["raw_verdict"] == rules.REPRODUCED and not row["fragile"]
    row = judge("TEST-threshold", _table([100, 120, 130, 140, 150]), n_resamples=50)
    assert row["verdict"] == rules.NOT_REPRODUCED and row["firmness"] == 1.0


def test_seeds_to_firm_names_a_count_only_where_more_members_firm_the_verdict():
    r = rules.RULES["TEST-threshold"]
    near = _table([100, 200, 501, 800, 900])            # 3 of 5 above: more of the same firms it
    assert rules.seeds_to_firm(r, near, rules.REPRODUCED, 5) == "about 20"  # 4x the members: 0.8 agree
    coin = _table([100, 200, 501, 800, 900, 300])       # a median that sits on the threshold
    assert rules.seeds_to_firm(r, coin, rules.REPRODUCED, 6) == ""


def test_the_introduction_states_the_definitions_the_code_uses():
    from pathlib import Path
    intro = (Path(__file__).parents[1] / "book" / "intro.md").read_text()
    assert f"$k = {rules.K_DELAY:g}$" in intro and f"below {rules.FRAGILE:.0%}" in intro


def test_a_verdict_from_outside_the_papers_regime_is_inconclusive_and_says_what_the_rule_gave():
    row = judge("TEST-threshold", _table([900, 950, 1000, 1100, 1200]), n_resamples=20,
                regime="the MLPs train with adamw, the paper's with SGD")
    assert row["verdict"] == rules.INCONCLUSIVE and "'reproduced'" in row["note"] and "adamw" in row["note"]


# ------------------------------------------------------------------ earned verdicts (issue 31)
def test_a_member_that_memorises_then_collapses_is_diverged_not_censored():
    d = members([100, 100, 100], [np.nan, np.nan, 500], dnf=["DNF_te", "DNF_te", ""])
    d["final_train_acc"] = [0.10, 1.0, 0.08]   # collapses; still memorised; grokked, then collapsed
    out = rules.outcomes(d)
    assert out["outcome"].tolist() == ["diverged", "not generalised", "grokked"]
    assert math.isnan(out["delay_c"].iloc[0]) and out["delay_c"].iloc[1] == 900
    assert out["unstable"].tolist() == [True, False, True]
    assert "1 diverged" in rules.counts(out)
    blown = rules.outcomes(members([100], [np.nan], dnf=["diverged"]))
    assert blown["outcome"].iloc[0] == "diverged" and math.isnan(blown["delay_c"].iloc[0])


def test_no_divergence_gate_both_ways():
    d = members([100, 100], [500, 400])
    d["final_train_acc"] = 1.0
    assert rules.no_divergence(d).passed
    d.loc[1, "final_train_acc"] = 0.1
    g = rules.no_divergence(d)
    assert not g.passed and "1 of 2" in g.value


def test_trains_gate_both_ways():
    gate = rules.trains("lambda 1e-3", lambda d: d[d["wd"] == 1e-3])
    d = members([100, np.nan, np.nan], [500, np.nan, np.nan])
    d["wd"] = [1e-3, 1e-3, 1e-2]
    assert gate(d).passed                                   # 1 of 2 memorises
    d.loc[0, "t_train"] = np.nan
    assert not gate(d).passed
    assert not gate(d[d["wd"] > 1e-3]).passed and "not run" in gate(d[d["wd"] > 1e-3]).value


def test_groks_at_gate_both_ways():
    gate = rules.groks_at("lambda 1e-3", lambda d: d[d["wd"] == 1e-3])
    d = members([100, 100, 100], [500, np.nan, 500])
    d["wd"] = [1e-3, 1e-3, 1e-2]
    assert gate(d).passed                                   # 1 of 2 grokked
    d.loc[0, "t_grok"] = np.nan                             # memorised, never generalised: trains, does not grok
    assert not gate(d).passed and rules.trains("x", lambda d: d[d["wd"] == 1e-3])(d).passed
    assert not gate(d[d["wd"] > 1e-3]).passed and "not run" in gate(d[d["wd"] > 1e-3]).value


def test_min_grokked_gate_both_ways():
    gate = rules.min_grokked(2, ("config",))
    d = members([100] * 4, [500, 600, 700, np.nan])
    d["config"] = ["a", "a", "b", "b"]
    g = gate(d)
    assert not g.passed and "b 1" in g.value
    d.loc[3, "t_grok"] = 800
    assert gate(d).passed


def test_diff_ci_covers_the_difference_and_needs_two_a_side():
    from grokcore.claims import stats
    lo, hi = stats.diff_ci([0.9, 0.95, 0.97, 0.99], [0.7, 0.72, 0.75, 0.8])
    assert 0.1 < lo <= 0.2 <= hi < 0.3
    assert all(math.isnan(x) for x in stats.diff_ci([0.9], [0.7, 0.8]))


def test_at_least_gate_both_ways():
    gate = rules.at_least("depth of the claim", "depth", 8)
    assert gate(pd.DataFrame({"depth": [4, 8, 12]})).passed
    assert not gate(pd.DataFrame({"depth": [4]})).passed


@rules.rule("TEST-gated", by=("config",), gates=(rules.no_divergence,))
def _gated(df):
    """Reproduced when any member grokked."""
    d = rules.outcomes(df)
    return rules.Verdict(rules.REPRODUCED if d["grokked"].any() else rules.NOT_REPRODUCED, n_seeds=len(d))


def test_a_failed_gate_makes_the_claim_inconclusive_and_names_the_gate():
    d = members([100] * 4, [500, 600, 700, np.nan])
    d["config"], d["final_train_acc"] = "a", 1.0
    assert judge("TEST-gated", d, n_resamples=20)["verdict"] == rules.REPRODUCED
    d.loc[3, "final_train_acc"] = 0.05
    row = judge("TEST-gated", d, n_resamples=20)
    assert row["verdict"] == rules.INCONCLUSIVE and row["raw_verdict"] == rules.REPRODUCED
    assert "no member diverged" in row["gate"] and "1 of 4" in row["note"]


def test_count_intervals_decide_a_majority_only_when_the_count_can():
    from grokcore.claims import stats
    assert stats.share_at_least(2, 3, 0.5) is None        # 2 of 3 cannot show a majority
    assert stats.share_at_least(4, 5, 0.5) is None
    assert stats.share_at_least(5, 5, 0.5) is True and stats.share_at_least(0, 5, 0.5) is False
    assert stats.share_at_least(18, 20, 0.5) is True
    lo, hi = stats.share_ci(2, 3)
    assert lo < 0.5 < hi and stats.share_ci(20, 30)[1] - stats.share_ci(20, 30)[0] < hi - lo
    assert stats.fewer(0, 5, 5, 5) is True and stats.fewer(0, 3, 2, 3) is None and stats.fewer(2, 5, 2, 5) is False


def test_summarize_gives_no_ci_from_fewer_than_three_grokked_members():
    from grokcore.claims import stats
    d = rules.outcomes(members([100] * 4, [500, 700, np.nan, np.nan]))
    d["config"], d["delay"] = "a", d["t_grok"] - d["t_train"]
    s = stats.summarize(d, "config")
    assert s["grokked"].iloc[0] == 2 and math.isnan(s["ci_low"].iloc[0])


def test_combine_is_monotone_over_every_combination_of_parts():
    import itertools
    from grokcore.claims.stats import combine
    order = {rules.NOT_REPRODUCED: 0, rules.PARTIALLY_REPRODUCED: 1, rules.REPRODUCED: 2}
    for n in (1, 2, 3):
        for parts in itertools.product(rules.VERDICTS, repeat=n):
            v = combine(*parts)
            for i, p in enumerate(parts):
                for q in rules.VERDICTS:
                    w = combine(*parts[:i], q, *parts[i + 1:])
                    if p in order and q in order and order[q] > order[p] and v in order and w in order:
                        assert order[w] >= order[v], (parts, q)      # a better part never hurts
                    if p == rules.INCONCLUSIVE and v != rules.INCONCLUSIVE:
                        assert w == v, (parts, q)                    # whatever the unknown part turns out
    assert combine(rules.INCONCLUSIVE, rules.REPRODUCED) == rules.INCONCLUSIVE
    assert combine(rules.INCONCLUSIVE, rules.NOT_REPRODUCED) == rules.INCONCLUSIVE
    assert combine(rules.INCONCLUSIVE, rules.REPRODUCED, rules.NOT_REPRODUCED) == rules.PARTIALLY_REPRODUCED
    assert combine(rules.NOT_REPRODUCED, rules.NOT_REPRODUCED) == rules.NOT_REPRODUCED and combine(rules.REPRODUCED, rules.NOT_REPRODUCED) == rules.PARTIALLY_REPRODUCED


def test_a_seed_offset_build_shares_no_seed_with_the_default_build(monkeypatch):
    from grokcore.claims import p1, p2, p3, p4
    from grokcore.core.config import ConfigError, RunConfig, with_seed_offset
    from grokcore.core.linear_problems import LinearConfig
    cfgs = [p1.mlp(seeds=5), p1.transformer(seeds=range(3)), p3.transformer(seeds=(0, 1, 2)),
            RunConfig(split="per_seed", seeds=4), LinearConfig(seeds=5)]
    for cfg in cfgs:
        moved = with_seed_offset(cfg, 100)
        assert not set(moved.seeds) & set(cfg.seeds) and moved.hash() != cfg.hash()
        old = {(m["seed"], m.get("split_seed")) for m in cfg.members()}
        new = {(m["seed"], m.get("split_seed")) for m in moved.members()}
        assert not {s for s, _ in old} & {s for s, _ in new}
        if getattr(cfg, "split", None) == "shared":
            assert moved.split_seed != cfg.split_seed
    with pytest.raises(ConfigError, match="overlaps"):
        with_seed_offset(p1.mlp(seeds=5), 2)


def test_rows_carry_overrides_and_seed_offset_and_a_replication_sits_beside_the_default(tmp_path, monkeypatch):
    from grokcore.claims import ledger as L
    monkeypatch.setenv("GROK_CLAIMS_DIR", str(tmp_path))
    row = {**judge("TEST-threshold", _table([900, 950, 1000, 1100, 1200]), n_resamples=20), "claim_id": "P3-frac"}
    L.record_claims("p3_fraction", "quick", [row])
    monkeypatch.setenv("GROK_SEED_OFFSET", "100")
    monkeypatch.setenv("GROK_OVERRIDES", '{"fracs": [0.6, 0.7]}')
    low = {**judge("TEST-threshold", _table([100, 120, 130, 140, 150]), n_resamples=20), "claim_id": "P3-frac"}
    L.record_claims("p3_fraction", "quick", [low])
    assert (tmp_path / "offset-100" / "p3_fraction.json").exists()
    monkeypatch.delenv("GROK_SEED_OFFSET")
    base = L.ledger().set_index("claim_id").loc["P3-frac"]
    assert base["verdict"] == rules.REPRODUCED and base["overrides"] == "" and base["seed_offset"] == 0
    rep = L.ledger(offset=100).set_index("claim_id").loc["P3-frac"]
    assert rep["overrides"] == "fracs=[0.6, 0.7]" and rep["seed_offset"] == 100
    assert L.replication_offsets() == [100]
    t = L.replication(100).set_index("claim_id")
    assert t.loc["P3-frac", "default"] == rules.REPRODUCED and t.loc["P3-frac", "replication"] == rules.NOT_REPRODUCED
    assert not t.loc["P3-frac", "agree"] and t["agree"].isna().sum() == len(t) - 1   # the rest: not run


def test_a_row_that_names_its_own_profile_keeps_it(tmp_path, monkeypatch):
    """A reference run at the paper's setting, judged in a quick chapter: its row's profile is the
    paper's setting, not the chapter's profile; other rows take the chapter's."""
    from grokcore.claims import ledger as L
    monkeypatch.setenv("GROK_CLAIMS_DIR", str(tmp_path))
    row = {**judge("TEST-threshold", _table([900, 950, 1000, 1100, 1200]), n_resamples=20), "claim_id": "P1-canonical"}
    other = {**row, "claim_id": "P1-depth"}
    out = L.record_claims("p1_depth", "quick", [{**row, "profile": "paper setting (reference run)"}, other])
    assert list(out["profile"]) == ["paper setting (reference run)", "quick"]
