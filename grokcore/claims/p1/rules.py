"""P1's verdict rules, one per claim id, registered with `claims.rules.rule`, and their constants.
Each rule is a function of a tidy per-member table (one row per member, a column naming its
configuration; `tables.py` builds them); `claims.rules.outcomes` decides what *grokked* means
(memorised, then 99% test with T_grok >= 2 T_train) and censors never-generalised members at the
budget.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from . import fourier
from .. import stats
from ..rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE, Verdict, band_verdict, combine, counts, fmt, outcomes, rule
from ..rules import no_divergence, ratio_band_verdict, trains

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


# ------------------------------------------------------------------------------ P1-canonical
CANONICAL_T_TRAIN = (1_000, 2_000)    # the paper's canonical run: memorised at 1-2k steps,
CANONICAL_T_GROK = (33_000, 34_000)   # generalised at 33-34k


@rule("P1-canonical", by=(), gates=(no_divergence,))
def canonical_rule(df: pd.DataFrame, seed: int | None = None, paper_setting: bool = False,
                   t_train=CANONICAL_T_TRAIN, t_grok=CANONICAL_T_GROK, slack: float = 0.25,
                   min_test: float = 0.99) -> Verdict:
    """P1-canonical, on the depth-2 MLP member with init seed `seed` (default: the table's lowest,
    the paper's seed 0 in the book and seed K in a replication with seed offset K): judged only at the paper's
    baseline setting (`paper_setting`: p=97, 20% train, w=256, SGD lr 1e-2, wd 2e-3), otherwise
    *inconclusive at this profile* with the values shown. At that setting *reproduced* when the
    member grokked (T_grok >= 2 T_train) with T_train in 1-2k and T_grok in 33-34k steps, each
    window widened by 25%, and its test accuracy at the end of the budget is at least 99%;
    *partially reproduced* when it grokked outside those windows or ended below 99% test;
    *not reproduced* when it did not grok (never memorised, never generalised within a budget
    that covers the window, or generalised without delay); *inconclusive* when the budget ends
    before the T_grok window and the member has not generalised."""
    d = outcomes(df)
    if seed is None and "seed" in d and len(d):
        seed = int(d["seed"].min())
    m = d[d["seed"] == seed] if "seed" in d else d.iloc[:0]
    if m.empty:
        return Verdict(INCONCLUSIVE, "not run", n_seeds=0, note=f"no member with seed {seed}")
    r = m.iloc[0]
    final = float(r.get("final_test_acc", float("nan")))
    value = f"T_train {fmt(r['t_train'])}, T_grok {fmt(r['t_grok'])}, final test {fmt(100 * final)}% ({r['outcome']})"
    extra = {"t_train": float(r["t_train"]), "t_grok": float(r["t_grok"]), "final_test": final,
             "outcome": r["outcome"], "seed": int(seed)}
    ok = lambda x, w: math.isfinite(x) and w[0] * (1 - slack) <= x <= w[1] * (1 + slack)
    if not paper_setting:
        v, note = INCONCLUSIVE, "reduced setting, not the paper's baseline: values shown for reference"
    elif r["grokked"]:
        inside = ok(float(r["t_train"]), t_train) and ok(float(r["t_grok"]), t_grok) and final >= min_test
        v, note = (REPRODUCED if inside else PARTIALLY_REPRODUCED), "grokked" + ("" if inside else " outside the windows")
    elif r["outcome"] == "not generalised" and float(r.get("budget", math.inf)) < t_grok[1] * (1 + slack):
        v, note = INCONCLUSIVE, "budget ends before the paper's T_grok window"
    else:
        v, note = NOT_REPRODUCED, f"did not grok ({r['outcome']})"
    return Verdict(v, value, n_seeds=1, note=note, extra=extra)


# ------------------------------------------------------------------------------ P1-depth
DEPTH_PAPER = {"d=2": True, "d=4": False, "d=8 residual": True}   # 4/5, 0/5, 3/5 grok


@rule("P1-depth", by=("config",), gates=(no_divergence,))
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


@rule("P1-arch", by=("model",), gates=(no_divergence,))
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


@rule("P1-act", by=("regime", "act"), gates=(no_divergence,))
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
def _window_shape(groks: list, generalised: list) -> tuple[str, str]:
    """The window verdict of one model from decided per-lambda outcomes (grid order)."""
    if not any(groks):
        return (NOT_REPRODUCED if any(generalised) else INCONCLUSIVE), "no lambda groks"
    idx = np.flatnonzero(groks)
    contiguous = idx[-1] - idx[0] + 1 == len(idx)
    low, high = not groks[0], not groks[-1]
    if contiguous and low and high:
        return REPRODUCED, ""
    if low or high:
        return PARTIALLY_REPRODUCED, "" if contiguous else "grokking lambdas not contiguous"
    return NOT_REPRODUCED, "groks at both ends of the grid"


def _window(g: pd.DataFrame, min_decay: float):
    """One model's window verdict and a reason, on the lambdas whose lr * wd * budget >= min_decay.
    A lambda whose count cannot decide whether it groks (`_groks` None) is tried both ways: the
    verdict stands only when it is the same either way."""
    per = []
    for lam, m in g.groupby("wd", sort=True):
        decay = float((m["lr"] * m["wd"] * m["budget"]).iloc[0])
        per.append((float(lam), decay, _groks(m), bool(m["event"].any()), f"{int(m['grokked'].sum())}/{len(m)}"))
    judged = [x for x in per if x[1] >= min_decay]
    dropped = [x[0] for x in per if x[1] < min_decay]
    word = {True: "groks", False: "fails", None: "undecided"}
    desc = ", ".join(f"{lam:g}:{word[ok]} ({c})" for lam, _, ok, _, c in judged) or "none"
    reason = f"judged {desc}" + (f"; below lr*wd*T >= {min_decay:g}: {', '.join(f'{x:g}' for x in dropped)}"
                                 if dropped else "")
    if len(judged) < 3:
        return INCONCLUSIVE, reason + "; fewer than 3 lambdas can show a window"
    open_ = [i for i, x in enumerate(judged) if x[2] is None]
    generalised = [x[3] for x in judged]
    outs = set()
    for fill in itertools.product((True, False), repeat=len(open_)):
        groks = [x[2] for x in judged]
        for i, f in zip(open_, fill):
            groks[i] = f
        outs.add(_window_shape(groks, generalised))
    if len({v for v, _ in outs}) > 1:
        return INCONCLUSIVE, reason + f"; {len(open_)} lambda counts cannot decide the window"
    v, why = outs.pop()
    return v, reason + (f"; {why}" if why else "")


WD_BEST = {"MLP": 1e-3, "Transformer": 5.0}   # the paper's best weight decay per model


def _at_best(model: str):
    return lambda d: d[(d["model"] == model) & np.isclose(d["wd"], WD_BEST[model])]


@rule("P1-wd", by=("model", "wd"), gates=(no_divergence,) + tuple(
    trains(f"the paper's best lambda for the {m} ({lam:g})", _at_best(m)) for m, lam in WD_BEST.items()))
def wd_rule(df: pd.DataFrame, min_decay: float = 0.1) -> Verdict:
    """P1-wd, on members labelled by `model` ('MLP', 'Transformer') with their `wd`, `lr` and
    `budget`: a lambda *groks* when at least half its members grokked (T_grok >= 2 T_train). Only
    lambdas that can show the lower edge are judged: lr x lambda x budget >= `min_decay` (0.1; the
    paper's own failing bottom, SGD lr 3e-2, lambda 1e-5, 400k steps, sits at 0.12) - below it the
    weights hardly decay within the budget, so failure there says nothing about a window. Per
    model, on the judged lambdas (at least 3, else *inconclusive*): *reproduced* when the grokking
    lambdas are contiguous and both the smallest and the largest fail (a bounded window);
    *partially reproduced* when only one side is bounded; *not reproduced* when it groks at both
    ends of the grid, or no lambda groks although members generalised (without delay);
    *inconclusive* when nothing generalised at all, or when lambdas whose counts cannot decide
    whether they grok (3/3 cannot: `_groks`) could change the verdict. The claim is
    `rules.combine` of the two models. Regime gates: no member diverged, and the paper's best
    lambda of each model (MLP 1e-3, Transformer 5) memorises in at least half its members."""
    d = outcomes(df)
    parts = {m: _window(d[d["model"] == m], min_decay) for m in ("MLP", "Transformer")}
    v = combine(*(p[0] for p in parts.values()))
    value = "; ".join(f"{m}: {p[0]}" for m, p in parts.items())
    note = " | ".join(f"{m}: {p[1]}" for m, p in parts.items())
    return Verdict(v, value, n_seeds=_n_seeds(d), note=note,
                   extra={f"{m}_verdict": p[0] for m, p in parts.items()} | {f"{m}_reason": p[1] for m, p in parts.items()})


# ------------------------------------------------------------------------------ P1-norm
def _groups(d: pd.DataFrame, col: str) -> list:
    """The finite values of `col` per configuration (configs without any left out)."""
    groups = [g[col].to_numpy(float) for _, g in d.groupby("config", sort=True)]
    return [x[np.isfinite(x)] for x in groups if np.isfinite(x).any()]


NORM_PAPER_CV = 0.145    # the paper's CV of the RMS at T_grok across configurations
NORM_BAND = 2 * NORM_PAPER_CV   # reproduced: the CV's CI inside [0, twice the paper's CV]


@rule("P1-norm", by=("config",), gates=(no_divergence,))
@_doc(paper=fmt(100 * NORM_PAPER_CV), band=fmt(100 * NORM_BAND))
def norm_rule(df: pd.DataFrame, paper_cv: float = NORM_PAPER_CV, band: float = NORM_BAND, min_span: float = 2.0,
              n_boot: int = NORM_N_BOOT) -> Verdict:
    """P1-norm, on grokked members labelled by `config` with `rms_at_grok` (parameter RMS at
    T_grok) and the nulls `rms_at_train` (at T_train) and `rms_init`: the coefficient of variation
    across configurations of the per-config mean RMS at T_grok, with a bootstrap 95% CI
    resampling members within configs (paper {paper}%). *Reproduced* when the CI lies inside
    [0, {band}%] (twice the paper's CV) and the CV at T_grok is below the CV at T_train (the norm marks
    grokking better than it marks memorisation); *partially reproduced* when the CI is inside but
    the CV at T_grok is not below that null, or when the CI overlaps the band; *not reproduced*
    when the CI lies wholly above {band}%; *inconclusive at this profile* when fewer than 3 configs
    grokked, the CI is wider than the band, or the configs' median T_grok span less than
    `min_span` (2x): configs that grok at about the same step would share an RMS whatever the claim."""
    d = outcomes(df)
    g = d[d["grokked"]]
    groups = _groups(g, "rms_at_grok")
    cv, (lo, hi), k = fourier.group_cv(groups), fourier.group_cv_ci(groups, n_boot=n_boot), len(groups)
    cv_train = fourier.group_cv(_groups(g, "rms_at_train")) if "rms_at_train" in g else float("nan")
    cv_init = fourier.group_cv(_groups(g, "rms_init")) if "rms_init" in g else float("nan")
    med = g.groupby("config")["t_grok"].median()
    span = float(med.max() / med.min()) if len(med) and med.min() > 0 else float("nan")
    extra = {"cv": cv, "cv_low": lo, "cv_high": hi, "cv_train": cv_train, "cv_init": cv_init,
             "n_configs": k, "t_grok_span": span}
    value = f"CV {fmt(100 * cv)}% over {k} configs (null: {fmt(100 * cv_train)}% at T_train, {fmt(100 * cv_init)}% at init)"
    note = f"median T_grok spans {fmt(span)}x across configs; band 0-{fmt(100 * band)}% (paper {fmt(100 * paper_cv)}%)"
    if k < 3:
        return Verdict(INCONCLUSIVE, value, lo, hi, _n_seeds(d), note + "; fewer than 3 configs grokked", extra)
    if not (span >= min_span):
        return Verdict(INCONCLUSIVE, value, lo, hi, _n_seeds(d), note + f"; span below {min_span:g}x: configs too alike", extra)
    v = band_verdict(lo, hi, 0.0, band, log=False)
    if v == REPRODUCED and not cv < cv_train:
        v, note = PARTIALLY_REPRODUCED, note + "; CV at T_grok not below the CV at T_train"
    return Verdict(v, value, lo, hi, _n_seeds(d), note, extra)


# ------------------------------------------------------------------------------ P1-fourier
FOURIER_PAPER = {"MLP-GELU": 0.747, "MLP-ReLU": 0.756, "Transformer": 0.985}


@rule("P1-fourier", by=("model",), gates=(no_divergence,))
@_doc(paper=" / ".join(fmt(100 * v) for v in FOURIER_PAPER.values()))
def fourier_rule(df: pd.DataFrame, null: float = float("nan"), paper: dict | None = None,
                 band: float = 0.10, above_null: float = 1.5) -> Verdict:
    """P1-fourier, on members labelled by `model` with `top_share` (top-5 Fourier energy share of
    the token embedding, DC included, read at the end of training); only grokked members count.
    `null`: the top-5 share of a random Gaussian embedding of the same shape (`tables.fourier_null`:
    the highest of the models' `fourier.null_top_share`). Per model, the median share's bootstrap 95% CI:
    *reproduced* when it lies inside the paper's value +- 10 points ({paper}%) and above
    1.5x the null; *not reproduced* when it lies wholly outside that band or its top is below 1.5x
    the null (indistinguishable from a random embedding); *partially* / *inconclusive* by the
    shared band rule; *inconclusive at this profile* when fewer than 2 members grokked, or the
    band's lower edge is not above 1.5x the null (at a small p a random embedding already holds
    most of the energy in 5 frequencies, so the setting cannot show the claim). The claim is
    `rules.combine` over the three models."""
    paper = paper or FOURIER_PAPER
    d = outcomes(df)
    floor = above_null * null
    parts, shown, extra = {}, [], {"null": null, "floor": floor}
    for m, ref in paper.items():
        x = d.loc[(d["model"] == m) & d["grokked"], "top_share"].to_numpy(float)
        x = x[np.isfinite(x)]
        lo, hi = stats.bootstrap_ci(x, n_boot=FOURIER_N_BOOT)
        med = float(np.median(x)) if len(x) else float("nan")
        b_lo, b_hi = ref - band, min(1.0, ref + band)
        if not (b_lo > floor):
            v = INCONCLUSIVE
        elif len(x) < 2:
            v = INCONCLUSIVE
        elif hi < floor:
            v = NOT_REPRODUCED
        else:
            v = band_verdict(lo, hi, b_lo, b_hi, log=False)
            if v == REPRODUCED and lo <= floor:
                v = PARTIALLY_REPRODUCED
        parts[m] = v
        shown.append(f"{m} {fmt(100 * med)}%")
        extra.update({f"share_{m}": med, f"ci_low_{m}": lo, f"ci_high_{m}": hi, f"n_{m}": len(x), f"verdict_{m}": v})
    v = combine(*parts.values())
    note = (f"null (random embedding) {fmt(100 * null)}%, required > {fmt(100 * floor)}%; band +-{fmt(100 * band)} "
            "points; " + "; ".join(f"{m}: {p} ({extra[f'n_{m}']} grokked)" for m, p in parts.items()))
    t = "Transformer"
    return Verdict(v, ", ".join(shown), extra.get(f"ci_low_{t}"), extra.get(f"ci_high_{t}"), _n_seeds(d), note, extra)


# ------------------------------------------------------------------------------ P1-mul
MUL_PAPER = 3.82    # the paper's ReLU / GELU ratio of mean delays on multiplication


@rule("P1-mul", by=("act",), gates=(no_divergence,))
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
