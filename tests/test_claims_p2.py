"""P2's verdict rules on synthetic member tables: each can come out reproduced and not reproduced."""
import numpy as np
import pandas as pd
import pytest

from grokcore.claims import ledger, p2  # noqa: F401  (registers the rules)
from grokcore.claims.rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE

NAN = float("nan")


def judge(cid, df, **opts):
    return ledger.judge(cid, df, n_resamples=20, **opts)


def member(penalty, beta, seed, t_train, t_grok, budget=30_000):
    return {"problem": "mlp", "penalty": penalty, "beta": beta, "seed": seed, "t_train": t_train, "t_grok": t_grok,
            "budget": budget, "dnf": ""}


def penalty_table(kind, pen_grok=True, ctrl_grok=False, no_delay=False, budget=30_000, n=6):
    rows = []
    for s in range(n):
        tg = (300 if no_delay else 5000 + 100 * s) if pen_grok else NAN
        rows.append(member(kind, 1e-5, s, 200, tg, budget))
        rows.append(member("none", 0.0, s, 200, 6000 if ctrl_grok else NAN, budget))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ P2-l1
def test_p2_l1_reproduced_when_penalty_groks_and_control_does_not():
    row = judge("P2-l1", penalty_table("l1"))
    assert row["verdict"] == REPRODUCED and row["extra"]["mlp"]["control_share"] == 0


def test_p2_l1_combines_problems_and_skips_inconclusive_ones():
    linear = penalty_table("l1").assign(problem="sparse recovery")
    short = penalty_table("l1", pen_grok=False, budget=2000)       # the MLP: inconclusive
    assert judge("P2-l1", pd.concat([short, linear]))["verdict"] == REPRODUCED
    failed = penalty_table("l1", ctrl_grok=True).assign(problem="sparse recovery")
    assert judge("P2-l1", pd.concat([penalty_table("l1"), failed]))["verdict"] == PARTIALLY_REPRODUCED


def test_p2_l1_not_reproduced_when_control_groks_as_well():
    assert judge("P2-l1", penalty_table("l1", ctrl_grok=True))["verdict"] == NOT_REPRODUCED


def test_p2_l1_not_reproduced_when_penalty_generalises_without_delay():
    assert judge("P2-l1", penalty_table("l1", no_delay=True))["verdict"] == NOT_REPRODUCED


def test_p2_l1_not_reproduced_when_nothing_generalises_in_a_long_budget():
    assert judge("P2-l1", penalty_table("l1", pen_grok=False))["verdict"] == NOT_REPRODUCED


def test_p2_l1_inconclusive_when_budget_is_short_or_penalty_missing():
    assert judge("P2-l1", penalty_table("l1", pen_grok=False, budget=2000))["verdict"] == INCONCLUSIVE
    assert judge("P2-l1", penalty_table("nuclear"))["verdict"] == INCONCLUSIVE


def test_p2_l1_inconclusive_when_three_seeds_cannot_separate_penalty_from_control():
    row = judge("P2-l1", penalty_table("l1", n=3))       # 3/3 against 0/3: Fisher's p = 0.05
    assert row["verdict"] == INCONCLUSIVE and row["raw_verdict"] == INCONCLUSIVE


def test_p2_l1_partial_when_delay_grows_with_beta():
    df = penalty_table("l1")
    slow = df[df.penalty == "l1"].assign(beta=1e-4, t_grok=lambda d: d.t_grok * 3)
    assert judge("P2-l1", pd.concat([df, slow]))["verdict"] == PARTIALLY_REPRODUCED


# ------------------------------------------------------------------------------ P2-nuc
def test_p2_nuc_reproduced_when_nuclear_penalty_groks():
    assert judge("P2-nuc", penalty_table("nuclear"))["verdict"] == REPRODUCED


def test_p2_nuc_not_reproduced_when_control_groks():
    assert judge("P2-nuc", penalty_table("nuclear", ctrl_grok=True))["verdict"] == NOT_REPRODUCED


# ------------------------------------------------------------------------------ P2-l2proxy
def proxy_table(l2_grows, n=10, l1_falls=True, problem="mlp"):
    return pd.DataFrame({"problem": problem, "seed": range(n), "beta": 1e-5, "t_train": 200.0, "t_grok": 5000.0, "budget": 9000,
                         "l2_train": 10.0, "l2_grok": 12.0 if l2_grows else 8.0,
                         "l1_train": 100.0, "l1_grok": 60.0 if l1_falls else 150.0})


def test_p2_l2proxy_reproduced_when_l2_grows_while_l1_falls():
    assert judge("P2-l2proxy", proxy_table(True))["verdict"] == REPRODUCED


def test_p2_l2proxy_not_reproduced_when_l2_falls():
    assert judge("P2-l2proxy", proxy_table(False))["verdict"] == NOT_REPRODUCED


def test_p2_l2proxy_gates_a_problem_whose_penalty_is_inactive():
    # the MLP's l1 grows after memorising (penalty inactive): its part is inconclusive, not a failure,
    # and the verdict rests on the linear problem's part
    df = pd.concat([proxy_table(False, l1_falls=False), proxy_table(True, problem="sparse recovery")], ignore_index=True)
    row = judge("P2-l2proxy", df)
    assert row["extra"]["parts"]["mlp"]["verdict"] == INCONCLUSIVE and "penalty inactive" in row["note"]
    assert row["verdict"] == REPRODUCED
    df = pd.concat([proxy_table(False, l1_falls=False), proxy_table(False, problem="sparse recovery")], ignore_index=True)
    assert judge("P2-l2proxy", df)["verdict"] == NOT_REPRODUCED


def test_p2_l1_gates_an_inactive_penalty_in_the_mlp():
    df = penalty_table("l1")
    df["norm_falls"] = np.where(df.penalty == "l1", 0.0, NAN)        # l1 grew after memorising in every member
    row = judge("P2-l1", df)
    assert row["verdict"] == INCONCLUSIVE and "penalty inactive" in row["note"]
    df["norm_falls"] = np.where(df.penalty == "l1", 1.0, NAN)
    assert judge("P2-l1", df)["verdict"] == REPRODUCED


def test_p2_l2proxy_mlp_part_needs_its_weight_decay_control_to_show_l2_falling():
    """A problem with a weight-decay control (penalty 'wd', where l2 should fall) counts only when
    the control shows the fall; the control's own l2 falling does not count as the claim failing."""
    l1 = proxy_table(True, n=10)
    control = proxy_table(False, n=4).assign(penalty="wd")             # l2 fell in 4/4: instrument works
    row = judge("P2-l2proxy", pd.concat([l1.assign(penalty="l1"), control], ignore_index=True))
    assert row["verdict"] == REPRODUCED and "weight-decay control: l2 fell in 4/4" in row["note"]
    assert row["extra"]["parts"]["mlp"]["control_ok"] and row["extra"]["k"] == 10
    blind = proxy_table(True, n=4).assign(penalty="wd")                # the control's l2 grew too
    row = judge("P2-l2proxy", pd.concat([l1.assign(penalty="l1"), blind], ignore_index=True))
    assert row["verdict"] == INCONCLUSIVE and "l2 fell in 0/4" in row["note"]
    falls = proxy_table(False, n=10).assign(penalty="l1")               # the claim fails, the control passes
    assert judge("P2-l2proxy", pd.concat([falls, control], ignore_index=True))["verdict"] == NOT_REPRODUCED
    few = control.assign(t_grok=NAN)                                   # no control member generalised
    row = judge("P2-l2proxy", pd.concat([l1.assign(penalty="l1"), few], ignore_index=True))
    assert row["verdict"] == INCONCLUSIVE and "0 member(s) generalised" in row["note"]


def test_p2_l2proxy_inconclusive_without_generalising_members():
    df = proxy_table(True).assign(t_grok=NAN)
    assert judge("P2-l2proxy", df)["verdict"] == INCONCLUSIVE


# ------------------------------------------------------------------------------ P2-scaling
def scaling_table(slope, decades=3, seeds=4, noise=0.05):
    rng = np.random.default_rng(0)
    ab = np.logspace(-6, -6 + decades, 4)
    rows = [{"problem": "sparse", "seed": s, "alpha_beta": a, "delay": 10.0 * a ** slope * np.exp(noise * rng.standard_normal())}
            for s in range(seeds) for a in ab]
    return pd.DataFrame(rows)


def test_p2_scaling_reproduced_when_slope_is_minus_one():
    row = judge("P2-scaling", scaling_table(-1.0), n_boot=50)
    assert row["verdict"] == REPRODUCED and -1.1 < row["ci_low"] <= row["ci_high"] < -0.9


def test_p2_scaling_not_reproduced_when_slope_is_minus_half():
    assert judge("P2-scaling", scaling_table(-0.5), n_boot=50)["verdict"] == NOT_REPRODUCED


def test_p2_scaling_inconclusive_when_range_spans_less_than_two_decades():
    row = judge("P2-scaling", scaling_table(-1.0, decades=1), n_boot=50)
    assert row["verdict"] == INCONCLUSIVE and "decades" in row["note"]


def test_p2_scaling_leaves_unrecoverable_instances_out():
    df = scaling_table(-1.0)
    df["recoverable"] = df.seed != 3
    df.loc[df.seed == 3, "delay"] = NAN          # that instance never recovers: not a censored delay
    row = judge("P2-scaling", df, n_boot=50)
    assert row["verdict"] == REPRODUCED and row["extra"]["n_unrecoverable"] == 4


def two_problems(sparse_slope, matrix_slope, matrix_decades=2):
    sp = scaling_table(sparse_slope).assign(problem="sparse")
    mc = scaling_table(matrix_slope, decades=matrix_decades).assign(problem="matrix")
    return pd.concat([sp, mc], ignore_index=True)


def test_p2_scaling_reproduced_when_both_slopes_are_minus_one():
    row = judge("P2-scaling", two_problems(-1.0, -1.0), n_boot=50)
    assert row["verdict"] == REPRODUCED and set(row["extra"]["parts"]) == {"sparse", "matrix"}


def test_p2_scaling_not_reproduced_when_the_matrix_slope_fails():
    row = judge("P2-scaling", two_problems(-1.0, -0.4), n_boot=50)
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["parts"]["sparse"]["verdict"] == REPRODUCED


def test_p2_scaling_inconclusive_when_the_matrix_range_is_short():
    row = judge("P2-scaling", two_problems(-1.0, -1.0, matrix_decades=1), n_boot=50)
    assert row["verdict"] == INCONCLUSIVE and row["extra"]["parts"]["matrix"]["verdict"] == INCONCLUSIVE


def test_p2_scaling_leaves_out_an_alpha_beta_with_a_censored_member():
    df = scaling_table(-1.0, decades=3)
    df.loc[(df.seed == 0) & (df.alpha_beta == df.alpha_beta.min()), "delay"] = NAN   # still moving at the budget
    row = judge("P2-scaling", df, n_boot=50)
    assert len(row["extra"]["censored_alpha_beta"]) == 1 and row["extra"]["decades"] == pytest.approx(2.0)


# ------------------------------------------------------------------------------ P2-depth
def depth_table(t2_by_L, seeds=3, budget=20_000):
    rows = [{"L_depth": L, "seed": s, "t_train": 1000.0, "t_grok": t2, "budget": budget, "dnf": ""}
            for L, t2 in t2_by_L.items() for s in range(seeds)]
    return pd.DataFrame(rows)


def test_p2_depth_reproduced_when_delay_shrinks_with_depth():
    row = judge("P2-depth", depth_table({1: NAN, 2: 3000.0, 3: 1100.0, 4: 1050.0}))
    assert row["verdict"] == REPRODUCED, row


def test_p2_depth_not_reproduced_when_depth_does_not_generalise():
    assert judge("P2-depth", depth_table({1: NAN, 2: NAN, 3: NAN}))["verdict"] == NOT_REPRODUCED


def test_p2_depth_scores_l2_and_deeper_parts():
    # L = 2 with a small delay but L > 2 still delayed: that part fails
    row = judge("P2-depth", depth_table({1: NAN, 2: 3000.0, 3: 5000.0}))
    assert row["verdict"] == PARTIALLY_REPRODUCED and row["extra"]["parts"] == {"L=1": REPRODUCED, "L=2": REPRODUCED, "L>2": NOT_REPRODUCED}
    # L = 2 with a large delay (T2/T1 = 15) fails its part
    row = judge("P2-depth", depth_table({1: NAN, 2: 15_000.0, 3: 1100.0}))
    assert row["extra"]["parts"]["L=2"] == NOT_REPRODUCED and row["verdict"] == PARTIALLY_REPRODUCED


def test_p2_depth_inconclusive_when_the_budget_ends_soon_after_t1():
    df = depth_table({1: NAN, 2: 3000.0, 3: 1100.0})
    df.loc[df.L_depth == 2, ["t_train", "t_grok"]] = [5000.0, NAN]     # budget 20k < 10 x T1
    row = judge("P2-depth", df)
    assert row["extra"]["parts"]["L=2"] == INCONCLUSIVE and row["verdict"] == INCONCLUSIVE


def test_p2_depth_inconclusive_when_a_depth_never_memorises():
    df = depth_table({1: NAN, 2: 3000.0, 3: 1100.0})
    df.loc[df.L_depth == 3, ["t_train", "t_grok"]] = NAN
    assert judge("P2-depth", df)["verdict"] == INCONCLUSIVE


def test_p2_depth_a_member_waiting_past_the_bar_can_no_longer_pass():
    """L = 3 at a long budget, as 10^7 steps gave: of 7 memorised members two generalised with a
    delay (T2/T1 2.2, 3.8), four wait far past 2 x T1 and one memorised late (budget < 2 x T1).
    Even if that one passed, 1 of 7 is no majority: the part is decided."""
    df = depth_table({1: NAN, 2: 3000.0, 3: NAN}, seeds=7, budget=10_000_000)
    deep = df.L_depth == 3
    df.loc[deep, "t_train"] = [8.7e6, 4.2e5, 2.2e6, 1.7e6, 2.5e6, 8.2e5, 2.0e6]
    df.loc[deep & df.seed.isin([1, 5]), "t_grok"] = [9.2e5, 3.1e6]
    row = judge("P2-depth", df)
    assert row["extra"]["parts"]["L>2"] == NOT_REPRODUCED, row
    # four members memorised late enough to pass yet: with the two that did not, no decision
    df.loc[deep & df.seed.isin([0, 2, 3, 4]), "t_train"] = 6e6
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == INCONCLUSIVE
    # four of seven generalised without delay: reproduced, whatever the others do
    df.loc[deep & df.seed.isin([0, 2, 3, 4]), ["t_train", "t_grok"]] = [1e6, 1.5e6]
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == REPRODUCED


def test_p2_depth_a_decided_majority_ignores_a_waiting_member_of_unknown_budget():
    """Four of five memorised members passed: one still waiting, whose budget is not recorded,
    cannot undo that majority (a part with no majority yet and such a member stays inconclusive)."""
    df = depth_table({1: NAN, 2: 3000.0, 3: 1100.0}, seeds=5)
    df.loc[(df.L_depth == 3) & (df.seed == 0), ["t_grok", "budget"]] = [NAN, NAN]
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == REPRODUCED
    df.loc[(df.L_depth == 3) & df.seed.isin([1, 2]), "t_grok"] = 5000.0      # 2 of 5 pass: no majority yet
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == INCONCLUSIVE


def test_p2_depth_needs_a_majority_below_the_bar_not_a_median():
    """4 of 7 generalised, three of them without delay and one at T2/T1 = 3: the median of the
    generalised is below 2, but only 3 of 7 members passed, and the rest wait past 2 x T1."""
    df = depth_table({1: NAN, 2: 3000.0, 3: NAN}, seeds=7)
    deep = df.L_depth == 3
    df.loc[deep & (df.seed < 3), "t_grok"] = 1500.0
    df.loc[deep & (df.seed == 3), "t_grok"] = 3000.0
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == NOT_REPRODUCED
    df.loc[deep & (df.seed == 3), "t_grok"] = 1900.0              # the fourth without delay too
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == REPRODUCED


def test_p2_depth_names_the_budget_a_slow_start_needs():
    """L = 3 still in its slow start: the note extrapolates train error as 1/t to the budget at
    which 3 members would have memorised (the third smallest budget x error / tol)."""
    df = depth_table({1: NAN, 2: 3000.0, 3: 1100.0}, seeds=4).assign(tol=1e-3, final_train_err=1e-4)
    slow = df.L_depth == 3
    df.loc[slow, ["t_train", "t_grok"]] = NAN
    df.loc[slow, "final_train_err"] = [4e-3, 1e-2, 2e-3, 5e-2]          # none memorised by 20k steps
    row = judge("P2-depth", df)
    assert row["verdict"] == INCONCLUSIVE and "L=3: 0 of 4 memorised" in row["note"]
    assert p2.rules.memorise_budget(df[slow], 3) == pytest.approx(20_000 * 1e-2 / 1e-3)
    assert "about 2.0e+05 steps" in row["note"]
    df.loc[slow & (df.seed == 0), "t_train"] = 9000.0                    # one memorised: two more needed
    assert p2.rules.memorise_budget(df[slow], 3) == pytest.approx(20_000 * 1e-2 / 1e-3)
    assert p2.rules.memorise_budget(df[slow], 1) == 9000.0
    df.loc[slow & (df.seed == 1), "t_train"] = 4000.0                    # two memorised: the 2nd is the later
    assert p2.rules.memorise_budget(df[slow], 1) == 4000.0 and p2.rules.memorise_budget(df[slow], 2) == 9000.0


# ------------------------------------------------------------------------------ P2-select
def select_members(mc_sign, cs_sign, taus=(0.0, 0.25, 0.5, 0.75, 1.0), seeds=5, budget=20_000, noise=0.15):
    """A member table as `p2.selection_table` gives it: T2 (`t_select`) grows with tau by `sign`,
    with per-member noise, so each instance's rho is near sign's direction but not exactly."""
    rng = np.random.default_rng(1)
    rows = []
    for prob, sign in (("matrix completion", mc_sign), ("compressed sensing", cs_sign)):
        for s in range(seeds):
            for t in taus:
                rows.append({"problem": prob, "N": 70, "tau": t, "seed": s, "recoverable": True, "budget": budget,
                             "t_select": 5000.0 * (1 + sign * t) * np.exp(noise * rng.standard_normal())})
    return pd.DataFrame(rows)


def test_p2_select_reproduced_with_the_predicted_directions():
    row = judge("P2-select", p2.selection_instances(select_members(-0.8, +0.8)))
    assert row["verdict"] == REPRODUCED and row["extra"]["instances"]["matrix completion"] == 5
    lo, hi = row["extra"]["ci"]["matrix completion"]
    assert lo <= row["extra"]["rho"]["matrix completion"] <= hi < 0


def test_p2_select_not_reproduced_when_directions_are_reversed():
    row = judge("P2-select", p2.selection_instances(select_members(+0.8, -0.8)))
    assert row["verdict"] == NOT_REPRODUCED


def test_p2_select_partially_when_one_problem_goes_the_other_way():
    row = judge("P2-select", p2.selection_instances(select_members(-0.8, -0.3)))
    assert row["extra"]["parts"]["compressed sensing"] == NOT_REPRODUCED and row["verdict"] == PARTIALLY_REPRODUCED


def test_p2_select_inconclusive_with_too_few_instances():
    row = judge("P2-select", p2.selection_instances(select_members(-0.8, +0.8, seeds=2)))
    assert row["verdict"] == INCONCLUSIVE


def test_p2_select_ranks_never_generalised_members_slowest():
    # matrix completion at tau = 0 never generalises (t_select = budget + 1): still the slowest, rho < 0
    df = select_members(0.0, +0.8, noise=0.3)
    slow = (df.problem == "matrix completion") & (df.tau == 0.0)
    df.loc[slow, "t_select"] = df.budget + 1
    row = judge("P2-select", p2.selection_instances(df))
    assert row["extra"]["parts"]["matrix completion"] != REPRODUCED or row["extra"]["rho"]["matrix completion"] < 0
    assert row["extra"]["n_never"] == 5


def test_p2_select_leaves_out_members_and_settings_that_cannot_recover():
    # compressed sensing at tau = 1 cannot recover (every instance): the setting is left out whole;
    # counted, its members (never generalised) would give the predicted rho > 0 by construction.
    df = select_members(-0.8, -0.3)
    cs1 = (df.problem == "compressed sensing") & (df.tau == 1.0)
    df["recoverable"] = ~cs1
    df.loc[cs1, "t_select"] = df.budget + 1
    # one matrix member whose instance has a row seen fewer than rank times: left out and counted
    df.loc[(df.problem == "matrix completion") & (df.seed == 0) & (df.tau == 0.5), "recoverable"] = False
    inst = p2.selection_instances(df)
    row = judge("P2-select", inst)
    assert row["extra"]["parts"]["compressed sensing"] == NOT_REPRODUCED
    assert row["extra"]["n_unrecoverable"] == 6 and row["extra"]["n_settings_left_out"] == 5
    assert inst.loc[(inst.problem == "matrix completion") & (inst.seed == 0), "n_tau"].item() == 4


def test_p2_scaling_slope_ci_matches_a_plain_refit_per_resample():
    from grokcore.claims import stats
    df = scaling_table(-0.9, noise=0.3)
    point, lo, hi = stats.slope_ci(df, x="alpha_beta", y="delay", n_boot=2000)
    assert abs(point - stats.loglog_slope(df["alpha_beta"], df["delay"])) < 1e-9
    seeds = np.array(sorted(df["seed"].unique()))
    rng = np.random.default_rng(1)
    refits = [stats.loglog_slope(*pd.concat([df[df.seed == s] for s in rng.choice(seeds, len(seeds))])
                                 [["alpha_beta", "delay"]].to_numpy().T) for _ in range(2000)]
    ref_lo, ref_hi = np.quantile(refits, [0.025, 0.975])
    assert abs(lo - ref_lo) < 0.05 and abs(hi - ref_hi) < 0.05


def test_p2_norm_change_reads_norms_between_records_and_keeps_only_generalisers():
    import xarray as xr
    steps = np.array([0, 100, 200, 300])
    ds = xr.Dataset({"l2_norm": (("member", "step"), [[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]),
                     "l1_norm": (("member", "step"), [[8.0, 6.0, 4.0, 2.0], [1.0, 1.0, 1.0, 1.0]])},
                    coords={"step": steps, "seed": ("member", [0, 1])})
    t = p2.norm_change(ds, t_train=[50.0, 50.0], t_grok=[250.0, NAN], beta=[1e-4, 1e-4], budget=300, problem="sparse")
    assert t["member"].tolist() == [0] and t["problem"].tolist() == ["sparse"]
    assert t.loc[0, ["l2_train", "l2_grok", "l1_train", "l1_grok"]].tolist() == [1.5, 3.5, 7.0, 3.0]
    assert p2.l2proxy_rule(pd.concat([t.assign(seed=s) for s in range(10)])).verdict == REPRODUCED
    assert p2.l2proxy_rule(pd.concat([t, t.assign(seed=1)])).verdict == INCONCLUSIVE   # 2/2 cannot show 2/3


def test_p2_depth_counts_only_members_that_memorised():
    # L = 4 still in its slow start at the budget: no evidence either way, so L > 2 is judged on L = 3
    df = depth_table({1: NAN, 2: 3000.0, 3: 1100.0, 4: NAN})
    df.loc[df.L_depth == 4, "t_train"] = NAN
    row = judge("P2-depth", df)
    assert row["extra"]["parts"]["L>2"] == REPRODUCED and row["verdict"] == REPRODUCED
    df.loc[df.L_depth == 3, "t_grok"] = NAN                     # L = 3 memorised and never generalised
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == NOT_REPRODUCED


def test_p2_depth_part_needs_three_memorised_members():
    # one L = 3 member out of its slow start says nothing for the depth, whichever way it went
    df = depth_table({1: NAN, 2: 3000.0, 3: 2500.0}, seeds=8)
    df.loc[(df.L_depth == 3) & (df.seed > 0), ["t_train", "t_grok"]] = NAN
    row = judge("P2-depth", df)
    assert row["extra"]["parts"]["L>2"] == INCONCLUSIVE and row["verdict"] == INCONCLUSIVE
    df.loc[(df.L_depth == 3) & (df.seed < 3), ["t_train", "t_grok"]] = [1000.0, 2500.0]  # three: delayed
    assert judge("P2-depth", df)["extra"]["parts"]["L>2"] == NOT_REPRODUCED
