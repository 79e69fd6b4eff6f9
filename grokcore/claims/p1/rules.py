"""P1's verdict rules, one per claim id, registered with `claims.rules.rule`, and their constants.
Each rule is a function of a tidy per-member table (one row per member, a column naming its
configuration; `tables.py` builds them); `claims.rules.outcomes` decides what *grokked* means
(memorised, then 99% test with T_grok >= 2 T_train) and censors never-generalised members at the
budget.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import fourier
from .configs import BASELINE_SGD, PAPER_BASELINE_DELAY
from .. import stats
from ..rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE, Verdict, band_verdict, combine, counts, fmt, outcomes, rule
from ..rules import Gate, groks_at, min_grokked, min_members, no_divergence, ratio_band_verdict, trains

RATIO_FACTOR = 1.5      # ratio claims: reproduced when the 95% CI lies in [paper / 1.5, paper * 1.5]
N_BOOT = stats.N_BOOT   # bootstrap resamples inside a rule (the rule is rerun for firmness)
NORM_N_BOOT = 300       # P1-norm's resamples of its CV (each resample recomputes every config's mean)
FOURIER_N_BOOT = 500    # P1-fourier's resamples of each model's median share


def _doc(**values):
    """Fill a rule's docstring (the text the book prints) with values computed from its constants,
    so no number in it is computed by hand."""
    def deco(fn):
        fn.__doc__ = fn.__doc__.format(**values)
        return fn
    return deco


def _band_doc(paper: float, factor: float = RATIO_FACTOR):
    """`_doc` for a ratio claim: {paper}, {factor} and its band [{lo}, {hi}]."""
    return _doc(paper=f"{paper:g}", factor=f"{factor:g}", lo=fmt(paper / factor), hi=fmt(paper * factor))


# ------------------------------------------------------------------------------ shared pieces
_n_seeds = stats.n_seeds


def _groks(g: pd.DataFrame):
    """Whether a configuration *groks* as a group: at least half its members grokked, decided by
    the exact interval of its count (`stats.share_at_least`): True, False, or None when the count
    cannot tell (5/5 and 0/5 decide; 4/5, 3/5 and 2/3 do not)."""
    return stats.share_at_least(int(g["grokked"].sum()), len(g), 0.5)


def _by_completion(decided: list, n_undecided: int, verdict_of) -> str:
    """`verdict_of(number of matches)` when it is the same however the undecided parts turn out,
    else inconclusive (the same principle as `stats.combine`)."""
    k = sum(decided)
    outs = {verdict_of(k + j) for j in range(n_undecided + 1)}
    return outs.pop() if len(outs) == 1 else INCONCLUSIVE


def _judgeable(g: pd.DataFrame) -> bool:
    """A positive control can be judged when at least one member generalised within the budget
    (grokked or without delay); with none, the budget may be what stops it."""
    return bool(len(g)) and bool(g["event"].any())


def delay_ratio(num: pd.DataFrame, den: pd.DataFrame, n_boot: int = N_BOOT):
    """Ratio of mean delays num / den over memorised members, never-generalised ones censored at
    the budget (delay_c), with a bootstrap 95% CI resampling each group. A censored numerator
    makes the upper bound open (inf), a censored denominator the lower bound (0): the true ratio
    can only be further out. (point, lo, hi); NaN with fewer than 2 memorised members a side."""
    a = num["delay_c"].to_numpy(float)
    b = den["delay_c"].to_numpy(float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2 or b.mean() <= 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = stats.ratio_ci(a, b, stat=np.mean, n_boot=n_boot)
    if not num.loc[np.isfinite(num["delay_c"].to_numpy(float)), "event"].all():
        hi = math.inf
    if not den.loc[np.isfinite(den["delay_c"].to_numpy(float)), "event"].all():
        lo = 0.0
    return float(a.mean() / b.mean()), lo, hi


def ratio_verdict(lo: float, hi: float, paper: float, factor: float = RATIO_FACTOR) -> str:
    """`ratio_band_verdict` (band [paper / factor, paper * factor]) that also accepts an open
    bound from censoring: a CI wholly beyond the band is 'not reproduced' even if one bound is open."""
    if math.isfinite(lo) and lo > paper * factor:
        return NOT_REPRODUCED
    if math.isfinite(hi) and hi < paper / factor:
        return NOT_REPRODUCED
    return ratio_band_verdict(lo, hi, paper, factor)


def _ratio_claim(d: pd.DataFrame, col: str, num: str, den: str, paper: float, factor: float,
                 n_boot: int, label: str) -> Verdict:
    d = outcomes(d)
    a, b = d[d[col] == num], d[d[col] == den]
    point, lo, hi = delay_ratio(a, b, n_boot)
    if not _judgeable(b):
        v, why = INCONCLUSIVE, f"no {den} member generalised within the budget"
    elif not math.isfinite(point):
        v, why = INCONCLUSIVE, "fewer than 2 memorised members on a side"
    else:
        v, why = ratio_verdict(lo, hi, paper, factor), ""
    band = (paper / factor, paper * factor)
    note = (f"{num}: {counts(a) or 'none'}; {den}: {counts(b) or 'none'}; band {fmt(band[0])}-{fmt(band[1])} "
            f"(paper {paper:g} x/ {factor:g})" + (f"; {why}" if why else ""))
    return Verdict(v, f"{label} {fmt(point)}", lo, hi, _n_seeds(d), note,
                   {"ratio": point, "ci_low": lo, "ci_high": hi, "band_low": band[0], "band_high": band[1],
                    f"n_grokked_{num}": int(a["grokked"].sum()), f"n_grokked_{den}": int(b["grokked"].sum())})


# ------------------------------------------------------------------------------ the proxy's clock (regime gates)
@dataclass(frozen=True)
class PaperClock:
    """A model's operating point in the paper: its lr and weight decay, and the delay
    T_grok - T_train its grokked seeds took there (`delay_known`), or, for a model the paper gives
    no delay for (it never grokked, or only counts are given), the delay of the model the claim
    compares it with: a budget that covers that delay on the paper's clock would have shown it."""
    lr: float
    wd: float
    delay: float
    delay_known: bool = True

    @property
    def eta_lambda(self) -> float:
        return self.lr * self.wd

    @property
    def rescaled(self) -> float:
        """eta * lambda * delay: the slow phase's length in units of the decay time 1/(eta lambda)."""
        return self.lr * self.wd * self.delay


_BASELINE = (BASELINE_SGD["lr"], BASELINE_SGD["wd"])   # the canonical run's operating point
PAPER_CLOCK = {
    "MLP d=2": PaperClock(*_BASELINE, PAPER_BASELINE_DELAY),          # canonical run, dT ~32k
    "MLP d=4": PaperClock(*_BASELINE, PAPER_BASELINE_DELAY, False),   # 0/5 grok: budget vs d=2's delay
    "MLP d=8 residual": PaperClock(*_BASELINE, 33_333),               # 3/5 grok, mean dT 33,333
    "MLP d=4 GELU (B)": PaperClock(3e-2, 5e-4, 45_600),        # regime B, 5/5, mean dT 45,600
    "MLP d=4 ReLU (B)": PaperClock(3e-2, 5e-4, 196_800),       # regime B, 5/5, mean dT 196,800
    "MLP d=4 (A)": PaperClock(*_BASELINE, PAPER_BASELINE_DELAY, False),   # regime A: counts only; budget vs d=2's delay
    "Transformer": PaperClock(1e-3, 1.0, 50_800),              # 5/5, mean dT 50,800
    "MLP d=4 GELU, best lambda": PaperClock(3e-2, 1e-3, 25_000),     # P1-wd's optimum, 3/3 at 25k
    "Transformer, best lambda": PaperClock(1e-3, 5.0, 24_000),       # P1-wd's optimum, 3/3 at 24k
    "MLP d=4 GELU mul": PaperClock(3e-2, 5e-4, 24_400),        # multiplication, mean dT 24,400
    "MLP d=4 ReLU mul": PaperClock(3e-2, 5e-4, 93_200),        # multiplication, dT 93,200
}
CLOCK_BAND = 3.0    # on the paper's clock: the rescaled delay's median within [paper / 3, paper x 3]
SAME_CLOCK = 1.25   # two arms on the same clock: their clock factors (eta lambda / the paper's) within 1.25x


def clock_row(d: pd.DataFrame, name: str, band: float = CLOCK_BAND) -> dict:
    """One model's calibration, from its members (`lr`, `wd`, `budget`, times): its eta*lambda and
    clock factor (eta*lambda over the paper's), the Kaplan-Meier median of eta*lambda*dT over the
    members that memorised and did not diverge (never-generalised ones censored at the budget), the
    paper's eta*lambda*dT and whether the model is on the paper's clock: the median within
    [paper / `band`, paper x `band`] (a median beyond the budget, more than half still waiting,
    is not); for a model the paper gives no delay for, the rescaled budget eta*lambda*T at least
    the compared model's eta*lambda*dT."""
    c = PAPER_CLOCK[name]
    d = outcomes(d)
    eta_lambda = float((d["lr"] * d["wd"]).median())
    live = d[np.isfinite(d["delay_c"].to_numpy(float))]
    med = stats.km_median(live["delay_c"], live["event"]) if len(live) else math.nan
    rescaled = eta_lambda * med
    budget = eta_lambda * float(d["budget"].max())
    row = {"model": name, "members": len(d), "grokked": int(d["grokked"].sum()), "diverged": int(d["unstable"].sum()),
           "eta_lambda": eta_lambda, "clock_factor": eta_lambda / c.eta_lambda, "rescaled_delay": rescaled,
           "paper_rescaled_delay": c.rescaled if c.delay_known else math.nan,
           "ratio": rescaled / c.rescaled if c.delay_known else math.nan,
           "rescaled_budget": budget, "paper_rescaled_budget": c.eta_lambda * 400_000}
    if not c.delay_known:
        ok = budget >= c.rescaled
        why = f"no paper delay: rescaled budget {fmt(budget)} {'>=' if ok else '<'} {fmt(c.rescaled)}"
    elif live.empty:
        ok, why = False, "no member memorised"
    elif math.isinf(med):
        floor = eta_lambda * stats.km_floor(live["delay_c"], live["event"])
        ok, why = False, f"more than half never generalised (median > {fmt(floor)})"
    else:
        ok = c.rescaled / band <= rescaled <= c.rescaled * band
        why = f"{fmt(rescaled)} vs paper {fmt(c.rescaled)} ({fmt(rescaled / c.rescaled)}x)"
    if not ok and c.delay_known and eta_lambda > 0:     # what settling it would take, in steps
        why += (f"; on the clock at this eta*lambda: dT {fmt(c.rescaled / band / eta_lambda)}-"
                f"{fmt(c.rescaled * band / eta_lambda)} steps, budget {fmt(float(d['budget'].max()))}")
    elif not ok and eta_lambda > 0:
        why += f"; needs a budget of {fmt(c.rescaled / eta_lambda)} steps at this eta*lambda"
    return row | {"on_clock": bool(ok), "why": why}


def clock_rows(df: pd.DataFrame, label, band: float = CLOCK_BAND) -> list:
    """`clock_row` for every model that `label(df)` (a Series of `PAPER_CLOCK` names; NaN: not
    calibrated) names in the table."""
    names = label(df)
    return [clock_row(df[names == n], n, band) for n in dict.fromkeys(names.dropna())]


def on_the_papers_clock(label, band: float = CLOCK_BAND):
    """A regime gate: every calibrated model in the rule's table (`label`) runs on the paper's
    clock (`clock_row`): its rescaled delay eta*lambda*dT is within `band`x of the paper's."""
    def gate(df: pd.DataFrame) -> Gate:
        name = f"each model on the paper's clock (eta*lambda*dT within {band:g}x of the paper's)"
        rows = clock_rows(df, label, band) if {"lr", "wd", "t_train"} <= set(df) else []
        if not rows:
            return Gate(name, False, "no calibrated model in the table")
        return Gate(name, all(r["on_clock"] for r in rows),
                    "; ".join(f"{r['model']}: {r['why']}" + ("" if r["on_clock"] else " OFF") for r in rows))
    return gate


def same_clock(label, tolerance: float = SAME_CLOCK):
    """A regime gate for a comparison of models: their clock factors (eta*lambda over the paper's
    eta*lambda for that model) agree within `tolerance`x, so the ratio of their delays is the
    paper's ratio rescaled by one factor, not by two."""
    def gate(df: pd.DataFrame) -> Gate:
        rows = clock_rows(df, label) if {"lr", "wd", "t_train"} <= set(df) else []
        f = {r["model"]: r["clock_factor"] for r in rows}
        ok = len(f) >= 2 and max(f.values()) / min(f.values()) <= tolerance
        return Gate(f"the compared models on one clock (clock factors within {tolerance:g}x)", ok,
                    ", ".join(f"{m} x{fmt(v)}" for m, v in f.items()) or "no calibrated model")
    return gate


def by_column(col: str, names: dict):
    """A `label` for the clock gates: `col`'s value mapped to its `PAPER_CLOCK` name."""
    return lambda df: df[col].map(names) if col in df else pd.Series(np.nan, index=df.index)


def _act_label(df: pd.DataFrame) -> pd.Series:
    names = {("B", "gelu"): "MLP d=4 GELU (B)", ("B", "relu"): "MLP d=4 ReLU (B)",
             ("A", "gelu"): "MLP d=4 (A)", ("A", "relu"): "MLP d=4 (A)", ("A", "tanh"): "MLP d=4 (A)"}
    return pd.Series([names.get(k) for k in zip(df["regime"], df["act"])], index=df.index, dtype=object)


def _wd_label(df: pd.DataFrame) -> pd.Series:
    out = pd.Series(None, index=df.index, dtype=object)
    for model, name in (("MLP", "MLP d=4 GELU, best lambda"), ("Transformer", "Transformer, best lambda")):
        out[(df["model"] == model) & np.isclose(df["wd"], WD_BEST[model])] = name
    return out


WD_BEST = {"MLP": 1e-3, "Transformer": 5.0}   # the paper's best weight decay per model
MECHANISM_CLOCKS = {"MLP-GELU": "MLP d=4 GELU (B)", "MLP-ReLU": "MLP d=4 ReLU (B)", "Transformer": "Transformer",
                    "MLP-GELU mul": "MLP d=4 GELU mul", "MLP-ReLU mul": "MLP d=4 ReLU mul"}
CLOCK_LABELS = {   # per claim: which PAPER_CLOCK model each member of its table runs
    "P1-depth": by_column("config", {"d=2": "MLP d=2", "d=4": "MLP d=4", "d=8 residual": "MLP d=8 residual"}),
    "P1-arch": by_column("model", {"Transformer": "Transformer", "MLP": "MLP d=4 GELU (B)"}),
    "P1-act": _act_label,
    "P1-wd": _wd_label,
    "P1-norm": by_column("config", MECHANISM_CLOCKS),
    "P1-fourier": by_column("model", MECHANISM_CLOCKS),
    "P1-mul": by_column("act", {"gelu": "MLP d=4 GELU mul", "relu": "MLP d=4 ReLU mul"}),
}


def clock_gate(claim_id: str):
    return on_the_papers_clock(lambda df: CLOCK_LABELS[claim_id](df))


# ------------------------------------------------------------------------------ P1-canonical
CANONICAL_T_TRAIN = (1_000, 2_000)    # the paper's canonical run: memorised at 1-2k steps,
CANONICAL_T_GROK = (33_000, 34_000)   # generalised at 33-34k
CANONICAL_MIN_SEEDS = 5               # seeds of the paper's exact run the range is read from


def seed_range(values, open_top: bool = False) -> tuple[float, float]:
    """(min, max) of the finite `values`; the max is inf when `open_top` (a member still waiting
    at the budget: its value lies beyond every observed one). (nan, nan) with no finite value."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if not len(x):
        return (math.inf, math.inf) if open_top else (math.nan, math.nan)
    return float(x.min()), (math.inf if open_top else float(x.max()))


def _overlaps(rng: tuple, window: tuple) -> bool:
    return bool(math.isfinite(rng[0]) and rng[0] <= window[1] and rng[1] >= window[0])


@rule("P1-canonical", by=(), gates=(no_divergence, min_members(CANONICAL_MIN_SEEDS, ())))
@_doc(n=CANONICAL_MIN_SEEDS, tr=f"{CANONICAL_T_TRAIN[0] / 1e3:g}-{CANONICAL_T_TRAIN[1] / 1e3:g}k",
      tg=f"{CANONICAL_T_GROK[0] / 1e3:g}-{CANONICAL_T_GROK[1] / 1e3:g}k")
def canonical_rule(df: pd.DataFrame, paper_setting: bool = False, t_train=CANONICAL_T_TRAIN,
                   t_grok=CANONICAL_T_GROK, min_test: float = 0.99) -> Verdict:
    """P1-canonical, on the members (seeds) of the depth-2 MLP trained at the paper's exact
    baseline (`paper_setting`: p=97, 20% train, w=256, SGD lr 1e-2, wd 2e-3; a regime gate asks
    for at least {n} seeds): is the paper's seed-0 run inside our seed range? Our range of T_train
    is [min, max] over the members that memorised; our range of T_grok is [min, max] over the
    members that generalised, its top open (beyond the budget) when a memorised member had not
    generalised by the budget. *Reproduced* when at least one member grokked (T_grok >= 2 T_train),
    the paper's T_train window ({tr}) overlaps our T_train range, its T_grok window ({tg}) overlaps
    our T_grok range, and every grokked member ends at >= 99% test; *partially reproduced* when
    members grokked and exactly one of those three holds short; *not reproduced* when no member
    grokked (never memorised, never generalised, or generalised without delay) or two or more hold
    short; *inconclusive at this profile* off the paper's setting (values shown for reference) and
    when the T_grok range is empty and open (no member generalised) with a budget that ends before
    the paper's window."""
    d = outcomes(df)
    if d.empty:
        return Verdict(INCONCLUSIVE, "not run", n_seeds=0, note="no member of the canonical run")
    waiting = bool(((d["outcome"] == "not generalised")).any())
    tr = seed_range(d["t_train"])
    tg = seed_range(d.loc[d["event"], "t_grok"], open_top=waiting)
    g = d[d["grokked"]]
    final = g["final_test_acc"].to_numpy(float) if "final_test_acc" in g else np.array([])
    final_ok = bool(len(g)) and bool(np.all(final >= min_test))
    rng = lambda r: f"{fmt(r[0])}-{fmt(r[1])}" if math.isfinite(r[0]) else "none"
    value = (f"T_train {rng(tr)}, T_grok {rng(tg)} over {_n_seeds(d)} seeds; {int(d['grokked'].sum())}/{len(d)} "
             f"grokked" + (f", final test {fmt(100 * final.min())}-{fmt(100 * final.max())}%" if len(final) else ""))
    checks = {"T_train": _overlaps(tr, t_train), "T_grok": _overlaps(tg, t_grok), "final test >= 99%": final_ok}
    extra = {"t_train_min": tr[0], "t_train_max": tr[1], "t_grok_min": tg[0], "t_grok_max": tg[1],
             "n_grokked": int(d["grokked"].sum()), "n_members": len(d), "seeds": sorted(int(s) for s in d["seed"])
             if "seed" in d else [], "final_test_min": float(final.min()) if len(final) else math.nan,
             **{f"inside_{k.split()[0]}": v for k, v in checks.items()}}
    short = [k for k, ok in checks.items() if not ok]
    budget = float(d["budget"].max()) if "budget" in d else math.inf
    if not paper_setting:
        v, note = INCONCLUSIVE, "reduced setting, not the paper's baseline: values shown for reference"
    elif g.empty and not math.isfinite(tg[0]) and waiting and budget < t_grok[1]:
        v, note = INCONCLUSIVE, "budget ends before the paper's T_grok window"
    elif g.empty:
        v, note = NOT_REPRODUCED, f"no member grokked ({counts(d)})"
    else:
        v = REPRODUCED if not short else PARTIALLY_REPRODUCED if len(short) == 1 else NOT_REPRODUCED
        note = (f"{counts(d)}; paper T_train {fmt(t_train[0])}-{fmt(t_train[1])}, T_grok {fmt(t_grok[0])}-"
                f"{fmt(t_grok[1])}" + (f"; outside our range: {', '.join(short)}" if short else "; both inside our seed range"))
    return Verdict(v, value, n_seeds=_n_seeds(d), note=note, extra=extra)


# ------------------------------------------------------------------------------ P1-depth
DEPTH_PAPER = {"d=2": True, "d=4": False, "d=8 residual": True}   # 4/5, 0/5, 3/5 grok


@rule("P1-depth", by=("config",), gates=(no_divergence, clock_gate("P1-depth")))
def depth_rule(df: pd.DataFrame, expected: dict | None = None, control: str = "d=2") -> Verdict:
    """P1-depth, on members labelled by `config` ('d=2', 'd=4', 'd=8 residual'): a configuration
    *groks* when at least half its members grokked (memorised, then 99% test with T_grok >= 2
    T_train; generalising without delay is not grokking; a member still memorised-only at the
    budget did not grok), decided by the exact interval of its count, so a count that cannot
    tell (4/5, 3/5) leaves that configuration undecided. The paper's pattern is d=2 groks (4/5),
    plain d=4 does not (0/5), residual d=8 does (3/5). *Reproduced* when all three configurations
    match it, *partially reproduced* when two do, *not reproduced* when at most one does, each
    only when the undecided configurations could not change it; otherwise, or when the positive
    control (`control`, plain d=2) cannot be judged (no member, or none generalised within the
    budget), *inconclusive at this profile*."""
    expected = expected or DEPTH_PAPER
    d = outcomes(df)
    groups = {k: d[d["config"] == k] for k in expected}
    got = {k: f"{int(g['grokked'].sum())}/{len(g)}" for k, g in groups.items()}
    value = ", ".join(f"{k} {v}" for k, v in got.items())
    note = "; ".join(f"{k}: {counts(g) or 'not run'}" for k, g in groups.items())
    extra = {f"grokked_{k}": int(g["grokked"].sum()) for k, g in groups.items()}
    if any(g.empty for g in groups.values()) or not _judgeable(groups[control]):
        return Verdict(INCONCLUSIVE, value, n_seeds=_n_seeds(d), note=note + f"; control {control} cannot be judged",
                       extra=extra)
    decided = {k: _groks(g) for k, g in groups.items()}
    hits = [decided[k] == expected[k] for k in expected if decided[k] is not None]
    undecided = [k for k in expected if decided[k] is None]
    n = len(expected)
    v = _by_completion(hits, len(undecided), lambda h: REPRODUCED if h == n else (PARTIALLY_REPRODUCED if h == n - 1 else NOT_REPRODUCED))
    extra["matches"] = sum(hits)
    extra["undecided"] = undecided
    note += f"; {sum(hits)}/{n} configs match" + (f"; count cannot decide: {', '.join(undecided)}" if undecided else "")
    return Verdict(v, value, n_seeds=_n_seeds(d), note=note, extra=extra)


# ------------------------------------------------------------------------------ P1-arch
ARCH_PAPER = 1.11   # the paper's Transformer / MLP ratio of mean delays


@rule("P1-arch", by=("model",), gates=(no_divergence, same_clock(CLOCK_LABELS["P1-arch"]), clock_gate("P1-arch")))
@_band_doc(ARCH_PAPER)
def arch_rule(df: pd.DataFrame, paper: float = ARCH_PAPER, factor: float = RATIO_FACTOR, n_boot: int = N_BOOT) -> Verdict:
    """P1-arch, on members labelled by `model` ('Transformer', 'MLP'): the ratio of mean delays
    Transformer / MLP (T_grok - T_train; a memorised member that never generalised counts with
    its delay censored at the budget, which opens that side of the CI; never-memorised members
    are left out) with a bootstrap 95% CI resampling each model. *Reproduced* when the CI lies
    inside [{paper} / {factor}, {paper} x {factor}] = [{lo}, {hi}]; *not reproduced* when it lies wholly outside;
    *partially reproduced* when it overlaps the band and is no wider than it; *inconclusive at this
    profile* when it is wider, or an MLP never generalised, or a side has fewer than 2 memorised
    members."""
    return _ratio_claim(df, "model", "Transformer", "MLP", paper, factor, n_boot, "Transformer/MLP")


# ------------------------------------------------------------------------------ P1-act
ACT_PAPER = 4.32    # the paper's ReLU / GELU ratio of mean delays in regime B


@rule("P1-act", by=("regime", "act"), gates=(no_divergence, clock_gate("P1-act")))
@_band_doc(ACT_PAPER)
def act_rule(df: pd.DataFrame, paper: float = ACT_PAPER, factor: float = RATIO_FACTOR, n_boot: int = N_BOOT) -> Verdict:
    """P1-act, two parts on members labelled by `regime` ('A', 'B') and `act` ('gelu', 'relu',
    'tanh'). (1) Speed in regime B: the ReLU / GELU ratio of mean delays (censored at the budget
    where needed) with a bootstrap 95% CI; *reproduced* inside [{paper} / {factor}, {paper} x {factor}] =
    [{lo}, {hi}], *not reproduced* wholly outside, *inconclusive* when wider than the band or when
    no GELU member generalised. (2) Reversal in regime A (paper GELU 0/5, ReLU 2/5, Tanh 3/5):
    GELU groks in fewer members than ReLU (Tanh) when Fisher's exact test says so (one-sided,
    5%); *reproduced* when fewer than both, *partially* when fewer than one, *not reproduced*
    otherwise (ties are not wins), each only when the comparisons the counts cannot decide could
    not change it; *inconclusive* also when no ReLU or Tanh member of regime A generalised within
    the budget (the paper's positive controls cannot be judged). The claim is `rules.combine` of the two parts."""
    d = outcomes(df)
    b = d[d["regime"] == "B"]
    speed = _ratio_claim(b, "act", "relu", "gelu", paper, factor, n_boot, "ReLU/GELU")
    a = d[d["regime"] == "A"]
    n = {k: int(a.loc[a["act"] == k, "grokked"].sum()) for k in ("gelu", "relu", "tanh")}
    size = {k: int((a["act"] == k).sum()) for k in n}
    if not _judgeable(a[a["act"].isin(["relu", "tanh"])]):
        rev = INCONCLUSIVE
    else:
        below = [stats.fewer(n["gelu"], size["gelu"], n[k], size[k]) for k in ("relu", "tanh")]
        rev = _by_completion([b for b in below if b is not None], below.count(None),
                             lambda w: REPRODUCED if w == 2 else (PARTIALLY_REPRODUCED if w == 1 else NOT_REPRODUCED))
    v = combine(speed.verdict, rev)
    counts_a = "/".join(str(n[k]) for k in ("gelu", "relu", "tanh"))
    note = (f"speed (B): {speed.verdict}; {speed.note} | reversal (A): {rev}; grokked GELU/ReLU/Tanh "
            f"{counts_a} of {_n_seeds(a)}")
    return Verdict(v, f"{speed.our_value}; regime A grokked {counts_a}", speed.ci_low, speed.ci_high,
                   _n_seeds(d), note, {**speed.extra, "speed": speed.verdict, "reversal": rev,
                                       **{f"A_{k}_grokked": c for k, c in n.items()}})


# ------------------------------------------------------------------------------ P1-wd
WD_MODE = {"below": "not generalised", "above": "not memorised"}   # the paper's failure on each side
WD_MODE_TEXT = {"below": "memorised, never generalised", "above": "never memorised"}
# the paper's failing lambda nearest its window on each side (None: its grid shows no edge there)
WD_PAPER_EDGES = {"MLP": (5e-5, 2e-3), "Transformer": (0.01, None)}


def _side(m: pd.DataFrame, side: str):
    """One side of a window (the judged lambdas beyond it, pooled): 'bounded' when its grokked share
    is decided below half (`stats.share_at_least`) and the paper's failure (`WD_MODE`) is the most
    common outcome there; 'wrong mode' when it fails but mostly otherwise (no delay, diverged, the
    other failure); 'groks' when its share is decided at least half; 'undecided' when the count
    cannot tell; 'open' when the grid has no lambda on that side."""
    if m.empty:
        return "open", "no lambda"
    k, n = int(m["grokked"].sum()), len(m)
    c = m["outcome"].value_counts()
    mode = c.index[0] if len(c) and (len(c) == 1 or c.iloc[0] > c.iloc[1]) else "mixed"
    text = f"{k}/{n} grokked, mostly {mode}"
    decided = stats.share_at_least(k, n, 0.5)
    if decided is None:
        return "undecided", text
    if decided:
        return "groks", text
    return ("bounded" if mode == WD_MODE[side] else "wrong mode"), text


def _window_verdict(sides: dict) -> str:
    """Both sides bounded in the paper's failure mode: reproduced; one: partially; none: not."""
    n = sum(s == "bounded" for s in sides.values())
    return REPRODUCED if n == 2 else PARTIALLY_REPRODUCED if n == 1 else NOT_REPRODUCED


def _window(g: pd.DataFrame, min_decay: float):
    """One model's window verdict and its evidence, on the lambdas whose lr * wd * budget >=
    min_decay (`wd_rule`)."""
    per = []
    for lam, m in g.groupby("wd", sort=True):
        decay = float((m["lr"] * m["wd"] * m["budget"]).iloc[0])
        per.append((float(lam), decay, m))
    judged = [(lam, m) for lam, decay, m in per if decay >= min_decay]
    dropped = [lam for lam, decay, _ in per if decay < min_decay]
    desc = ", ".join(f"{lam:g}: {int(m['grokked'].sum())}/{len(m)}" for lam, m in judged) or "none"
    reason = f"grokked per lambda {desc}" + (f"; below lr*wd*T >= {min_decay:g}: {', '.join(f'{x:g}' for x in dropped)}"
                                             if dropped else "")
    extra = {"window": [], "sides": {}}
    if len(judged) < 3:
        return INCONCLUSIVE, reason + "; fewer than 3 lambdas can show a window", extra
    groks = [m["grokked"].mean() >= 0.5 for _, m in judged]
    d = pd.concat([m for _, m in judged])
    if not any(groks):
        v = NOT_REPRODUCED if bool(d["event"].any() or np.isfinite(d["t_train"].to_numpy(float)).any()) else INCONCLUSIVE
        return v, reason + "; no lambda groks in half its members", extra
    idx = np.flatnonzero(groks)
    if idx[-1] - idx[0] + 1 != len(idx):
        return INCONCLUSIVE, reason + "; the grokking lambdas are not contiguous", extra
    inside = pd.concat([judged[i][1] for i in idx])
    k, n = int(inside["grokked"].sum()), len(inside)
    extra["window"] = [judged[i][0] for i in idx]
    win = f"window {judged[idx[0]][0]:g}-{judged[idx[-1]][0]:g} ({k}/{n} grokked)"
    below = pd.concat([m for _, m in judged[:idx[0]]]) if idx[0] > 0 else d.iloc[:0]
    above = pd.concat([m for _, m in judged[idx[-1] + 1:]]) if idx[-1] + 1 < len(judged) else d.iloc[:0]
    sides = {"below": _side(below, "below"), "above": _side(above, "above")}
    edges = WD_PAPER_EDGES.get(str(g["model"].iloc[0]), (None, None))
    for s, end, edge in (("below", judged[0][0], edges[0]), ("above", judged[-1][0], edges[1])):
        if sides[s][0] == "open" and edge is not None and (end <= edge if s == "below" else end >= edge):
            sides[s] = ("groks", f"the window reaches the grid's end at {end:g}, past the paper's failing {edge:g}")
    extra["sides"] = {s: v[0] for s, v in sides.items()}
    reason += f"; {win}; " + "; ".join(f"{s}: {v[0]} ({v[1]}; paper: {WD_MODE_TEXT[s]})" for s, v in sides.items())
    if not stats.share_at_least(k, n, 0.5):
        return INCONCLUSIVE, reason + "; the window's count cannot show that it groks (one lambda of 3 seeds cannot)", extra
    open_ = [s for s, v in sides.items() if v[0] in ("undecided", "open")]
    outs = set()
    for fill in itertools.product(("bounded", "groks"), repeat=len(open_)):
        outs.add(_window_verdict({**{s: v[0] for s, v in sides.items()}, **dict(zip(open_, fill))}))
    if len(outs) > 1:
        return INCONCLUSIVE, reason + f"; the {' and '.join(open_)} side cannot be decided", extra
    return outs.pop(), reason, extra


def _at_best(model: str):
    return lambda d: d[(d["model"] == model) & np.isclose(d["wd"], WD_BEST[model])]


@rule("P1-wd", by=("model", "wd"), gates=(no_divergence,) + tuple(
    groks_at(f"the paper's best lambda for the {m} ({lam:g})", _at_best(m)) for m, lam in WD_BEST.items())
    + (clock_gate("P1-wd"),))
@_doc(below=WD_MODE_TEXT["below"], above=WD_MODE_TEXT["above"])
def wd_rule(df: pd.DataFrame, min_decay: float = 0.1) -> Verdict:
    """P1-wd, by the window's position and its failure modes, on members labelled by `model`
    ('MLP', 'Transformer') with their `wd`, `lr` and `budget`. Only lambdas that can show the lower
    edge are judged: lr x lambda x budget >= `min_decay` (0.1; the paper's own failing bottom, SGD
    lr 3e-2, lambda 1e-5, 400k steps, sits at 0.12). Per model: the window is the contiguous run of
    lambdas where at least half the members grokked (T_grok >= 2 T_train); its pooled count must
    show it groks (the exact interval of the count at or above half: two lambdas of 3 seeds, or one
    of 5, can; one of 3 cannot). Each side of the window (its lambdas pooled) is *bounded* when its
    grokked share is decided below half and the paper's failure is its most common outcome: below
    the window "{below}", above it "{above}". *Reproduced* when both sides are bounded;
    *partially reproduced* when one is; *not reproduced* when neither is (the model groks there,
    or fails another way: without delay, diverged, the other failure), or when no lambda groks
    although members memorised; *inconclusive* when fewer than 3 lambdas are judged, the grokking
    lambdas are not contiguous, the window's count cannot show grokking, or a side that the count
    cannot decide or the grid does not reach could change the verdict (a window that runs to the
    grid's end past the paper's failing lambda there, MLP 5e-5 / 2e-3, Transformer 0.01, groks on
    that side). The claim is
    `rules.combine` of the two models. Regime gates: no member diverged; the paper's best lambda of
    each model (MLP 1e-3, Transformer 5) groks in at least half its members; each model at its best
    lambda on the paper's clock."""
    d = outcomes(df)
    parts = {m: _window(d[d["model"] == m], min_decay) for m in ("MLP", "Transformer")}
    v = combine(*(p[0] for p in parts.values()))
    value = "; ".join(f"{m}: {p[0]}" for m, p in parts.items())
    note = " | ".join(f"{m}: {p[1]}" for m, p in parts.items())
    extra = {f"{m}_verdict": p[0] for m, p in parts.items()} | {f"{m}_reason": p[1] for m, p in parts.items()}
    for m, p in parts.items():
        extra |= {f"{m}_window": p[2]["window"], **{f"{m}_{s}": x for s, x in p[2]["sides"].items()}}
    return Verdict(v, value, n_seeds=_n_seeds(d), note=note, extra=extra)


# ------------------------------------------------------------------------------ P1-norm
def _groups(d: pd.DataFrame, col: str) -> list:
    """The finite values of `col` per configuration (configs without any left out)."""
    groups = [g[col].to_numpy(float) for _, g in d.groupby("config", sort=True)]
    return [x[np.isfinite(x)] for x in groups if np.isfinite(x).any()]


NORM_PAPER_CV = 0.145    # the paper's CV of the RMS at T_grok across configurations
NORM_BAND = 2 * NORM_PAPER_CV   # reproduced: the CV's CI inside [0, twice the paper's CV]


NORM_MIN_GROKKED = 3     # grokked members per configuration the mean RMS is read from


@rule("P1-norm", by=("config",), gates=(no_divergence, min_grokked(NORM_MIN_GROKKED, ("config",)),
                                        clock_gate("P1-norm")))
@_doc(paper=fmt(100 * NORM_PAPER_CV), band=fmt(100 * NORM_BAND), n=NORM_MIN_GROKKED)
def norm_rule(df: pd.DataFrame, paper_cv: float = NORM_PAPER_CV, band: float = NORM_BAND, min_span: float = 2.0,
              n_boot: int = NORM_N_BOOT) -> Verdict:
    """P1-norm, on grokked members labelled by `config` with `rms_at_grok` (parameter RMS at
    T_grok) and the null `rms_at_common` (the RMS at one common late step, the median T_grok of
    all grokked members: what a clock, not grokking, would give); `rms_at_train` and `rms_init` are
    shown. The coefficient of variation across configurations of the per-config mean RMS at
    T_grok, with a bootstrap 95% CI resampling members within configs (paper {paper}%; a regime
    gate asks for at least {n} grokked members per configuration). *Reproduced* when the CI lies
    inside [0, {band}%] (twice the paper's CV) and the CV at T_grok is below the CV at the common
    step (the norm marks grokking better than the step count does); *partially reproduced* when
    the CI is inside but the CV is not below that null, or when the CI overlaps the band; *not
    reproduced* when the CI lies wholly above {band}%; *inconclusive at this profile* when fewer
    than 3 configs grokked, the CI is wider than the band, or the configs' median T_grok span less
    than `min_span` (2x): configs that grok at about the same step would share an RMS whatever the
    claim."""
    d = outcomes(df)
    g = d[d["grokked"]]
    groups = _groups(g, "rms_at_grok")
    cv, (lo, hi), k = fourier.group_cv(groups), fourier.group_cv_ci(groups, n_boot=n_boot), len(groups)
    cv_of = lambda col: fourier.group_cv(_groups(g, col)) if col in g else float("nan")
    cv_common, cv_train, cv_init = cv_of("rms_at_common"), cv_of("rms_at_train"), cv_of("rms_init")
    med = g.groupby("config")["t_grok"].median()
    span = float(med.max() / med.min()) if len(med) and med.min() > 0 else float("nan")
    extra = {"cv": cv, "cv_low": lo, "cv_high": hi, "cv_common": cv_common, "cv_train": cv_train, "cv_init": cv_init,
             "n_configs": k, "t_grok_span": span}
    value = (f"CV {fmt(100 * cv)}% over {k} configs (null at a common step: {fmt(100 * cv_common)}%; "
             f"{fmt(100 * cv_train)}% at T_train, {fmt(100 * cv_init)}% at init)")
    note = f"median T_grok spans {fmt(span)}x across configs; band 0-{fmt(100 * band)}% (paper {fmt(100 * paper_cv)}%)"
    if k < 3:
        return Verdict(INCONCLUSIVE, value, lo, hi, _n_seeds(d), note + "; fewer than 3 configs grokked", extra)
    if not (span >= min_span):
        return Verdict(INCONCLUSIVE, value, lo, hi, _n_seeds(d), note + f"; span below {min_span:g}x: configs too alike", extra)
    v = band_verdict(lo, hi, 0.0, band, log=False)
    if v == REPRODUCED and not cv < cv_common:
        v, note = PARTIALLY_REPRODUCED, note + "; CV at T_grok not below the CV at the common step"
    return Verdict(v, value, lo, hi, _n_seeds(d), note, extra)


# ------------------------------------------------------------------------------ P1-fourier
FOURIER_PAPER = {"MLP-GELU": 0.747, "MLP-ReLU": 0.756, "Transformer": 0.985}
FOURIER_MLPS = ("MLP-GELU", "MLP-ReLU")
FOURIER_MIN_GROKKED = 3     # grokked members per model the shares are read from


@rule("P1-fourier", by=("model",), gates=(no_divergence, min_grokked(FOURIER_MIN_GROKKED, ("model",)),
                                          clock_gate("P1-fourier")))
@_doc(gap=" / ".join(fmt(100 * (FOURIER_PAPER["Transformer"] - FOURIER_PAPER[m])) for m in FOURIER_MLPS),
      tf=fmt(100 * FOURIER_PAPER["Transformer"]), n=FOURIER_MIN_GROKKED)
def fourier_rule(df: pd.DataFrame, null: float = float("nan"), paper: dict | None = None,
                 band: float = 0.10, above_null: float = 1.5, n_boot: int = FOURIER_N_BOOT) -> Verdict:
    """P1-fourier, the relative claim (the Transformer's embedding is far more Fourier-sparse than
    the MLPs'), on members labelled by `model` with `top_share` (top-5 Fourier energy share of the
    token embedding, DC included, read at the end of training); only grokked members count (a
    regime gate asks for at least {n} per model). Per MLP, the gap: the Transformer's median share
    minus that MLP's, with a bootstrap 95% CI resampling each model (`stats.diff_ci`); the paper's
    gaps are {gap} points (GELU / ReLU). *Reproduced* when each gap's CI lies inside the paper's
    gap +- 10 points; *not reproduced* when a gap's CI lies wholly outside it (e.g. the Transformer
    no sparser than an MLP), or when the Transformer's share is not above 1.5x the null (`null`:
    the top-5 share of a random Gaussian embedding of the same shape, `tables.fourier_null`; its
    embedding then shows no more structure than noise); *partially* / *inconclusive* by the shared
    band rule (`rules.combine` over the two gaps); *inconclusive at this profile* when a model has
    fewer than 2 grokked members, or the paper's Transformer level ({tf}%) is not above 1.5x the
    null (at a small p a random embedding already holds most of its energy in 5 frequencies)."""
    paper = paper or FOURIER_PAPER
    d = outcomes(df)
    floor = above_null * null
    x = {m: d.loc[(d["model"] == m) & d["grokked"], "top_share"].to_numpy(float) for m in paper}
    x = {m: v[np.isfinite(v)] for m, v in x.items()}
    med = {m: float(np.median(v)) if len(v) else math.nan for m, v in x.items()}
    t = "Transformer"
    t_lo, t_hi = stats.bootstrap_ci(x[t], n_boot=n_boot)
    extra = {"null": null, "floor": floor, **{f"share_{m}": med[m] for m in paper},
             **{f"n_{m}": len(v) for m, v in x.items()}, "ci_low_Transformer": t_lo, "ci_high_Transformer": t_hi}
    parts = {}
    for m in FOURIER_MLPS:
        ref = paper[t] - paper[m]
        lo, hi = stats.diff_ci(x[t], x[m], n_boot=n_boot)
        gap = med[t] - med[m]
        if not (paper[t] > floor) or min(len(x[t]), len(x[m])) < 2:
            v = INCONCLUSIVE
        elif t_hi < floor:
            v = NOT_REPRODUCED
        else:
            v = band_verdict(lo, hi, ref - band, ref + band, log=False)
            if v == REPRODUCED and t_lo <= floor:
                v = PARTIALLY_REPRODUCED
        parts[m] = v
        extra.update({f"gap_{m}": gap, f"gap_low_{m}": lo, f"gap_high_{m}": hi, f"paper_gap_{m}": ref, f"verdict_{m}": v})
    v = combine(*parts.values())
    shown = ", ".join(f"{m} {fmt(100 * med[m])}%" for m in paper)
    gaps = "; ".join(f"gap to {m} {fmt(100 * extra[f'gap_{m}'])} points (CI {fmt(100 * extra[f'gap_low_{m}'])} to "
                     f"{fmt(100 * extra[f'gap_high_{m}'])}; paper {fmt(100 * extra[f'paper_gap_{m}'])}): {parts[m]}"
                     for m in FOURIER_MLPS)
    note = (f"{gaps}; null (random embedding) {fmt(100 * null)}%, the Transformer's share must exceed "
            f"{fmt(100 * floor)}%; grokked " + ", ".join(f"{m} {len(v)}" for m, v in x.items()))
    g = FOURIER_MLPS[0]
    return Verdict(v, shown + f"; gaps {fmt(100 * extra[f'gap_{g}'])} / {fmt(100 * extra[f'gap_{FOURIER_MLPS[1]}'])} points",
                   extra.get(f"gap_low_{g}"), extra.get(f"gap_high_{g}"), _n_seeds(d), note, extra)


# ------------------------------------------------------------------------------ P1-mul
MUL_PAPER = 3.82    # the paper's ReLU / GELU ratio of mean delays on multiplication


@rule("P1-mul", by=("act",), gates=(no_divergence, clock_gate("P1-mul")))
@_band_doc(MUL_PAPER)
def mul_rule(df: pd.DataFrame, paper: float = MUL_PAPER, factor: float = RATIO_FACTOR, n_boot: int = N_BOOT) -> Verdict:
    """P1-mul, on multiplication members labelled by `act` ('gelu', 'relu'): the ReLU / GELU ratio
    of mean delays (censored at the budget where needed, which opens that side of the CI) with a
    bootstrap 95% CI resampling each activation. *Reproduced* when the CI lies inside
    [{paper} / {factor}, {paper} x {factor}] = [{lo}, {hi}]; *not reproduced* when it lies wholly outside;
    *partially reproduced* when it overlaps the band and is no wider than it; *inconclusive at
    this profile* when it is wider, no GELU member generalised, or a side has fewer than 2
    memorised members."""
    return _ratio_claim(df, "act", "relu", "gelu", paper, factor, n_boot, "ReLU/GELU")


def sgd_regime(optimizer: str) -> str:
    """'' when P1's MLPs train as in the paper (SGD with momentum and coupled weight decay);
    otherwise the deviation, for `ledger.judge(..., regime=...)`: P1's MLP claims are about SGD."""
    return "" if optimizer == "sgd" else f"the MLPs train with {optimizer}, the paper's with SGD"
