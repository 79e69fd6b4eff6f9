"""P3's verdict rules on synthetic member tables: each can come out reproduced and not reproduced."""
import math

import numpy as np
import pandas as pd

from grokcore.claims import ledger, p3, rules
from grokcore.claims.rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE

NAN = math.nan
GROK = (100.0, 1000.0)      # memorised at 100, generalised at 1000: grokked
NO_DELAY = (100.0, 150.0)   # generalised without delay
STUCK = (100.0, NAN)        # memorised, never generalised within the budget
NEVER = (NAN, NAN)          # never memorised


def judge(cid, df, **opts):
    return ledger.judge(cid, df, n_resamples=20, **opts)


def members(spec, budget=10_000, gain=0.0, at=0.5, chance=1 / 97, **labels):
    """Rows from (t_train, t_grok) pairs; `gain`: train accuracy gained over the run's last quarter;
    `at`: test accuracy at T_train (memorised members); `chance`: 1/p."""
    rows = []
    for i, (tr, te) in enumerate(spec):
        dnf = "" if np.isfinite(te) else ("DNF_te" if np.isfinite(tr) else "DNF_tr")
        rows.append({"seed": i, "t_train": tr, "t_grok": te, "dnf": dnf, "budget": float(budget),
                     "final_train_acc": 1.0 if np.isfinite(tr) else 0.9,
                     "final_test_acc": 0.995 if np.isfinite(te) else 0.6, "train_acc_gain": gain,
                     "test_at_train": at if np.isfinite(tr) else NAN, "chance": chance, **labels})
    return pd.DataFrame(rows)


def grok(delay, tr=100.0):
    return (tr, tr + delay)


# ------------------------------------------------------------------------------ P3-frac
def frac_table(spec_by_alpha, budget=10_000):
    return pd.concat([members(s, budget, frac=a) for a, s in spec_by_alpha.items()], ignore_index=True)


PAPER_SHAPE = {0.2: [STUCK] * 3, 0.3: [STUCK] * 3,                         # no generalisation
               0.4: [grok(d) for d in (1500, 1700, 1600)],
               0.5: [grok(d) for d in (3000, 3300, 3100)],                  # the peak
               0.6: [grok(d) for d in (1200, 1000, 1100)],
               0.8: [NO_DELAY] * 3, 0.9: [NO_DELAY] * 3}


def test_p3_frac_reproduced_when_the_censored_peak_is_at_half_and_high_alpha_has_no_delay():
    row = judge("P3-frac", frac_table(PAPER_SHAPE))
    assert row["verdict"] == REPRODUCED
    assert row["extra"]["peak"] == 0.5 and 0.4 <= row["ci_low"] <= row["ci_high"] <= 0.6


def test_p3_frac_a_monotone_delay_curve_locates_no_peak():
    # every alpha finishes and the delay keeps growing as alpha falls: the maximum is the grid's first
    # alpha; it locates no peak, but one at or below 0.2 is outside the band whatever lies below
    spec = {0.2: [grok(d) for d in (8000, 8500, 8200)], 0.3: [grok(d) for d in (5000, 5200, 5100)],
            0.5: [grok(d) for d in (2000, 2100, 2200)], 0.8: [NO_DELAY] * 3, 0.9: [NO_DELAY] * 3}
    row = judge("P3-frac", frac_table(spec))
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["shape"] == "first" and math.isnan(row["extra"]["peak"])
    assert "at or below 0.2" in row["note"] and "doubling it" not in row["note"]
    # the same below the band with the low alphas unfinished: the peak is at or below 0.3
    spec = {0.2: [STUCK] * 3, 0.3: [grok(d) for d in (5000, 5200, 5100)], 0.4: [grok(d) for d in (1300, 1400, 1250)],
            0.5: [grok(d) for d in (350, 400, 300)], 0.8: [NO_DELAY] * 3, 0.9: [NO_DELAY] * 3}
    row = judge("P3-frac", frac_table(spec))
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["largest"] == 0.3 and row["extra"]["budget_edge"] is False
    # the quick build's shape: unfinished at low alpha, then a delay that only falls
    spec = {0.2: [STUCK] * 3, 0.3: [STUCK] * 3, 0.4: [grok(d) for d in (1300, 1400, 1250)],
            0.5: [grok(d) for d in (350, 400, 300)], 0.6: [grok(d) for d in (250, 300, 275)],
            0.8: [NO_DELAY] * 3, 0.9: [NO_DELAY] * 3}
    row = judge("P3-frac", frac_table(spec).assign(member_step_s=0.01))
    assert row["verdict"] == INCONCLUSIVE and row["extra"]["largest"] == 0.4 and row["extra"]["budget_edge"] is True
    assert "doubling it to" in row["note"] and "CPU minutes" in row["note"]


def test_p3_frac_a_delay_that_does_not_fall_above_its_maximum_is_no_peak():
    assert list(p3.rules._shape([[100.0, 200.0, 300.0]])) == ["no fall above"]
    assert list(p3.rules._shape([[np.inf, 300.0, 200.0, 100.0]])) == ["first"]
    assert list(p3.rules._shape([[100.0, np.inf, 200.0]])) == ["interior"]   # censored delays count as long
    assert list(p3.rules._shape([[np.inf, np.inf]])) == ["none"]
    np.testing.assert_array_equal(p3.rules._peaks([0.2, 0.4, 0.6], [[100.0, 300.0, 50.0], [300, 200, 100]]), [0.4, np.nan])


def test_p3_frac_not_reproduced_when_the_peak_is_clearly_below_the_band():
    spec = {0.2: [grok(d) for d in (500, 550, 600)], 0.3: [grok(d) for d in (5000, 5200, 5100)],   # the peak
            0.4: [grok(d) for d in (2000, 2100, 2200)], 0.5: [grok(d) for d in (1000, 1100, 1050)],
            0.8: [NO_DELAY] * 3, 0.9: [NO_DELAY] * 3}
    row = judge("P3-frac", frac_table(spec))
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["peak"] == 0.3 and row["ci_high"] < 0.4


def test_p3_frac_diverged_members_fail_the_gate():
    df = frac_table(PAPER_SHAPE)
    df.loc[0, "dnf"] = "diverged"
    row = judge("P3-frac", df)
    assert row["verdict"] == INCONCLUSIVE and row["raw_verdict"] == REPRODUCED and "FAILS" in row["gate"]


def test_p3_frac_unfinished_alpha_above_a_finishing_one_is_the_peak_not_dropped():
    spec = PAPER_SHAPE | {0.3: [grok(d) for d in (1000, 1100, 1050)], 0.2: [STUCK] * 3}
    spec[0.4] = [STUCK] * 3      # censored above 0.3: its delay exceeds the budget
    spec[0.5] = [grok(d) for d in (900, 950, 1000)]
    row = judge("P3-frac", frac_table(spec))
    assert row["extra"]["peak"] == 0.4   # in the band, from the censored delay rather than a drop


def test_p3_frac_not_reproduced_when_high_alpha_still_groks_with_delay():
    spec = PAPER_SHAPE | {0.8: [grok(d) for d in (2000, 2100, 2200)], 0.9: [grok(d) for d in (1500, 1600, 1700)]}
    row = judge("P3-frac", frac_table(spec))
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["peak_verdict"] == REPRODUCED


def test_p3_frac_high_alpha_censored_is_a_delay_and_tiny_delay_is_none():
    spec = PAPER_SHAPE | {0.8: [STUCK] * 3}
    assert p3.fraction_rule(frac_table(spec)).extra["high_verdict"] == PARTIALLY_REPRODUCED
    spec = PAPER_SHAPE | {0.8: [grok(d) for d in (150, 160, 170)]}   # grokked, but < 10% of the peak
    assert p3.fraction_rule(frac_table(spec)).verdict == REPRODUCED


def test_p3_frac_inconclusive_when_too_few_alphas_finish():
    spec = {a: [STUCK] * 3 for a in (0.2, 0.3, 0.5, 0.6)} | {0.8: [NO_DELAY] * 3}
    assert p3.fraction_rule(frac_table(spec)).verdict == INCONCLUSIVE
    spec = {0.2: [grok(5000)] * 3, 0.3: [grok(4000)] * 3, 0.8: [NO_DELAY] * 3}   # nothing in the band
    assert p3.fraction_rule(frac_table(spec)).verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------ P3-arch
def arch_table(mlp, lstm, budget=10_000, wd=0.0, at=0.5, lstm_train=0.9, lstm_test=0.6, gain=0.0):
    ls = members(lstm, budget, gain=gain, arch="LSTM", wd=wd)
    ls.loc[~np.isfinite(ls["t_train"]), "final_train_acc"] = lstm_train
    ls["final_test_acc"] = lstm_test
    return pd.concat([members(mlp, budget, at=at, arch="MLP", wd=wd), ls,
                      members([GROK] * 3, budget, arch="transformer", wd=wd)], ignore_index=True)


def test_p3_arch_reproduced_when_mlp_rises_together_and_lstm_never_memorises():
    row = judge("P3-arch", arch_table([NO_DELAY] * 3, [NEVER] * 3))
    assert row["verdict"] == REPRODUCED and "rise together" in row["extra"]["mlp"]
    assert row["extra"]["lstm_verdict"] == REPRODUCED
    # memorised and never reached 99% test, but test had risen well above chance by T_train: rising together
    assert p3.arch_rule(arch_table([STUCK] * 3, [NEVER] * 3, at=0.4)).extra["mlp_verdict"] == REPRODUCED


def test_p3_arch_mlp_whose_test_stays_at_chance_does_not_rise_with_train():
    row = judge("P3-arch", arch_table([STUCK] * 3, [NEVER] * 3, at=0.0))
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["mlp_verdict"] == NOT_REPRODUCED
    assert "stayed near chance" in row["extra"]["mlp"]
    mixed = arch_table([STUCK] * 3, [NEVER] * 3, at=0.0)
    mixed.loc[0, "test_at_train"] = 0.5
    assert p3.arch_rule(mixed).extra["mlp_verdict"] == PARTIALLY_REPRODUCED
    never = arch_table([NEVER] * 3, [NEVER] * 3)
    assert p3.arch_rule(never).extra["mlp_verdict"] == INCONCLUSIVE


def test_p3_arch_lstm_test_at_chance_is_open_below_the_papers_budget_and_fails_at_it():
    short = p3.arch_rule(arch_table([NO_DELAY] * 3, [NEVER] * 3, budget=5000, lstm_test=0.007))
    assert short.extra["lstm_verdict"] == INCONCLUSIVE and short.verdict == INCONCLUSIVE
    assert "below the paper's" in short.extra["lstm"]
    full = judge("P3-arch", arch_table([NO_DELAY] * 3, [NEVER] * 3, budget=100_000, lstm_test=0.007))
    assert full["verdict"] == NOT_REPRODUCED and full["extra"]["lstm_verdict"] == NOT_REPRODUCED


def test_p3_arch_lstm_train_level_judged_on_a_plateau_only():
    still = p3.arch_rule(arch_table([NO_DELAY] * 3, [NEVER] * 3, budget=5000, lstm_train=0.5, gain=0.2))
    assert still.extra["lstm_verdict"] == INCONCLUSIVE        # still learning at a budget below the paper's
    flat = p3.arch_rule(arch_table([NO_DELAY] * 3, [NEVER] * 3, budget=5000, lstm_train=0.5, gain=0.0))
    assert flat.extra["lstm_verdict"] == NOT_REPRODUCED and flat.verdict == NOT_REPRODUCED
    rising = p3.arch_rule(arch_table([NO_DELAY] * 3, [NEVER] * 3, budget=5000, gain=0.2))
    assert rising.extra["lstm_verdict"] == INCONCLUSIVE       # ~0.9 but still rising: it may yet memorise


def test_p3_arch_not_reproduced_when_mlp_groks_or_lstm_memorises():
    assert judge("P3-arch", arch_table([GROK] * 3, [NEVER] * 3))["verdict"] == NOT_REPRODUCED
    assert judge("P3-arch", arch_table([NO_DELAY] * 3, [STUCK, STUCK, NEVER]))["raw_verdict"] == NOT_REPRODUCED  # 3 members: fragile


def test_p3_arch_diverged_members_fail_the_gate():
    df = arch_table([NO_DELAY] * 3, [NEVER] * 3)
    df.loc[0, "dnf"] = "diverged"
    row = judge("P3-arch", df)
    assert row["verdict"] == INCONCLUSIVE and row["raw_verdict"] == REPRODUCED and "FAILS" in row["gate"]


def test_train_acc_gain_is_the_rise_over_the_last_quarter():
    import xarray as xr
    acc = np.array([[0.1, 0.5, 0.8, 0.9, 0.95], [0.1, 0.5, 0.6, 0.6, 0.6]])
    ds = xr.Dataset({"train_acc": (("member", "step"), acc)}, coords={"step": [0, 100, 200, 300, 400]})
    np.testing.assert_allclose(p3.train_acc_gain(ds), [0.05, 0.0])
    np.testing.assert_allclose(p3.train_acc_gain(ds, tail=0.5), [0.15, 0.0])


def test_p3_arch_judges_only_members_without_weight_decay():
    df = pd.concat([arch_table([NO_DELAY] * 3, [NEVER] * 3), arch_table([GROK] * 3, [GROK] * 3, wd=1.0)])
    assert p3.arch_rule(df).verdict == REPRODUCED
    assert p3.arch_rule(arch_table([NEVER] * 3, [NEVER] * 3)).verdict == INCONCLUSIVE


def test_test_at_train_reads_test_accuracy_where_train_first_memorised():
    import xarray as xr
    ds = xr.Dataset({"test_acc": (("member", "step"), np.array([[0.0, 0.2, 0.5], [0.0, 0.1, 0.1]])),
                     "t_train": ("member", [100.0, NAN])}, coords={"step": [0, 100, 200]})
    np.testing.assert_allclose(p3.test_at_train(ds), [0.2, NAN])


# ------------------------------------------------------------------------------ P3-opt
def opt_table(scores, t_train=150.0, fracs=(0.5, 0.8), n=3):
    """scores: optimizer -> best test accuracy (each member jittered by +-0.005)."""
    rows = []
    for opt, acc in scores.items():
        for a in fracs:
            for s in range(n):
                rows.append({"optimizer": opt, "frac": a, "seed": s, "best_test_acc": acc + 0.005 * (s - 1),
                             "t_train": t_train, "t_grok": NAN, "budget": 1800.0, "dnf": ""})
    return pd.DataFrame(rows)


OTHERS = {"Adam lr 0.001": 0.6, "Adam lr 0.003": 0.7, "Adam minibatch 128": 0.65}


def test_p3_opt_reproduced_when_adamw_wins_clearly_and_memorises_fast():
    row = judge("P3-opt", opt_table({"AdamW wd 1": 0.95, "AdamW wd 1 minibatch 128": 0.9, **OTHERS}))
    assert row["verdict"] == REPRODUCED and row["extra"]["rival"] == "Adam lr 0.003"


def test_p3_opt_a_tie_is_not_a_win():
    row = judge("P3-opt", opt_table({"AdamW wd 1": 0.705, **OTHERS}))
    assert row["extra"]["win"] == PARTIALLY_REPRODUCED and row["verdict"] == PARTIALLY_REPRODUCED


def test_p3_opt_not_reproduced_when_another_variant_is_better_and_memorisation_is_slow():
    row = judge("P3-opt", opt_table({"AdamW wd 1": 0.5, **OTHERS}, t_train=NAN))
    assert row["verdict"] == NOT_REPRODUCED and row["extra"]["speed"] == NOT_REPRODUCED


def test_p3_opt_inconclusive_when_nothing_generalises_or_the_ci_crosses_the_margin():
    df = opt_table({"AdamW wd 1": 0.1, "Adam lr 0.001": 0.05})
    assert p3.optimizer_rule(df, chance=1 / 47).extra["win"] == INCONCLUSIVE
    df = opt_table({"AdamW wd 1": 0.72, **OTHERS})
    df.loc[(df["optimizer"] == "AdamW wd 1") & (df["seed"] == 0), "best_test_acc"] = 0.6
    assert p3.optimizer_rule(df).extra["win"] == INCONCLUSIVE


def test_p3_frac_flags_a_peak_whose_place_the_budget_sets():
    assert p3.fraction_rule(frac_table(PAPER_SHAPE)).extra["budget_edge"] is False   # 0.4 finishes below 0.5
    spec = {k: v for k, v in PAPER_SHAPE.items() if k != 0.4}
    row = p3.fraction_rule(frac_table(spec))
    assert row.extra["budget_edge"] is True and "the budget sets its place" in row.note and row.verdict == INCONCLUSIVE


def test_step_counts_print_as_integers_in_notes():
    assert p3.fmt_steps(2150.0) == "2,150" and p3.fmt_steps(math.inf) == "> budget" and p3.fmt_steps(NAN) == "n/a"


def test_p3_opt_memorisation_speed_is_only_tested_at_the_papers_width():
    scores = {"AdamW wd 1": 0.95, "AdamW wd 1 minibatch 128": 0.9, **OTHERS}
    narrow = opt_table(scores).assign(d_model=32, member_step_s=0.01)
    row = judge("P3-opt", narrow)
    assert row["extra"]["win"] == REPRODUCED and row["extra"]["speed"] == INCONCLUSIVE
    assert row["verdict"] == INCONCLUSIVE and "not tested" in row["note"] and "CPU minutes" in row["note"]
    assert judge("P3-opt", opt_table(scores).assign(d_model=128))["verdict"] == REPRODUCED
    slow = opt_table({"AdamW wd 1": 0.5, **OTHERS}, t_train=NAN).assign(d_model=128)
    assert judge("P3-opt", slow)["verdict"] == NOT_REPRODUCED
