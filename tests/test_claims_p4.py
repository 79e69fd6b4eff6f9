"""P4's verdict rules on synthetic member tables: each can come out reproduced and not reproduced.
Several tables hold 3 members per depth, too few for a firm verdict: those tests assert the rule's
own verdict (raw_verdict); tests/test_rules.py covers the firmness and regime gates."""
import numpy as np
import pandas as pd

from grokcore.claims import ledger, p4
from grokcore.claims.rules import NOT, PARTIAL, REPRODUCED, UNCLEAR

INF = np.inf


def members(rows, budget=1000.0, n_train=500):
    """rows: dicts of per-member fields; defaults fill the rest of a stage_table row."""
    base = {"n_train": n_train, "seed": 0, "t_train": 100.0, "t_grok": INF, "t_test_rise": INF,
            "n_surges": 0.0, "t_rank_fall": INF, "dnf": "", "budget": budget, "final_test_acc": 0.5}
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["seed"] = range(len(out))
    return out


def depth_table(rise_by_depth, test_by_depth=None, t_train=100.0):
    """Three members per depth; rise_by_depth: depth -> three train-rise onsets from step 0
    (INF: the curve never rose); the test rise follows 50 steps later unless test_by_depth says."""
    test_by_depth = test_by_depth or {d: [r + 50 for r in rs] for d, rs in rise_by_depth.items()}
    return members([{"depth": d, "t_train": t_train, "t_rise_train": r, "t_rise_test": q,
                     "t_test_rise": q}
                    for d in rise_by_depth for r, q in zip(rise_by_depth[d], test_by_depth[d])])


def judge(cid, df, **kw):
    return ledger.judge(cid, df, n_resamples=20, **kw)


# ------------------------------------------------------------------------------ P4-depth
def test_p4_depth_reproduced_when_both_rises_come_later_with_depth():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, 820, INF]})
    row = judge("P4-depth", df)
    assert row["raw_verdict"] == REPRODUCED
    assert row["ci_low"] > 1


def test_p4_depth_not_reproduced_when_deep_rises_earlier():
    df = depth_table({4: [800, 820, 840], 8: [400, 420, 440], 12: [200, 210, 220]})
    assert judge("P4-depth", df)["verdict"] == NOT


def test_p4_depth_not_reproduced_when_depths_rise_together():
    """Ties are not wins: the same onsets at every depth give a ratio CI of [1, 1]."""
    df = depth_table({4: [400] * 3, 8: [400] * 3, 12: [400] * 3})
    assert p4.depth_rule(df).verdict == NOT


def test_p4_depth_failing_to_train_is_not_a_later_rise():
    """Depth 12 never rising must not reproduce the claim (issue 15): inconclusive."""
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [INF, INF, INF]})
    assert p4.depth_rule(df).verdict == UNCLEAR


def test_p4_depth_inconclusive_when_only_a_minority_of_a_depth_rose():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, INF, INF]})
    assert p4.depth_rule(df).verdict == UNCLEAR


def test_p4_depth_inconclusive_when_the_shallowest_depth_does_not_rise():
    df = depth_table({4: [INF] * 3, 8: [400, 420, 440], 12: [800, 820, 840]})
    assert p4.depth_rule(df).verdict == UNCLEAR


def test_p4_depth_partial_when_middle_depth_breaks_the_order():
    df = depth_table({4: [200, 210, 220], 8: [900, 920, 940], 12: [800, 820, 840]})
    assert p4.depth_rule(df).verdict == PARTIAL


def test_p4_depth_partial_when_train_rises_later_but_test_does_not():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, 820, 840]},
                     test_by_depth={4: [900, 910, 920], 8: [900, 905, 915], 12: [880, 890, 900]})
    v = p4.depth_rule(df)
    assert v.verdict == PARTIAL and "train: reproduced" in v.note and "test: not reproduced" in v.note


def test_p4_depth_reports_the_delay_after_memorisation_without_scoring_it():
    df = depth_table({4: [200, 210, 220], 8: [400, 420, 440], 12: [800, 820, 840]})
    df.loc[df["depth"] == 12, "t_train"] = INF   # never memorised: no delay, but the rises still count
    v = p4.depth_rule(df)
    assert v.verdict == REPRODUCED
    assert v.extra["n_memorised"] == {4: 3, 8: 3, 12: 0}
    assert np.isnan(v.extra["delay_km_median"][12])


def test_km_floor_is_the_longest_observation_when_the_median_is_censored():
    from grokcore.claims.rules import km_floor
    assert km_floor([10, 20, 30], [True, True, False]) == 20
    assert km_floor([10, 50, 30], [False, False, True]) == 30   # finite: the median itself
    assert km_floor([10, 50, 30], [False, False, False]) == 50


def test_stage_table_measures_both_rises_from_step_zero():
    """A member whose train accuracy rises at step 300 and test at 600, and one that never rises."""
    import json
    import xarray as xr
    from grokcore.claims.p4 import stage_table
    steps = np.arange(0, 1001, 100)
    tr = np.stack([np.where(steps >= 300, 1.0, 0.1), np.full(len(steps), 0.1)])
    te = np.stack([np.where(steps >= 600, 0.9, 0.1), np.full(len(steps), 0.1)])
    nan2 = np.full(2, np.nan)
    ds = xr.Dataset({"train_acc": (("member", "step"), tr), "test_acc": (("member", "step"), te),
                     "l2_norm": (("member", "step"), np.ones_like(tr)),
                     **{k: ("member", v) for k, v in {"seed": [0, 1], "split_seed": [0, 0], "lr": [1e-3] * 2,
                        "wd": [0.1] * 2, "l1": [0.0] * 2, "l2": [0.0] * 2, "nuclear": [0.0] * 2,
                        "init_scale": [8.0] * 2, "t_train": [300.0, np.nan], "t_grok": nan2,
                        "t_grok95": nan2, "delay": nan2, "dnf": ["te", "tr"]}.items()}},
                    coords={"step": steps}, attrs={"config": json.dumps({"steps": 1000, "depth": 4, "n_train": 100})})
    t = stage_table(ds)
    assert t["t_rise_train"].tolist()[0] == 300 and np.isnan(t["t_rise_train"].tolist()[1])
    assert t["t_rise_test"].tolist()[0] == 600 and np.isnan(t["t_rise_test"].tolist()[1])


# ------------------------------------------------------------------------------ P4-multistage
def stage_rows(surges_by_depth):
    return members([{"depth": d, "n_surges": s} for d, ss in surges_by_depth.items() for s in ss])


def test_p4_multistage_reproduced_when_only_deep_nets_have_two_surges():
    df = stage_rows({4: [1, 1, 0, 0, 1], 8: [2, 2, 2, 3, 2], 12: [2, 3, 2, 2, 2]})
    assert judge("P4-multistage", df)["verdict"] == REPRODUCED


def test_p4_multistage_inconclusive_when_three_seeds_cannot_decide_a_majority():
    df = stage_rows({4: [1, 1, 0], 8: [2, 2, 2], 12: [2, 3, 2]})   # 3/3 two-stage: not a decided majority
    assert p4.multistage_rule(df).verdict == UNCLEAR


def test_p4_multistage_not_reproduced_when_shallow_is_as_two_stage():
    df = stage_rows({4: [2, 2, 2, 2, 2], 8: [1, 1, 1, 1, 1], 12: [1, 0, 1, 1, 1]})
    assert p4.multistage_rule(df).verdict == NOT


def test_p4_multistage_inconclusive_without_any_surge_or_memorisation():
    assert p4.multistage_rule(stage_rows({4: [0, 0], 8: [0, 0]})).verdict == UNCLEAR
    df = stage_rows({4: [1, 1], 8: [2, 2]})
    df.loc[df["depth"] == 4, ["t_train", "n_surges"]] = [INF, np.nan]
    assert p4.multistage_rule(df).verdict == UNCLEAR


# ------------------------------------------------------------------------------ P4-rank
def rank_rows(pairs):
    return members([{"depth": 4 + 4 * (i % 2), "t_test_rise": a, "t_rank_fall": b} for i, (a, b) in enumerate(pairs)])


def test_p4_rank_reproduced_when_rank_falls_at_the_rise():
    df = rank_rows([(500, 520), (600, 450), (700, 800), (400, 500)] * 3)
    assert judge("P4-rank", df)["verdict"] == REPRODUCED


def test_p4_rank_inconclusive_when_too_few_risers_to_place_the_share():
    df = rank_rows([(500, 520), (600, 450), (700, 800), (400, 2000)])   # 3/4 coincide: interval straddles 2/3
    assert p4.rank_rule(df).verdict == UNCLEAR


def test_p4_rank_not_reproduced_when_rank_falls_far_from_the_rise():
    df = rank_rows([(500, 5000), (600, INF), (700, 100), (400, 4000)] * 2)
    assert judge("P4-rank", df)["verdict"] == NOT


def test_p4_rank_inconclusive_with_one_rising_member():
    assert p4.rank_rule(rank_rows([(500, 520), (INF, 500)])).verdict == UNCLEAR


# ------------------------------------------------------------------------------ P4-tunnel
def tunnel_rows(lengths):
    return members([{"depth": d, "tunnel": t} for d, ts in lengths.items() for t in ts])


def test_p4_tunnel_reproduced_within_one_layer_of_the_paper():
    df = tunnel_rows({4: [1, 1, 0], 8: [3, 4, 3], 12: [6, 5, 6]})
    assert judge("P4-tunnel", df)["verdict"] == REPRODUCED


def test_p4_tunnel_not_reproduced_when_lengths_are_far_though_ordered():
    df = tunnel_rows({4: [4, 4, 4], 8: [7, 7, 7], 12: [10, 10, 10]})
    assert judge("P4-tunnel", df)["verdict"] == NOT


def test_p4_tunnel_not_reproduced_when_no_tunnel_forms_at_any_depth():
    """0 layers is within one of the paper's 1 at depth 4, but no tunnel at all is not the claim."""
    df = tunnel_rows({4: [0, 0, 0], 8: [0, 0, 0], 12: [0, 0, 0]})
    v = p4.tunnel_rule(df)
    assert v.verdict == NOT and "no tunnel" in v.note


def test_p4_tunnel_uses_the_paper_values_for_n_7000():
    df = tunnel_rows({4: [1, 1, 1], 8: [5, 5, 5], 12: [6, 6, 6]})
    assert p4.tunnel_rule(df, paper=p4.PAPER_TUNNEL[7000]).verdict == REPRODUCED
    assert p4.tunnel_rule(df, paper=p4.PAPER_TUNNEL[5000]).verdict == PARTIAL


def test_p4_tunnel_inconclusive_when_seeds_disagree_widely():
    df = tunnel_rows({4: [0, 4], 8: [0, 7]})
    assert p4.tunnel_rule(df).verdict == UNCLEAR


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
    assert row["verdict"] == UNCLEAR and "the sweep's depth" in row["gate"]


def test_p4_wd_not_reproduced_when_the_middle_gamma_does_not_grok():
    df = wd_rows({(2000, 0.005): [1] * 5, (2000, 0.01): [0] * 5, (2000, 0.05): [1] * 5})
    assert judge("P4-wd", df)["verdict"] == NOT


def test_p4_wd_inconclusive_without_any_surge():
    df = wd_rows({(2000, 0.005): [0, 0], (2000, 0.01): [0, 0], (2000, 0.05): [0, 0]})
    assert p4.wd_rule(df).verdict == UNCLEAR


# ------------------------------------------------------------------------------ P4-norm
def norm_rows(groups):
    """groups: n_train -> list of (norm_mean, rank_mean, final_test_acc)."""
    return pd.concat([members([{"depth": 12, "norm_mean": a, "rank_mean": r, "final_test_acc": t}
                               for a, r, t in rows], n_train=n) for n, rows in groups.items()], ignore_index=True)


def test_p4_norm_reproduced_when_norms_overlap_and_rank_separates():
    df = norm_rows({2000: [(1.00, 50, 0.80), (1.02, 52, 0.81)], 5000: [(1.01, 30, 0.90), (1.03, 31, 0.91)]})
    assert judge("P4-norm", df)["raw_verdict"] == REPRODUCED


def test_p4_norm_not_reproduced_when_norm_separates_and_rank_does_not():
    df = norm_rows({2000: [(1.0, 40, 0.80), (1.1, 45, 0.81)], 5000: [(2.0, 42, 0.90), (2.1, 44, 0.91)]})
    assert judge("P4-norm", df)["raw_verdict"] == NOT


def test_p4_norm_inconclusive_with_a_single_n():
    df = norm_rows({2000: [(1.0, 40, 0.8), (1.1, 45, 0.81)]})
    assert judge("P4-norm", df)["verdict"] == UNCLEAR


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
    from grokcore.core.train import train
    cfg = RunConfig(task="digits", model="deepmlp", depth=3, width=8, n_train=60, init_scale=8.0, optimizer="adamw",
                    loss="mse", batch_size=20, steps=4, eval_every=2, seeds=(0, 1), save_params=True,
                    feature_rank=True, probe_size=100_000, early_stop=False)
    ds = train(cfg, "cpu", progress=False)
    r = p4.final_ranks(ds)
    assert r.shape == (2, 3)
    assert (r[:, -1] <= 10).all() and (r <= 8).all() and (r >= 1).all()
