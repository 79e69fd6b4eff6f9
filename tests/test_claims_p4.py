"""P4's verdict rules on synthetic member tables: each can come out reproduced and not reproduced.
Several tables hold 3 members per depth, too few for a firm verdict: those tests assert the rule's
own verdict (raw_verdict); tests/test_rules.py covers the firmness and regime gates."""
import numpy as np
import pandas as pd

from grokcore.claims import ledger, p4
from grokcore.claims.rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE

INF = np.inf


def members(rows, budget=1000.0, n_train=500):
    """rows: dicts of per-member fields; defaults fill the rest of a stage_table row."""
    base = {"n_train": n_train, "seed": 0, "t_train": 100.0, "t_grok": INF, "t_test_rise": INF,
            "n_surges": 0.0, "t_rank_fall": INF, "dnf": "", "budget": budget, "final_test_acc": 0.5}
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["seed"] = range(len(out))
    return out


def depth_table(rise_by_depth, test_by_depth=None, t_train=100.0, surges=1.0):
    """One member per onset; rise_by_depth: depth -> train-rise onsets from step 0 (INF: the curve
    never rose); the test rise follows 50 steps later unless test_by_depth says; every member
    memorises at `t_train` and has `surges` test surges after it."""
    test_by_depth = test_by_depth or {d: [r + 50 for r in rs] for d, rs in rise_by_depth.items()}
    return members([{"depth": d, "t_train": t_train, "t_rise_train": r, "t_rise_test": q,
                     "t_test_rise": q, "n_surges": surges}
                    for d in rise_by_depth for r, q in zip(rise_by_depth[d], test_by_depth[d])])


FIVE = {4: [200, 205, 210, 215, 220], 8: [400, 410, 420, 430, 440], 12: [800, 810, 820, 830, 840]}


def judge(cid, df, **kw):
    return ledger.judge(cid, df, n_resamples=20, **kw)


# ------------------------------------------------------------------------------ P4-depth
def test_p4_depth_reproduced_when_both_rises_come_later_with_depth():
    df = depth_table({4: [200, 205, 210, 215, 220], 8: [400, 410, 420, 430, 440], 12: [800, 810, 820, 830, INF]})
    row = judge("P4-depth", df)
    assert row["raw_verdict"] == REPRODUCED
    assert row["ci_low"] > 1
    assert "deeper depths memorise early" in row["gates"] and "FAILS" not in row["gates"]


def test_p4_depth_not_reproduced_when_the_later_rise_is_not_grokking():
    """The deeper networks rise later and memorise early, but their test accuracy never surges
    after memorisation: a later rise that is not grokking does not show "deeper MLPs grok more"."""
    v = p4.depth_rule(depth_table(FIVE, surges=0.0))
    assert v.verdict == NOT_REPRODUCED and v.extra["later"] == REPRODUCED and v.extra["grokking"] == NOT_REPRODUCED


def test_p4_depth_grokking_part_undecided_with_three_members_per_depth():
    v = p4.depth_rule(depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, 820, 840]}))
    assert v.extra["later"] == REPRODUCED and v.verdict == INCONCLUSIVE   # 3/3 cannot decide a majority


def test_memorise_early_gate_fails_when_deep_members_memorise_late_and_names_the_budget():
    df = depth_table(FIVE).assign(run_wall_s=600.0)
    df.loc[df["depth"] > 4, "t_train"] = 900.0           # 90% of the 1,000-step budget
    g = p4.memorise_early(df)
    assert not g.passed and "depth 8 90%" in g.value and "T >= 1,800 steps" in g.value and "+16 minutes of training beyond the 20 minutes" in g.value
    assert "5 seeds (now 5)" in g.value
    row = judge("P4-depth", df)
    assert row["verdict"] == INCONCLUSIVE and "deeper depths memorise early" in row["gate"]
    assert p4.memorise_early(depth_table(FIVE)).passed   # memorised at 10% of the budget
    df.loc[df["depth"] == 12, "t_train"] = INF           # most never memorised: no finite budget to name
    assert "more than twice" in p4.memorise_early(df).value


def test_p4_depth_not_reproduced_when_deep_rises_earlier():
    df = depth_table({4: [800, 820, 840], 8: [400, 420, 440], 12: [200, 210, 220]})
    assert judge("P4-depth", df)["verdict"] == NOT_REPRODUCED


def test_p4_depth_not_reproduced_when_depths_rise_together():
    """Ties are not wins: the same onsets at every depth give a ratio CI of [1, 1]."""
    df = depth_table({4: [400] * 3, 8: [400] * 3, 12: [400] * 3})
    assert p4.depth_rule(df).verdict == NOT_REPRODUCED


def test_p4_depth_failing_to_train_is_not_a_later_rise():
    """Depth 12 never rising must not reproduce the claim (issue 15): inconclusive."""
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [INF, INF, INF]})
    assert p4.depth_rule(df).verdict == INCONCLUSIVE


def test_p4_depth_inconclusive_when_only_a_minority_of_a_depth_rose():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, INF, INF]})
    assert p4.depth_rule(df).verdict == INCONCLUSIVE


def test_p4_depth_inconclusive_when_the_shallowest_depth_does_not_rise():
    df = depth_table({4: [INF] * 3, 8: [400, 420, 440], 12: [800, 820, 840]})
    assert p4.depth_rule(df).verdict == INCONCLUSIVE


def test_p4_depth_partial_when_middle_depth_breaks_the_order():
    df = depth_table({4: FIVE[4], 8: [900, 910, 920, 930, 940], 12: FIVE[12]})
    assert p4.depth_rule(df).verdict == PARTIALLY_REPRODUCED


def test_p4_depth_partial_when_train_rises_later_but_test_does_not():
    df = depth_table(FIVE, test_by_depth={4: [900, 905, 910, 915, 920], 8: [900, 903, 905, 910, 915],
                                          12: [880, 885, 890, 895, 900]})
    v = p4.depth_rule(df)
    assert v.verdict == PARTIALLY_REPRODUCED and "train: reproduced" in v.note and "test: not reproduced" in v.note


def test_p4_depth_reports_the_delay_after_memorisation_without_scoring_it():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, 820, 840]})
    df.loc[df["depth"] == 12, "t_train"] = INF   # never memorised: no delay, but the rises still count
    v = p4.depth_rule(df)
    assert v.extra["later"] == REPRODUCED and v.verdict == INCONCLUSIVE   # no memorised depth-12 member to surge
    assert v.extra["n_memorised"] == {4: 3, 8: 3, 12: 0}
    assert np.isnan(v.extra["delay_km_median"][12])


def test_km_floor_is_the_longest_observation_when_the_median_is_censored():
    from grokcore.claims.rules import km_floor
    assert km_floor([10, 20, 30], [True, True, False]) == 20
    assert km_floor([10, 50, 30], [False, False, True]) == 30   # finite: the median itself
    assert km_floor([10, 50, 30], [False, False, False]) == 50


def deep_ds(train_acc, test_acc, t_train, ranks=None, config=None, **coords):
    """A deep-MLP results Dataset by hand: curves (members, steps) over steps 0..1000 every 100,
    `ranks` (members, steps, layers) as the logged feature rank when given."""
    import json
    import xarray as xr
    tr, te = np.asarray(train_acc, float), np.asarray(test_acc, float)
    e, steps = len(tr), np.arange(0, 100 * tr.shape[1], 100)
    nan = np.full(e, np.nan)
    member = {"seed": list(range(e)), "split_seed": [0] * e, "lr": [1e-3] * e, "wd": [0.1] * e, "l1": [0.0] * e,
              "l2": [0.0] * e, "nuclear": [0.0] * e, "init_scale": [8.0] * e, "t_train": list(t_train), "t_grok": nan,
              "t_grok95": nan, "delay": nan, "dnf": ["te" if np.isfinite(t) else "tr" for t in t_train], **coords}
    data = {"train_acc": (("member", "step"), tr), "test_acc": (("member", "step"), te),
            "l2_norm": (("member", "step"), np.ones_like(tr)), **{k: ("member", v) for k, v in member.items()}}
    if ranks is not None:
        data["feature_rank"] = (("member", "step", "layer"), np.asarray(ranks, float))
    cfg = {"steps": int(steps[-1]), "depth": 4, "n_train": 100, **(config or {})}
    return xr.Dataset(data, coords={"step": steps}, attrs={"config": json.dumps(cfg), "wall_time_s": 10.0})


def test_stage_table_measures_both_rises_from_step_zero():
    """A member whose train accuracy rises at step 300 and test at 600, and one that never rises."""
    from grokcore.claims.p4 import stage_table
    steps = np.arange(0, 1001, 100)
    tr = np.stack([np.where(steps >= 300, 1.0, 0.1), np.full(len(steps), 0.1)])
    te = np.stack([np.where(steps >= 600, 0.9, 0.1), np.full(len(steps), 0.1)])
    t = stage_table(deep_ds(tr, te, [300.0, np.nan], config={"steps": 1000}))
    assert t["t_rise_train"].tolist()[0] == 300 and np.isnan(t["t_rise_train"].tolist()[1])
    assert t["t_rise_test"].tolist()[0] == 600 and np.isnan(t["t_rise_test"].tolist()[1])
    assert t["stage"].tolist() == ["one surge", "no memorisation"]


def test_depth_and_sweep_tables_label_each_run_and_join_the_curve_summaries():
    steps = np.arange(0, 1001, 100)
    tr = np.stack([np.where(steps >= 300, 1.0, 0.1)] * 2)
    te = np.stack([np.where(steps >= 600, 0.9, 0.1)] * 2)
    ranks = np.broadcast_to(np.linspace(60, 20, len(steps))[None, :, None], (2, len(steps), 4))
    ds = deep_ds(tr, te, [300.0, 300.0], ranks=ranks)
    t = p4.depth_table({(400, 4): ds, (400, 8): ds})
    assert t[["n_train", "depth"]].drop_duplicates().values.tolist() == [[400, 4], [400, 8]] and len(t) == 4
    w = p4.sweep_table({200: ds, 400: ds}, depth=8)
    assert w["n_train"].tolist() == [200, 200, 400, 400] and (w["depth"] == 8).all()
    np.testing.assert_allclose(w["norm_mean"], 0.0)                     # log10 of a unit norm
    np.testing.assert_allclose(w["rank_mean"], np.linspace(60, 20, len(steps)).mean())


def test_rank_table_counts_tunnels_from_the_float64_ranks_and_at_step_zero():
    """Two members of depth 4 (threshold 48 at layer 1, 96 after): the float64 final ranks give
    tunnels of 2 and 0 hidden layers; at step 0 every rank is full (no tunnel)."""
    steps = np.arange(0, 1001, 100)
    acc = np.stack([np.where(steps >= 300, 1.0, 0.1)] * 2)
    logged = np.full((2, len(steps), 4), 120.0)
    logged[:, :, 0] = 60.0
    ds = deep_ds(acc, acc, [300.0, 300.0], ranks=logged)
    thresholds = p4.rank_thresholds(128, 64, 0.75, [4])
    np.testing.assert_array_equal(thresholds[4], [48, 96, 96, 96])
    final = {4: np.array([[60, 50, 40, 10], [60, 120, 120, 10]], float)}
    t = p4.rank_table({4: ds}, final, thresholds)
    assert t["tunnel"].tolist() == [2, 0] and t["tunnel_at_init"].tolist() == [0, 0]
    assert t["tunnel_all"].tolist() == [3, 1] and t["tunnel_all_at_init"].tolist() == [0, 0]   # the output layer counts
    prec = p4.rank_precision({4: ds}, final)
    assert prec["members"].sum() == 8 and prec["members differing"].tolist() == [0, 1, 1, 2]
    assert p4.tunnel_note(thresholds[4], 5000) == ("float64 final ranks, threshold rank < 48 (layer 1) / 96, "
                                                   "paper values at N=5000")


def test_p4_tunnel_compares_with_the_papers_n_by_share_of_the_training_set():
    assert p4.paper_tunnel_n(7000, "mnist") == 7000 and p4.paper_tunnel_n(5000, "mnist") == 5000
    assert p4.paper_tunnel_n(400, "digits") == 7000     # 31% of the digits' 1,297 (7000 is 12% of 60000)
    assert p4.paper_tunnel_n(100, "digits") == 5000


def test_data_set_comparison_and_the_values_the_page_glues():
    steps = np.arange(0, 1001, 100)
    ours = deep_ds(np.ones((2, len(steps))), np.full((2, len(steps)), 0.8), [100.0, 200.0], config={"n_train": 400})
    other = deep_ds(np.full((2, len(steps)), 0.3), np.full((2, len(steps)), 0.2), [np.nan, np.nan],
                    config={"n_train": 2467})
    t = p4.data_set_comparison({"digits": ours, "MNIST-1D": other})
    assert t.loc["digits", "memorised"] == "2/2" and t.loc["MNIST-1D", "memorised"] == "0/2"
    assert t["N"].tolist() == [400, 2467]
    v = p4.comparison_values(ours, other)
    assert v == {"compare_train": 0.3, "compare_test": 0.2, "ours_test": 0.8,
                 "compare_phrase": "memorises none of its 2 members"}
    assert p4.comparison_values(ours)["compare_phrase"] == "was not trained (compare is empty)"


def test_depth_onsets_tabulates_the_depth_rules_numbers():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, 820, 840]})
    t = p4.depth_onsets(p4.depth_rule(df).extra)
    assert t.index.name == "depth" and t["train rose"].tolist() == [3, 3, 3]
    assert t["KM median train rise"].tolist() == ["210", "420", "820"]


# ------------------------------------------------------------------------------ P4-multistage
def stage_rows(surges_by_depth):
    return members([{"depth": d, "n_surges": s} for d, ss in surges_by_depth.items() for s in ss])


def test_p4_multistage_reproduced_when_only_deep_nets_have_two_surges():
    df = stage_rows({4: [1, 1, 0, 0, 1], 8: [2, 2, 2, 3, 2], 12: [2, 3, 2, 2, 2]})
    assert judge("P4-multistage", df)["verdict"] == REPRODUCED


def test_p4_multistage_inconclusive_when_three_seeds_cannot_decide_a_majority():
    df = stage_rows({4: [1, 1, 0], 8: [2, 2, 2], 12: [2, 3, 2]})   # 3/3 two-stage: not a decided majority
    assert p4.multistage_rule(df).verdict == INCONCLUSIVE


def test_p4_multistage_not_reproduced_when_shallow_is_as_two_stage():
    df = stage_rows({4: [2, 2, 2, 2, 2], 8: [1, 1, 1, 1, 1], 12: [1, 0, 1, 1, 1]})
    assert p4.multistage_rule(df).verdict == NOT_REPRODUCED


def test_p4_multistage_shows_the_sensitivity_variant_beside_the_verdict():
    df = stage_rows({4: [1, 1, 0, 0, 1], 8: [2, 2, 2, 3, 2], 12: [2, 3, 2, 2, 2]})
    df["n_surges_alt"] = np.minimum(df["n_surges"], 1)      # a longer plateau merges every second surge
    v = p4.multistage_rule(df)
    assert v.verdict == REPRODUCED and v.extra["variant"] == NOT_REPRODUCED and "variant, plateau 10%" in v.our_value


def test_p4_multistage_gated_when_deep_members_memorise_late():
    df = stage_rows({4: [1, 1, 0, 0, 1], 8: [2, 2, 2, 3, 2], 12: [2, 3, 2, 2, 2]})
    df.loc[df["depth"] > 4, "t_train"] = 800.0
    row = judge("P4-multistage", df)
    assert row["raw_verdict"] == REPRODUCED and row["verdict"] == INCONCLUSIVE
    assert "deeper depths memorise early" in row["gate"]


def test_p4_multistage_inconclusive_without_any_surge_or_memorisation():
    assert p4.multistage_rule(stage_rows({4: [0, 0], 8: [0, 0]})).verdict == INCONCLUSIVE
    df = stage_rows({4: [1, 1], 8: [2, 2]})
    df.loc[df["depth"] == 4, ["t_train", "n_surges"]] = [INF, np.nan]
    assert p4.multistage_rule(df).verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P4-rank
def rank_rows(pairs):
    return members([{"depth": 4 + 4 * (i % 2), "wd": 0.05, "t_test_rise": a, "t_rank_fall": b}
                    for i, (a, b) in enumerate(pairs)])


SPREAD = [(100, 120), (300, 250), (1000, 1200), (3000, 2800), (10000, 9000), (30000, 33000)]  # onsets over 2.5 decades


def test_p4_rank_reproduced_when_rank_falls_at_the_rise():
    df = rank_rows(SPREAD * 2)
    row = judge("P4-rank", df)
    assert row["verdict"] == REPRODUCED and p4.rank_rule(df).extra["perm_p"] < 0.05


def test_p4_rank_inconclusive_when_the_null_pairs_as_well():
    """Every rise and fall within a factor 2 of every other: the coincidence is the timing alone."""
    df = rank_rows([(500, 520), (600, 450), (700, 800), (400, 500)] * 3)
    v = p4.rank_rule(df)
    assert v.verdict == INCONCLUSIVE and v.extra["share"] == 1 and v.extra["perm_p"] >= 0.05


def test_p4_rank_inconclusive_when_too_few_risers_to_place_the_share():
    df = rank_rows(SPREAD[:5] + [(400, 20000)] + SPREAD[:1])   # 6/7 coincide: interval straddles 2/3
    assert p4.rank_rule(df).verdict == INCONCLUSIVE


def test_p4_rank_not_reproduced_when_rank_falls_far_from_the_rise():
    df = rank_rows([(500, 5000), (600, INF), (700, 100), (400, 4000)] * 2)
    assert judge("P4-rank", df)["verdict"] == NOT_REPRODUCED


def test_p4_rank_inconclusive_with_fewer_than_five_rising_members():
    v = p4.rank_rule(rank_rows(SPREAD[:4] + [(INF, 500)]))
    assert v.verdict == INCONCLUSIVE and "fewer than 5" in v.note


def test_rank_pool_keeps_each_member_once():
    a = members([{"depth": 4, "wd": 0.05}] * 3)
    b = members([{"depth": 4, "wd": g} for g in (0.05, 0.05, 0.05, 0.25, 0.25, 0.25)])
    b["seed"] = [0, 1, 2, 0, 1, 2]
    assert len(p4.rank_pool(a, b)) == 6


# ------------------------------------------------------------------------------ P4-tunnel
def tunnel_rows(lengths, at_init=None):
    """Hidden tunnel lengths per depth (final; at step 0 `at_init`, default none)."""
    at_init = at_init or {d: [0] * len(ts) for d, ts in lengths.items()}
    return members([{"depth": d, "tunnel": t, "tunnel_at_init": t0, "tunnel_all": t + 1}
                    for d, ts in lengths.items() for t, t0 in zip(ts, at_init[d])])


def test_p4_tunnel_reproduced_when_it_grows_with_depth_and_forms_in_training():
    df = tunnel_rows({4: [0, 0, 0], 8: [2, 3, 2], 12: [5, 6, 5]})
    row = judge("P4-tunnel", df)
    assert row["verdict"] == REPRODUCED
    assert "all Linear 3, hidden 2 (paper 3 all / 2 hidden)" in row["our_value"]


def test_p4_tunnel_scores_the_shape_not_the_counts():
    """Longer tunnels than the paper's at every depth (another width and input size) still grow with depth."""
    assert p4.tunnel_rule(tunnel_rows({4: [1, 1, 1], 8: [4, 4, 5], 12: [9, 8, 9]})).verdict == REPRODUCED


def test_p4_tunnel_miss_where_the_paper_has_a_tunnel():
    df = tunnel_rows({4: [0, 0, 0], 8: [0, 0, 0], 12: [5, 6, 5]})
    v = p4.tunnel_rule(df)
    assert v.verdict == NOT_REPRODUCED and "no hidden tunnel at depth 8" in v.note


def test_p4_tunnel_not_reproduced_when_no_tunnel_forms_at_any_depth():
    """Depth 4's paper length 1 is the output layer: no hidden tunnel anywhere is not the claim."""
    v = p4.tunnel_rule(tunnel_rows({4: [0, 0, 0], 8: [0, 0, 0], 12: [0, 0, 0]}))
    assert v.verdict == NOT_REPRODUCED and "no hidden tunnel" in v.note


def test_p4_tunnel_not_reproduced_when_it_does_not_grow_with_depth():
    df = tunnel_rows({4: [3, 3, 3], 8: [3, 3, 3], 12: [3, 2, 3]})
    assert judge("P4-tunnel", df)["verdict"] == NOT_REPRODUCED


def test_p4_tunnel_not_reproduced_when_the_tunnel_was_there_at_initialisation():
    lengths = {4: [0, 0, 0], 8: [2, 3, 2], 12: [5, 6, 5]}
    v = p4.tunnel_rule(tunnel_rows(lengths, at_init=lengths))
    assert v.verdict == NOT_REPRODUCED and v.extra["formed"] == {8: NOT_REPRODUCED, 12: NOT_REPRODUCED}


def test_p4_tunnel_partial_when_the_middle_depth_breaks_the_order():
    df = tunnel_rows({4: [0, 0, 0], 8: [6, 6, 6], 12: [5, 5, 5]})
    assert p4.tunnel_rule(df).verdict == PARTIALLY_REPRODUCED


def test_p4_tunnel_inconclusive_when_seeds_disagree_widely():
    df = tunnel_rows({4: [0, 4], 8: [0, 7]})
    assert p4.tunnel_rule(df).verdict == INCONCLUSIVE


def test_tunnel_length_under_both_conventions():
    from grokcore.claims.p4 import probes
    ranks, t = [60, 50, 40, 10], [48, 96, 96, 96]
    assert probes.tunnel_length(ranks, t, "hidden") == 2 and probes.tunnel_length(ranks, t, "all") == 3
    import pytest
    with pytest.raises(ValueError, match="hidden"):
        probes.tunnel_length(ranks, t, "output")


# ------------------------------------------------------------------------------ P4-wd
def wd_rows(surges):
    """surges: (n_train, wd) -> per-seed surge counts."""
    return pd.concat([members([{"depth": 12, "wd": g, "n_surges": s} for s in ss], n_train=n)
                      for (n, g), ss in surges.items()], ignore_index=True)


def test_p4_wd_reproduced_with_the_three_gamma_pattern():
    df = wd_rows({(2000, 0.005): [0] * 5, (2000, 0.01): [1] * 5, (2000, 0.05): [2] * 4 + [3],
                  (5000, 0.005): [0] * 5, (5000, 0.01): [1] * 5, (5000, 0.05): [2, 3, 2, 2, 2]})
    assert judge("P4-wd", df)["verdict"] == REPRODUCED
    row = judge("P4-wd", df.assign(depth=4))                 # the same pattern from a depth-4 sweep
    assert row["verdict"] == INCONCLUSIVE and "the sweep's depth" in row["gate"]


def test_p4_wd_not_reproduced_when_the_middle_gamma_does_not_grok():
    df = wd_rows({(2000, 0.005): [1] * 5, (2000, 0.01): [0] * 5, (2000, 0.05): [1] * 5})
    assert judge("P4-wd", df)["verdict"] == NOT_REPRODUCED


def test_p4_wd_inconclusive_without_any_surge():
    df = wd_rows({(2000, 0.005): [0, 0], (2000, 0.01): [0, 0], (2000, 0.05): [0, 0]})
    assert p4.wd_rule(df).verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P4-norm
def norm_rows(groups):
    """groups: n_train -> list of (norm_mean, rank_mean, final_test_acc)."""
    return pd.concat([members([{"depth": 12, "norm_mean": a, "rank_mean": r, "final_test_acc": t}
                               for a, r, t in rows], n_train=n) for n, rows in groups.items()], ignore_index=True)


ACC = np.linspace(0.80, 0.95, 12)
SCRAMBLE = [5, 0, 9, 3, 11, 7, 1, 10, 4, 8, 2, 6]   # a fixed order unrelated to accuracy


def test_p4_norm_reproduced_when_rank_tracks_generalisation_and_the_norm_does_not():
    rows = [(1.0 + 0.01 * SCRAMBLE[i], 60 - 20 * (a - 0.8) / 0.15, a) for i, a in enumerate(ACC)]
    row = judge("P4-norm", norm_rows({2000: rows[:6], 5000: rows[6:]}))
    assert row["raw_verdict"] == REPRODUCED and row["ci_low"] > 0


def test_p4_norm_not_reproduced_when_the_norm_tracks_generalisation_and_the_rank_does_not():
    rows = [(1.0 + (a - 0.8), 40 + SCRAMBLE[i], a) for i, a in enumerate(ACC)]
    assert judge("P4-norm", norm_rows({2000: rows[:6], 5000: rows[6:]}))["raw_verdict"] == NOT_REPRODUCED


def test_p4_norm_inconclusive_with_few_members_or_a_single_n():
    df = norm_rows({2000: [(1.0, 40, 0.8), (1.1, 45, 0.81)]})
    assert judge("P4-norm", df)["verdict"] == INCONCLUSIVE
    v = p4.norm_rule(norm_rows({2000: [(1.0, 40, 0.8), (1.1, 45, 0.81)], 5000: [(1.0, 30, 0.9), (1.1, 31, 0.91)]}))
    assert v.verdict == INCONCLUSIVE and "fewer than 5" in v.note


# ------------------------------------------------------------------------------ settings and rank precision
def test_p4_clock_is_the_papers_decay_exponent():
    assert np.isclose(p4.PAPER_CLOCK, 1.0)
    assert np.isclose(p4.clock(4e-3, 0.05, 5000), 1.0)


def test_p4_data_task_prefers_mnist_files_and_names_unknown_sets():
    assert p4.data_task("digits") == ("digits", p4.DATA_NAMES["digits"])
    assert p4.data_task("digits", data_dir="/some/idx")[0] == "mnist"
    import pytest
    with pytest.raises(ValueError, match="digits"):
        p4.data_task("cifar")


def test_final_ranks_recompute_every_layer_on_the_whole_test_set(tmp_path, monkeypatch):
    from grokcore import RunConfig
    from grokcore.core.tasks import make_data
    from grokcore.core.train import train
    cfg = RunConfig(task="digits", model="deepmlp", depth=3, width=8, n_train=60, init_scale=8.0, optimizer="adamw",
                    loss="mse", batch_size=20, steps=4, eval_every=2, seeds=(0, 1), save_params=True,
                    feature_rank=True, probe_size=100_000, early_stop=False)
    ds = train(cfg, "cpu", progress=False)
    r = p4.final_ranks(ds)
    assert r.shape == (2, 3)
    assert (r[:, -1] <= 10).all() and (r <= 8).all() and (r >= 1).all()
    assert p4.n_inputs(cfg) == 64                                 # the digits' 8x8 pixels
    probes = p4.probe_table({3: cfg}, {3: ds})                    # (depth, seed, layer) rows
    assert len(probes) == 2 * 3 and probes["probe_test_acc"].between(0, 1).all()
    seconds, share, n = p4.rank_eval_cost(ds.assign_attrs(wall_time_s=1.0), cfg)
    assert seconds > 0 and np.isclose(share, seconds * ds.sizes["step"]) and n == len(make_data(cfg).x_test)


def test_token_mlp_summary_counts_members_that_reached_both_thresholds():
    steps = np.arange(0, 1001, 100)
    ds = deep_ds(np.ones((2, len(steps))), np.ones((2, len(steps))), [100.0, 100.0])
    ds["t_grok"].values[:] = [300.0, 500.0]
    ds["dnf"].values[:] = ["", "te"]
    t = p4.token_mlp_summary({(2, False): ds, (2, True): ds})
    assert t[["residual", "depth", "n", "reached"]].values.tolist() == [[False, 2, 2, 1], [True, 2, 2, 1]]
    assert t["median"].tolist() == [300.0, 300.0]


# ------------------------------------------------------------------------------ configurations
QUICK_DEEP = dict(task="digits", data_dir="", model="deepmlp", width=128, act="relu", init_scale=8.0,
                  optimizer="adamw", lr=4e-3, wd=0.05, loss="mse", batch_size=200, dtype="float32", steps=10000,
                  eval_every=200, seeds=(0, 1, 2), early_stop=False, feature_rank=True, probe_size=100_000,
                  save_params=True)   # the literal both P4 chapters built before the builders


def test_deep_mlp_builders_give_the_stored_runs_of_the_quick_profile():
    from grokcore import RunConfig
    literal = RunConfig(**QUICK_DEEP)
    base = p4.deep_mlp("digits", "", 3, width=128, init_scale=8.0, lr=4e-3, wd=0.05, batch_size=200,
                       dtype="float32", steps=10000, eval_every=200)
    assert base.hash() == p4.deep_mlp().hash() == literal.hash()    # QUICK holds the same defaults
    grid = p4.depth_grid(base, [400], [4, 8, 12])
    assert list(grid) == [(400, 4), (400, 8), (400, 12)]
    assert [c.hash() for c in grid.values()] == [literal.replace(n_train=400, depth=d).hash() for d in (4, 8, 12)]
    assert grid[(400, 12)].hash() == "4e9c435824ca7184"   # the stored depth-12 run of the quick profile
    rank_base = p4.deep_mlp(n_train=400, probe_size=100_000)
    wd = [0.025, 0.05, 0.25]
    sweep = p4.wd_sweep(rank_base, wd, [400], 4)
    assert sweep[400].hash() == literal.replace(depth=4, wd=tuple(wd), n_train=400).hash()
    norm = p4.norm_sweep(rank_base, wd, [400, 800], 4)
    assert [c.hash() for c in norm.values()] == [literal.replace(depth=4, wd=0.05, n_train=n).hash()
                                                 for n in (400, 800)]
    other = p4.compare_config(grid[(400, 4)], "mnist1d")
    assert other.hash() == literal.replace(task="mnist1d", n_train=2467, depth=4, feature_rank=False,
                                           save_params=False).hash()    # 400/1297 of MNIST-1D's 8000
    assert p4.deep_mlp(data_dir="/idx").task == "mnist"


def test_token_mlp_grid_gives_the_quick_profiles_runs():
    from grokcore import RunConfig
    literal = RunConfig(task="add", p=23, frac=0.5, model="mlp", width=64, embed=64, lr=1e-3, wd=1.0, steps=1000,
                        eval_every=50, seeds=(0, 1))
    grid = p4.token_mlp_grid(23, [2, 8], 64, 1000, 2)
    assert list(grid) == [(2, False), (8, False), (2, True), (8, True)]
    assert [c.hash() for c in grid.values()] == [literal.replace(depth=d, residual=r).hash() for d, r in grid]


def test_settings_notes_state_the_runs_settings():
    from grokcore import RunConfig
    cfg = RunConfig(**QUICK_DEEP).replace(n_train=400, depth=4)
    assert p4.settings_note(cfg) == ("digits (scikit-learn, 8x8), N=400 (31% of the training set), width 128, "
                                     "10000 steps, lr 0.004, wd 0.05 (lr*wd*T 2.00), init x8, float32")
    sweep = p4.wd_sweep(cfg, [0.025, 0.05, 0.25], [400], 4)
    assert p4.sweep_note(sweep) == ("digits (scikit-learn, 8x8), depth 4, N [400], γ grid [0.025, 0.05, 0.25], "
                                    "width 128, 10000 steps, lr 0.004, init x8")
    assert "γ=0.05, " in p4.sweep_note(p4.norm_sweep(cfg, [0.025, 0.05, 0.25], [400, 800], 4))
    assert p4.with_note({"note": "rule"}, "settings") == {"note": "settings; rule"}


def test_p4_rank_and_norm_name_what_would_settle_an_inconclusive_verdict():
    v = p4.rank_rule(rank_rows(SPREAD[:5] + [(400, 20000)] + SPREAD[:1]))
    assert v.verdict == INCONCLUSIVE and "rising members" in v.note
    acc = [0.80, 0.82, 0.84, 0.86, 0.88, 0.90]
    weak = norm_rows({2000: [(1.0, 50, acc[0]), (1.1, 48, acc[1]), (1.0, 51, acc[2])],
                      5000: [(1.1, 47, acc[3]), (1.0, 49, acc[4]), (1.1, 46, acc[5])]})
    v = p4.norm_rule(weak)
    assert v.verdict == INCONCLUSIVE and "members (CI half-width" in v.note
    wrong = norm_rows({2000: [(1.0, 40, acc[0]), (1.1, 43, acc[1]), (1.0, 41, acc[2])],
                       5000: [(1.1, 45, acc[3]), (1.0, 44, acc[4]), (1.1, 47, acc[5])]})
    v = p4.norm_rule(wrong)
    assert v.verdict in (INCONCLUSIVE, NOT_REPRODUCED) and ("wrong sign" in v.note or v.verdict == NOT_REPRODUCED)
    noisy = norm_rows({2000: [(1.0, 44, acc[0]), (1.1, 40, acc[1]), (1.0, 46, acc[2])],
                       5000: [(1.1, 41, acc[3]), (1.0, 47, acc[4]), (1.1, 43, acc[5])]})   # rank up, weakly
    v = p4.norm_rule(noisy)
    assert v.verdict == INCONCLUSIVE and "wrong sign" in v.note and "members (CI half-width" in v.note
