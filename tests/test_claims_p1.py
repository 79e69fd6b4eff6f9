"""P1's verdict rules on synthetic member tables: each can come out reproduced and not reproduced."""
import math

import numpy as np
import pandas as pd

from grokcore.claims import ledger, p1
from grokcore.claims.rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE

NAN = math.nan


def members(spec, budget=10_000, **labels):
    """Rows from (t_train, t_grok) pairs; NaN t_grok = memorised, never generalised."""
    rows = []
    for i, (tr, te) in enumerate(spec):
        dnf = "" if np.isfinite(te) else ("DNF_te" if np.isfinite(tr) else "DNF_tr")
        rows.append({"seed": i, "t_train": tr, "t_grok": te, "dnf": dnf, "budget": float(budget),
                     "final_test_acc": 0.995 if np.isfinite(te) else 0.3, **labels})
    return pd.DataFrame(rows)


GROK = (100.0, 1000.0)      # memorised at 100, generalised at 1000: grokked
NO_DELAY = (100.0, 120.0)   # generalised without delay
STUCK = (100.0, NAN)        # memorised, never generalised
def grok(delay, tr=100.0):
    return (tr, tr + delay)


# ------------------------------------------------------------------------------ P1-canonical
def test_p1_canonical_reproduced_when_seed0_groks_in_the_windows():
    df = members([(1500.0, 33500.0)], budget=400_000)
    assert p1.canonical_rule(df, paper_setting=True).verdict == REPRODUCED


def test_p1_canonical_judges_the_replications_seed():
    """Under a seed offset the canonical run's seed is 0 + K: the rule reads the table's lowest seed."""
    df = members([(1500.0, 33500.0)], budget=400_000).assign(seed=100)
    v = p1.canonical_rule(df, paper_setting=True)
    assert v.verdict == REPRODUCED and v.extra["seed"] == 100
    assert p1.canonical_rule(df, seed=0, paper_setting=True).our_value == "not run"


def test_p1_canonical_not_reproduced_when_seed0_does_not_grok():
    assert p1.canonical_rule(members([(1500.0, 1600.0)], budget=400_000), paper_setting=True).verdict == NOT_REPRODUCED
    assert p1.canonical_rule(members([(1500.0, NAN)], budget=400_000), paper_setting=True).verdict == NOT_REPRODUCED


def test_p1_canonical_partial_outside_windows_and_inconclusive_off_setting():
    df = members([(1500.0, 90_000.0)], budget=400_000)
    assert p1.canonical_rule(df, paper_setting=True).verdict == PARTIALLY_REPRODUCED
    assert p1.canonical_rule(members([(1500.0, 33500.0)]), paper_setting=False).verdict == INCONCLUSIVE
    assert p1.canonical_rule(members([(1500.0, NAN)], budget=20_000), paper_setting=True).verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P1-depth
def depth_table(d2, d4, d8):
    return pd.concat([members(d2, config="d=2"), members(d4, config="d=4"), members(d8, config="d=8 residual")],
                     ignore_index=True)


def test_p1_depth_reproduced_when_counts_decide_the_pattern():
    df = depth_table([GROK] * 6, [STUCK] * 6, [GROK] * 6)
    row = ledger.judge("P1-depth", df, n_resamples=20)
    assert row["verdict"] == REPRODUCED and row["extra"]["grokked_d=4"] == 0


def test_p1_depth_inconclusive_when_counts_of_five_cannot_decide_the_papers_own_pattern():
    # 4/5 and 3/5 do not show a majority at the count interval: d=2 and d=8 stay undecided
    df = depth_table([GROK] * 4 + [STUCK], [STUCK] * 5, [GROK] * 3 + [STUCK] * 2)
    row = ledger.judge("P1-depth", df, n_resamples=20)
    assert row["raw_verdict"] == INCONCLUSIVE and row["extra"]["undecided"] == ["d=2", "d=8 residual"]


def test_p1_depth_not_reproduced_when_every_depth_generalises_without_delay():
    df = depth_table([NO_DELAY] * 5, [NO_DELAY] * 5, [NO_DELAY] * 5)   # d=4 "fails" to grok: 1 of 3 match
    assert p1.depth_rule(df).verdict == NOT_REPRODUCED


def test_p1_depth_partial_and_inconclusive_only_without_a_judgeable_control():
    df = depth_table([GROK] * 5, [GROK] * 5, [GROK] * 5)   # d=4 groks too: 2 of 3 match
    assert p1.depth_rule(df).verdict == PARTIALLY_REPRODUCED
    df = depth_table([STUCK] * 5, [STUCK] * 5, [STUCK] * 5)   # control never generalised
    assert p1.depth_rule(df).verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P1-arch
def arch_table(tf, mlp):
    return pd.concat([members(tf, model="Transformer"), members(mlp, model="MLP")], ignore_index=True)


def test_p1_arch_reproduced_when_delays_match_within_band():
    df = arch_table([grok(d) for d in (1000, 1100, 1050, 1120, 980)], [grok(d) for d in (950, 1000, 980, 1010, 990)])
    row = ledger.judge("P1-arch", df, n_resamples=20)
    assert row["verdict"] == REPRODUCED and 0.74 <= row["ci_low"] <= row["ci_high"] <= 1.67


def test_p1_arch_not_reproduced_when_transformer_is_far_slower():
    df = arch_table([grok(d) for d in (5000, 5200, 5100, 4900)], [grok(d) for d in (1000, 1050, 980, 1010)])
    assert p1.arch_rule(df).verdict == NOT_REPRODUCED


def test_p1_arch_censored_transformer_still_not_reproduced_but_wide_ci_inconclusive():
    df = arch_table([grok(5000), grok(5200), (100.0, NAN)], [grok(1000), grok(1020), grok(990)])
    assert p1.arch_rule(df).verdict == NOT_REPRODUCED          # the censored delay only raises the ratio
    df = arch_table([grok(200), grok(5000)], [grok(1000), grok(1020)])
    assert p1.arch_rule(df).verdict == INCONCLUSIVE      # CI wider than the band


# ------------------------------------------------------------------------------ P1-act
def act_table(b_gelu, b_relu, a_counts, n_a=5):
    parts = [members([grok(d) for d in b_gelu], regime="B", act="gelu"),
             members([grok(d) for d in b_relu], regime="B", act="relu"),
             members([GROK] * 2, regime="B", act="tanh")]
    for act, k in a_counts.items():
        parts.append(members([GROK] * k + [STUCK] * (n_a - k), regime="A", act=act))
    return pd.concat(parts, ignore_index=True)


def test_p1_act_reproduced_when_relu_4x_slower_and_regime_a_reverses():
    df = act_table([1000, 1050, 980, 1020], [4300, 4400, 4250, 4350], {"gelu": 0, "relu": 6, "tanh": 7}, n_a=8)
    row = ledger.judge("P1-act", df, n_resamples=20)
    assert row["raw_verdict"] == REPRODUCED and row["extra"]["reversal"] == REPRODUCED


def test_p1_act_reversal_undecided_at_the_papers_own_counts_of_five():
    # GELU 0/5 against ReLU 2/5 and Tanh 3/5: Fisher's exact test cannot call either "fewer"
    df = act_table([1000, 1050, 980, 1020], [4300, 4400, 4250, 4350], {"gelu": 0, "relu": 2, "tanh": 3})
    assert p1.act_rule(df).extra["reversal"] == INCONCLUSIVE


def test_p1_act_not_reproduced_when_relu_as_fast_and_no_reversal():
    df = act_table([1000, 1050, 980, 1020], [1000, 1010, 990, 1030], {"gelu": 3, "relu": 2, "tanh": 3})
    assert p1.act_rule(df).verdict == NOT_REPRODUCED


def test_p1_act_reversal_inconclusive_when_regime_a_controls_never_generalise():
    df = act_table([1000, 1050, 980, 1020], [4300, 4400, 4250, 4350], {"gelu": 0, "relu": 0, "tanh": 0})
    v = p1.act_rule(df)
    assert v.extra["reversal"] == INCONCLUSIVE and v.verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P1-wd
def wd_table(outcomes_by_lam, model="MLP", lr=1e-3, budget=10_000, n=5):
    parts = [members([o] * n, budget=budget, model=model, wd=lam, lr=lr) for lam, o in outcomes_by_lam.items()]
    return pd.concat(parts, ignore_index=True)


MLP_GRID = {1e-5: STUCK, 1e-4: GROK, 1e-3: GROK, 1e-2: (NAN, NAN)}   # lr 1: lr*wd*T = 0.1 at the bottom
TF_GRID = {0.01: STUCK, 1.0: GROK, 5.0: GROK, 100.0: (NAN, NAN)}     # the paper's best lambdas groks


def test_p1_wd_reproduced_when_both_models_have_a_bounded_window():
    df = pd.concat([wd_table(MLP_GRID, "MLP", lr=1.0), wd_table(TF_GRID, "Transformer")], ignore_index=True)
    row = ledger.judge("P1-wd", df, n_resamples=20)
    assert row["verdict"] == REPRODUCED and "passes" in row["gates"]


def test_p1_wd_inconclusive_when_the_papers_best_lambda_does_not_train():
    mlp = {**MLP_GRID, 1e-3: (NAN, NAN)}
    df = pd.concat([wd_table(mlp, "MLP", lr=1.0), wd_table(TF_GRID, "Transformer")], ignore_index=True)
    row = ledger.judge("P1-wd", df, n_resamples=20)
    assert row["verdict"] == INCONCLUSIVE and "best lambda for the MLP" in row["gate"]


def test_p1_wd_inconclusive_when_three_seeds_cannot_decide_any_lambda():
    df = pd.concat([wd_table(MLP_GRID, "MLP", lr=1.0, n=3), wd_table(TF_GRID, "Transformer", n=3)], ignore_index=True)
    assert p1.wd_rule(df).verdict == INCONCLUSIVE


def test_p1_wd_not_reproduced_when_every_lambda_groks():
    grid = {0.01: GROK, 0.1: GROK, 1.0: GROK, 10.0: GROK}
    df = pd.concat([wd_table(grid, "MLP"), wd_table(grid, "Transformer")], ignore_index=True)
    assert p1.wd_rule(df).verdict == NOT_REPRODUCED


def test_p1_wd_ignores_lambdas_too_small_to_decay_within_the_budget():
    grid = {1e-4: STUCK, 1e-3: STUCK, 0.1: GROK, 1.0: GROK, 10.0: (NAN, NAN)}   # 1e-4, 1e-3: lr*wd*T < 0.1
    v = p1.wd_rule(pd.concat([wd_table(grid, "MLP"), wd_table(grid, "Transformer")], ignore_index=True))
    assert v.verdict == PARTIALLY_REPRODUCED and "below lr*wd*T" in v.note    # judged grid 0.1..10: no failing bottom


# ------------------------------------------------------------------------------ P1-norm
def norm_table(rms_grok, rms_train, t_grok):
    parts = []
    for k, (rg, rt, tg) in enumerate(zip(rms_grok, rms_train, t_grok)):
        m = members([(100.0, tg)] * 3, config=f"c{k}")
        m["rms_at_grok"] = rg * np.array([0.98, 1.0, 1.02])
        m["rms_at_train"] = rt * np.array([0.98, 1.0, 1.02])
        m["rms_init"] = 0.05
        parts.append(m)
    return pd.concat(parts, ignore_index=True)


def test_p1_norm_reproduced_when_configs_grok_at_one_rms_over_a_range_of_steps():
    df = norm_table([0.020, 0.022, 0.021], [0.03, 0.05, 0.08], [1000, 3000, 8000])
    row = ledger.judge("P1-norm", df, n_resamples=20)
    assert row["verdict"] == REPRODUCED and row["extra"]["cv_train"] > row["extra"]["cv"]


def test_p1_norm_not_reproduced_when_rms_at_grok_differs_widely():
    df = norm_table([0.01, 0.03, 0.09], [0.03, 0.05, 0.08], [1000, 3000, 8000])
    assert p1.norm_rule(df).verdict == NOT_REPRODUCED


def test_p1_norm_inconclusive_when_configs_grok_at_the_same_step_and_partial_against_null():
    assert p1.norm_rule(norm_table([0.02, 0.022, 0.021], [0.03, 0.05, 0.08], [1000, 1100, 1200])).verdict == INCONCLUSIVE
    assert p1.norm_rule(norm_table([0.02, 0.022, 0.021], [0.02, 0.022, 0.021], [1000, 3000, 8000])).verdict == PARTIALLY_REPRODUCED


# ------------------------------------------------------------------------------ P1-fourier
def fourier_table(shares):
    parts = []
    for m, s in shares.items():
        t = members([GROK] * 3, model=m)
        t["top_share"] = s + np.array([-0.01, 0.0, 0.01])
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def test_p1_fourier_reproduced_when_shares_match_paper_and_exceed_null():
    df = fourier_table({"MLP-GELU": 0.75, "MLP-ReLU": 0.76, "Transformer": 0.97})
    row = ledger.judge("P1-fourier", df, n_resamples=20, null=0.2)
    assert row["verdict"] == REPRODUCED and row["extra"]["null"] == 0.2


def test_p1_fourier_not_reproduced_when_embeddings_look_random():
    df = fourier_table({"MLP-GELU": 0.22, "MLP-ReLU": 0.21, "Transformer": 0.25})
    assert p1.fourier_rule(df, null=0.2).verdict == NOT_REPRODUCED


def test_p1_fourier_inconclusive_when_the_null_is_too_high_to_show_the_claim():
    df = fourier_table({"MLP-GELU": 0.75, "MLP-ReLU": 0.76, "Transformer": 0.97})
    v = p1.fourier_rule(df, null=0.55)     # 1.5 x null = 0.83 > the MLP bands' lower edges
    assert v.extra["verdict_MLP-GELU"] == INCONCLUSIVE and v.verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P1-mul
def mul_table(gelu, relu):
    return pd.concat([members([grok(d) for d in gelu], act="gelu"), members([grok(d) for d in relu], act="relu")],
                     ignore_index=True)


def test_p1_mul_reproduced_when_relu_about_3_8x_slower():
    df = mul_table([1000, 1020, 990, 1010], [3800, 3850, 3750, 3820])
    row = ledger.judge("P1-mul", df, n_resamples=20)
    assert row["verdict"] == REPRODUCED and 2.55 <= row["ci_low"] <= row["ci_high"] <= 5.73


def test_p1_mul_not_reproduced_when_relu_as_fast_as_gelu():
    assert p1.mul_rule(mul_table([1000, 1020, 990, 1010], [1000, 1010, 1020, 990])).verdict == NOT_REPRODUCED


def test_p1_mul_inconclusive_with_one_member_a_side():
    assert p1.mul_rule(mul_table([1000], [3800])).verdict == INCONCLUSIVE


def _calib_rows(delays, lrs, t_train=100.0, wd=2e-3):
    return pd.DataFrame([{"config": "d=2", "seed": 0, "lr": lr, "wd": wd, "t_train": t_train,
                          "t_grok": t_train + dt, "budget": 10_000.0, "final_test_acc": 1.0}
                         for lr, dt in zip(lrs, delays)])


def test_clock_calibration_holds_when_delay_scales_as_one_over_eta_lambda():
    lrs = [0.1, 0.2, 0.4]
    d = p1.clock_calibration(_calib_rows([0.28 / (lr * 2e-3) for lr in lrs], lrs, t_train=50.0))
    assert d["clock_ok"].all() and d["shape_ok"].all()
    assert d["rescaled_delay"].round(6).nunique() == 1


def test_clock_calibration_fails_when_delay_ignores_eta_lambda_or_shape_is_lost():
    lrs = [0.1, 0.2, 0.4]
    d = p1.clock_calibration(_calib_rows([700.0, 700.0, 700.0], lrs))  # a fixed delay: no rescaling
    assert not d["clock_ok"].any()
    d = p1.clock_calibration(_calib_rows([250.0, 300.0, 350.0], lrs, t_train=100.0))  # T_grok < 5 T_train
    assert not d["shape_ok"].any()
