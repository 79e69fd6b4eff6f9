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


@pytest.mark.parametrize("ci, verdict", [
    ((0.9, 1.2), rules.REPRODUCED),           # inside [1/1.5, 1.5]
    ((2.0, 3.0), rules.NOT),                  # wholly outside
    ((0.1, 20.0), rules.UNCLEAR),             # wider than the band: too few seeds
    ((1.2, 1.9), rules.PARTIAL),              # overlaps, not inside, not wider
    ((float("nan"), 1.0), rules.UNCLEAR),
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
    return rules.Verdict(rules.REPRODUCED if med > threshold else rules.NOT, rules.fmt(med), n_seeds=len(df))


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
    assert set(dist) == {rules.REPRODUCED, rules.NOT}


def test_firmness_uses_a_fixed_generator():
    r = rules.RULES["TEST-threshold"]
    data = _table([100, 200, 501, 800, 900])
    assert rules.firmness(r, data, rules.REPRODUCED) == rules.firmness(r, data, rules.REPRODUCED)


def test_judge_returns_a_ledger_row_with_firmness_and_record_claims_keeps_it(tmp_path):
    data = _table([100, 200, 501, 800, 900])
    row = judge("TEST-threshold", data, n_resamples=50)
    assert row["verdict"] == rules.REPRODUCED and 0 < row["firmness"] < rules.FRAGILE
    assert row["seeds_to_firm"].startswith("about") or row["seeds_to_firm"] == ""
    with pytest.raises(ValueError, match="no rule for claim id"):
        judge("P9-nothing", data)
    row = {**row, "claim_id": "P1-depth"}
    out = record_claims("p1_depth", "smoke", [row], folder=tmp_path)
    assert "firmness" in COLUMNS and out.loc["P1-depth", "firmness"] == row["firmness"]


def test_the_introduction_states_the_definitions_the_code_uses():
    from pathlib import Path
    intro = (Path(__file__).parents[1] / "book" / "intro.md").read_text()
    assert f"$k = {rules.K_DELAY:g}$" in intro and f"below {rules.FRAGILE:.0%}" in intro


def test_a_verdict_from_outside_the_papers_regime_is_inconclusive_and_says_what_the_rule_gave():
    row = judge("TEST-threshold", _table([900, 950, 1000, 1100, 1200]), n_resamples=20,
                regime="the MLPs train with adamw, the paper's with SGD")
    assert row["verdict"] == rules.UNCLEAR and "'reproduced'" in row["note"] and "adamw" in row["note"]
