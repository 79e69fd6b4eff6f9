"""P2's verdict rules, registered by claim id, with their constants. Each rule is a function of a
tidy per-member table (one row per member, `p2.tables`): the MLP's and the linear problems' tables
share the names t_train / t_grok, so `rules.outcomes` (grokked = T_grok >= K_DELAY * T_train,
never-generalised members censored at the budget) applies to both. Notes and docstrings write the
paper's T1 / T2 where they quote it (T1 = t_train, T2 = t_grok).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import stats
from ..rules import (K_DELAY, NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE, Verdict, band_verdict, combine, counts, fmt,
                    km_median, no_divergence, outcomes, rule)

SLOPE_BAND = (-1.3, -0.7)   # P2-scaling: the slope's 95% CI must lie inside this band around -1


def _share(mask) -> float:
    m = np.asarray(mask, bool)
    return float(m.mean()) if len(m) else float("nan")


# ------------------------------------------------------------------------------ P2-l1 / P2-nuc
def _penalty_rule(df, kind, control, min_share, budget_factor, min_budget):
    """The P2-l1 / P2-nuc verdict: one part per problem (column `problem`), combined over the
    conclusive parts; inconclusive when no part is conclusive."""
    parts = {str(p): _penalty_part(g, kind, control, min_share, budget_factor, min_budget)
             for p, g in df.groupby("problem", sort=True)}
    done = {p: v for p, v in parts.items() if v.verdict != INCONCLUSIVE}
    verdict = combine(*(v.verdict for v in done.values())) if done else INCONCLUSIVE
    value = "; ".join(f"{p}: {v.our_value}" for p, v in parts.items())
    note = "; ".join(f"{p} {v.verdict} ({v.note})" for p, v in parts.items())
    n_seeds = max((v.n_seeds or 0) for v in parts.values()) if parts else 0
    return Verdict(verdict, value, n_seeds=n_seeds, note=note,
                   extra={p: {"verdict": v.verdict, **v.extra} for p, v in parts.items()})


def _penalty_part(df, kind, control, min_share, budget_factor, min_budget):
    d = outcomes(df)
    pen = d[(d["penalty"] == kind) & (d["beta"] > 0)]
    ctrl = d[d["penalty"] == control]
    if pen.empty or ctrl.empty:
        return Verdict(INCONCLUSIVE, "not run" if pen.empty else "no control run",
                       note=f"needs members with penalty '{kind}' (beta > 0) and the control '{control}'")
    by_beta = pen.groupby("beta")["grokked"].mean()
    best = float(by_beta.idxmax())
    best_share, ctrl_share = float(by_beta.max()), _share(ctrl["grokked"])
    n_seeds = stats.n_seeds(pen)
    delays = {float(b): _km_delay(g) for b, g in pen.groupby("beta")}
    value = (f"grokked {int(pen.grokked.sum())}/{len(pen)} with {kind} (best beta {best:g}: "
             f"{best_share:.0%}), control {int(ctrl.grokked.sum())}/{len(ctrl)}")
    extra = {"best_beta": best, "best_share": best_share, "control_share": ctrl_share,
             "n_grokked": int(pen.grokked.sum()), "n_members": len(pen),
             "n_no_delay": int((pen.outcome == "no delay").sum()), "km_delay": delays}
    budget = float(pen["budget"].max()) if "budget" in pen else float("nan")
    note = f"with {kind}: {_counts(pen)}; control: {_counts(ctrl)} (the control is this book's addition); budget {budget:.0f} steps"
    active = _active(pen)
    if active is not None:
        extra["penalty_active"] = active
        note += f"; the {kind} norm fell after memorising in {active}"
        k, n = (int(x) for x in active.split("/"))
        if n and k / n <= 0.5:
            return Verdict(INCONCLUSIVE, value, n_seeds=n_seeds, extra=extra,
                           note=f"penalty inactive (gate: the {kind} norm falls after memorising in more than half "
                                f"the penalised members; it fell in {active}); " + note)
    verdict = _penalty_verdict(pen, ctrl, budget, min_share, budget_factor, min_budget, delays)
    return Verdict(verdict, value, n_seeds=n_seeds, note=note, extra=extra)


def _active(pen: pd.DataFrame):
    """'k/n': of the penalised members that memorised, those whose penalised norm fell afterwards
    (column `norm_falls`); None when the table has no such column (the linear problems)."""
    if "norm_falls" not in pen:
        return None
    f = pen["norm_falls"].to_numpy(float)
    f = f[np.isfinite(f)]
    return f"{int(f.sum())}/{len(f)}" if len(f) else None


def _km_delay(g: pd.DataFrame) -> float:
    """Kaplan-Meier median delay of a group's memorised members (censored at the budget)."""
    m = g[np.isfinite(g["delay_c"].to_numpy(float))]
    return km_median(m["delay_c"], m["event"])


def _counts(d):
    return counts(d) or "none"


def _penalty_verdict(pen, ctrl, budget, min_share, budget_factor, min_budget, delays):
    """A problem's part of P2-l1 / P2-nuc from counts with intervals: the best beta's share must
    reach `min_share` (`stats.share_at_least`) and exceed the control's (`stats.fewer`, Fisher's
    exact test); counts that cannot decide give *inconclusive*."""
    by_beta = pen.groupby("beta")["grokked"].agg(["sum", "size"])
    best = by_beta.index[np.argmax(by_beta["sum"] / by_beta["size"])]
    bk, bn = int(by_beta.loc[best, "sum"]), int(by_beta.loc[best, "size"])
    ck, cn = int(ctrl["grokked"].sum()), len(ctrl)
    if bk > 0 and ck / cn >= bk / bn:
        return NOT_REPRODUCED                                   # the control groks as often: not the penalty
    if bk > 0:
        above_control = stats.fewer(ck, cn, bk, bn)
        majority = stats.share_at_least(bk, bn, min_share)
        if above_control is None:
            return INCONCLUSIVE                           # the counts cannot separate penalty and control
        if majority is True:
            finite = [delays[b] for b in sorted(delays) if math.isfinite(delays[b])]
            ordered = len(finite) < 2 or all(a >= b for a, b in zip(finite, finite[1:]))
            return REPRODUCED if ordered else PARTIALLY_REPRODUCED    # smaller beta, longer delay (ties allowed)
        return PARTIALLY_REPRODUCED if majority is False else INCONCLUSIVE
    if (pen.outcome == "no delay").any():
        return NOT_REPRODUCED                                   # generalised, but without a delay
    memorised = pen["t_train"].notna()
    if not memorised.any():
        return INCONCLUSIVE                               # nothing memorised: the budget, not the penalty
    long_enough = budget >= max(budget_factor * float(pen.loc[memorised, "t_train"].median()), min_budget)
    return NOT_REPRODUCED if long_enough else INCONCLUSIVE


@rule("P2-l1", by=("problem", "penalty", "beta"), gates=(no_divergence,))
def l1_rule(df: pd.DataFrame, control: str = "none", min_share: float = 0.5, budget_factor: float = 10.0,
            min_budget: float = 20_000) -> Verdict:
    """P2-l1, over members trained with weight decay 0, judged per problem (column `problem`: the
    MLP and/or a linear problem) and combined over the problems whose part is conclusive
    (`rules.combine`; inconclusive when none is). A problem's part: *reproduced* when at some l1 coefficient
    beta > 0 at least half the members grok (memorise, then reach 99% test with T_grok >= 2 T_train)
    while no member of the control (the same runs with the penalty off, `control`) groks, and the
    Kaplan-Meier median delay does not grow with beta (smaller alpha*beta, longer delay);
    *partially reproduced* when some penalised members grok but not that; *not reproduced* when
    the control groks at least as often as the best beta, when penalised members generalise only
    without a delay, or when they memorise and none generalises within a budget of at least
    max(10 x their median T_train, 20k steps); *inconclusive at this profile* when no penalised
    member memorises, the budget is shorter than that, or the penalty or the control was not run.
    Counts decide only through their intervals: "at least half" is `stats.share_at_least` and
    "more often than the control" is Fisher's exact test (`stats.fewer`); where the counts cannot
    decide, the part is inconclusive. Gate, for a problem whose table has `norm_falls` (the MLP):
    the penalty must be active, its norm falling between memorising and the end of the run in
    more than half the penalised members that memorised; else that part is inconclusive (penalty
    inactive). The control is this book's addition: the authors run none."""
    return _penalty_rule(df, "l1", control, min_share, budget_factor, min_budget)


@rule("P2-nuc", by=("problem", "penalty", "beta"), gates=(no_divergence,))
def nuc_rule(df: pd.DataFrame, control: str = "none", min_share: float = 0.5, budget_factor: float = 10.0,
             min_budget: float = 20_000) -> Verdict:
    """P2-nuc: the P2-l1 rule with the nuclear-norm penalty (penalty 'nuclear') in place of l1, per
    problem (column `problem`) and combined over the conclusive problems. A part: *reproduced* when at some beta > 0 at least half the members grok (T_grok >= 2 T_train) while
    the penalty-off control never groks and the median delay does not grow with beta; *partially*
    when some grok but not that; *not reproduced* when the control groks as often, when members
    generalise only without delay, or none generalises within max(10 x median T_train, 20k) steps;
    *inconclusive at this profile* when nothing memorises or the budget is shorter, or the counts
    cannot decide (intervals as in P2-l1), or (the MLP) the nuclear norm did not fall after
    memorising in more than half the penalised members (the penalty-active gate of P2-l1)."""
    return _penalty_rule(df, "nuclear", control, min_share, budget_factor, min_budget)


# ------------------------------------------------------------------------------ P2-l2proxy
def _l2proxy_part(g: pd.DataFrame, share: float, min_members: int) -> Verdict:
    n = len(g)
    l1_falls = g["l1_grok"] < g["l1_train"]
    grows = g["l2_grok"] > g["l2_train"]
    a, k = int(l1_falls.sum()), int((grows & l1_falls).sum())
    value = f"l1 fell in {a}/{n}, l2 grew in {k}/{a} of those"
    extra = {"n": n, "l1_falls": a, "k": k, "l2_grows": int(grows.sum())}
    if n < min_members:
        return Verdict(INCONCLUSIVE, value, note=f"fewer than {min_members} l1 members generalised", extra=extra)
    if a / n <= 0.5:
        return Verdict(INCONCLUSIVE, value, extra=extra, note=f"penalty inactive (gate: l1 falls from T_train to "
                       f"T_grok in more than half the members; {a}/{n})")
    lo, hi = stats.share_ci(k, a)
    return Verdict(stats.share_band(k, a, 1 - share, share), value, lo, hi, extra=extra,
                   note=f"share {k / a:.2f}, exact {stats.COUNT_LEVEL:.0%} interval [{lo:.2f}, {hi:.2f}]")


def _wd_control(c: pd.DataFrame, min_members: int) -> tuple[bool, str]:
    """P2-l2proxy's weight-decay control for one problem (its members trained with weight decay
    that generalised after memorising): does the measure show the fall the weight-norm story predicts, l2 falling
    from T_train to T_grok in more than half of them? (passes, words for the note)."""
    fell = int((c["l2_grok"] < c["l2_train"]).sum())
    if len(c) < min_members:
        return False, f"weight-decay control: {len(c)} member(s) generalised, {min_members} needed"
    return fell / len(c) > 0.5, f"weight-decay control: l2 fell in {fell}/{len(c)}"


@rule("P2-l2proxy", by=("problem", "beta"), gates=(no_divergence,))
def l2proxy_rule(df: pd.DataFrame, share: float = 2 / 3, min_members: int = 2) -> Verdict:
    """P2-l2proxy, per problem (column `problem`: the MLP, sparse recovery), over l1-penalised
    members that memorised and then generalised (T_grok > T_train), with their norms at T_train
    and T_grok (columns l2_train, l2_grok, l1_train, l1_grok). Gate per problem: the penalty is
    active, l1 falling from T_train to T_grok in more than half the members (else that part is
    inconclusive: penalty inactive). A part: of the members whose l1 fell, the share whose l2
    grew (strictly); *reproduced* when that share's exact interval (`stats.share_ci`) lies at or
    above `share` (2/3), *not reproduced* when it lies below 1 - `share` (1/3), *partially
    reproduced* between (`stats.share_band`), *inconclusive at this profile* when it straddles
    an edge or with fewer than `min_members` (2) members. The weight-norm story predicts l2 falls
    (a share near 0). Rows with `penalty` 'wd' are a problem's weight-decay control (decoupled
    weight decay, no l1, where l2 should fall): where a problem has one, its part counts only when l2 fell in
    more than half of the control's (at least `min_members`) generalised members, else it is
    inconclusive (the measure did not show the predicted fall). The verdict combines the
    conclusive parts (`stats.combine`), as P2-l1; inconclusive when none is."""
    d = outcomes(df)
    if "penalty" not in d:
        d = d.assign(penalty="l1")
    g_all = d[d["event"] & (d["t_grok"] > d["t_train"])]
    g, ctrl = g_all[g_all["penalty"] != "wd"], g_all[g_all["penalty"] == "wd"]
    parts = {str(p): _l2proxy_part(h, share, min_members) for p, h in g.groupby("problem", sort=True)}
    for p in d.loc[d["penalty"] == "wd", "problem"].unique():
        if str(p) not in parts:
            continue
        ok, words = _wd_control(ctrl[ctrl["problem"] == p], min_members)
        v = parts[str(p)]
        parts[str(p)] = Verdict(v.verdict if ok else INCONCLUSIVE, v.our_value, v.ci_low, v.ci_high,
                                note=f"{v.note}; {words}" + ("" if ok else " (gate: more than half)"),
                                extra={**v.extra, "control_ok": ok})
    if not parts:
        return Verdict(INCONCLUSIVE, "no member generalised after memorising", n_seeds=0,
                       note=f"fewer than {min_members} l1 members generalised", extra={"k": 0, "n": 0})
    value = "; ".join(f"{p}: {v.our_value}" for p, v in parts.items())
    note = "; ".join(f"{p} {v.verdict} ({v.note})" for p, v in parts.items())
    one = next(iter(parts.values())) if len(parts) == 1 else None
    extra = {"parts": {p: {"verdict": v.verdict, **v.extra} for p, v in parts.items()},
             "k": sum(v.extra["k"] for v in parts.values()), "n": sum(v.extra["n"] for v in parts.values())}
    done = [v.verdict for v in parts.values() if v.verdict != INCONCLUSIVE]
    return Verdict(combine(*done) if done else INCONCLUSIVE, value, one.ci_low if one else None,
                   one.ci_high if one else None, n_seeds=stats.n_seeds(g), note=note, extra=extra)


# ------------------------------------------------------------------------------ P2-scaling
def _with_constants(**values):
    """Format the rule's docstring with `values` (the constants it states), before `@rule` reads it."""
    def wrap(fn):
        fn.__doc__ = fn.__doc__.format(**values)
        return fn
    return wrap


def _slope_part(d: pd.DataFrame, band, min_decades, y, n_boot) -> Verdict:
    """One problem's part of P2-scaling (see `scaling_rule`)."""
    bad = d["recoverable"].eq(False) if "recoverable" in d else pd.Series(False, index=d.index)
    d = d[~bad]
    reached = np.isfinite(d[y].to_numpy(float)) & (d[y].to_numpy(float) > 0)
    censored_ab = sorted(set(d.loc[~reached, "alpha_beta"]))
    fit = d[reached & ~d["alpha_beta"].isin(censored_ab)]
    ab = fit["alpha_beta"].to_numpy(float)
    decades = float(np.log10(ab.max() / ab.min())) if len(ab) else 0.0
    point, lo, hi = stats.slope_ci(fit, x="alpha_beta", y=y, n_boot=n_boot) if len(fit) else (np.nan,) * 3
    extra = {"slope": point, "ci": [lo, hi], "decades": decades, "n_fit": len(fit), "n_unrecoverable": int(bad.sum()),
             "censored_alpha_beta": [float(v) for v in censored_ab]}
    note = (f"{len(fit)} members over {fit['alpha_beta'].nunique()} alpha*beta values spanning {decades:.2f} decades; "
            f"{int(bad.sum())} members of unrecoverable instances left out; {len(censored_ab)} alpha*beta values "
            f"with members still moving at the budget left out")
    value = f"slope {fmt(point)} [{fmt(lo)}, {fmt(hi)}]"
    if decades < min_decades - 1e-9:
        return Verdict(INCONCLUSIVE, value, lo, hi, stats.n_seeds(fit), f"alpha*beta spans < {min_decades:g} decades; " + note, extra)
    return Verdict(band_verdict(lo, hi, band[0], band[1], log=False), value, lo, hi, stats.n_seeds(fit), note, extra)


@rule("P2-scaling", by=("problem", "alpha_beta"))
@_with_constants(low=SLOPE_BAND[0], high=SLOPE_BAND[1])
def scaling_rule(df: pd.DataFrame, band: tuple = SLOPE_BAND, min_decades: float = 2.0, y: str = "delay",
                 n_boot: int = 1000) -> Verdict:
    """P2-scaling, per problem (column `problem`: sparse recovery, matrix completion): the least-squares slope of log(T2 - T1) (the column `y`; a chapter may pass the
    authors' plateau T2 when T1 << T2) against log(alpha*beta) over the members that reached T2,
    with a bootstrap 95% CI resampling problem instances (seeds) whole. Instances that cannot be
    recovered by any method (column `recoverable` False) are left out and counted apart; an
    alpha*beta value at which some recoverable member has no T2 (still moving at the budget) is
    left out of the fit (its delay is only known to exceed the budget) and counted. A problem's
    part is *inconclusive at this profile* when the alpha*beta values fitted span less than
    `min_decades` (2) decades, or there is no CI; otherwise the equivalence rule against the band
    [{low:g}, {high:g}] around the paper's -1: CI inside -> reproduced, wholly outside -> not
    reproduced, wider than the band -> inconclusive, else partially reproduced. Every problem's
    slope must hold (`stats.all_of`)."""
    parts = {str(p): _slope_part(g, band, min_decades, y, n_boot) for p, g in df.groupby("problem", sort=True)}
    one = next(iter(parts.values())) if len(parts) == 1 else None
    value = "; ".join(f"{p}: {v.our_value}" for p, v in parts.items())
    note = "; ".join(f"{p} {v.verdict} ({v.note})" for p, v in parts.items()) + f"; band {tuple(band)}"
    extra = {"parts": {p: {"verdict": v.verdict, **v.extra} for p, v in parts.items()}, "band": list(band)}
    if one is not None:
        extra.update(one.extra)
    return Verdict(stats.all_of(*(v.verdict for v in parts.values())), value,
                   one.ci_low if one else float("nan"), one.ci_high if one else float("nan"),
                   max(v.n_seeds or 0 for v in parts.values()), note, extra)


# ------------------------------------------------------------------------------ P2-depth
def _grok_over_train(g: pd.DataFrame) -> float:
    """Median T2/T1 (t_grok / t_train) over a group's members that generalised (inf when none did)."""
    e = g[g["event"]]
    return float(np.median(e["t_grok"] / np.maximum(e["t_train"], 1))) if len(e) else math.inf


def _depth_part(g: pd.DataFrame, L: int, small: float, min_memorised: int) -> str:
    """One depth's part of P2-depth (see `depth_rule`)."""
    g = g[g["t_train"].notna()]          # a member that never memorised carries no delay either way
    if len(g) < min_memorised:
        return INCONCLUSIVE
    if L == 1:     # delay present: memorised, then late or never generalised
        return REPRODUCED if _share(g["outcome"].isin(["grokked", "not generalised"])) > 0.5 else NOT_REPRODUCED
    bar = small if L == 2 else K_DELAY
    ok = int((g["event"] & (g["t_grok"] < bar * np.maximum(g["t_train"], 1))).sum())
    if ok > len(g) / 2:
        return REPRODUCED
    waiting = g[g["outcome"] == "not generalised"]
    if waiting["budget"].isna().any():
        return INCONCLUSIVE
    still_open = int((waiting["budget"] < bar * np.maximum(waiting["t_train"], 1)).sum())  # could yet pass
    return INCONCLUSIVE if ok + still_open > len(g) / 2 else NOT_REPRODUCED


def memorise_budget(g: pd.DataFrame, need: int) -> float:
    """The budget at which `need` members of `g` (one depth's rows: t_train, final_train_err,
    budget, tol) would have memorised, if each still-training member's train error keeps falling
    as 1/t (as L = 3 did from 500k to 10^6 steps): the members that memorised count at once, and a
    member ending at error e > tol after B steps reaches tol near B e / tol. NaN without the columns."""
    if not {"final_train_err", "budget", "tol"} <= set(g.columns):
        return math.nan
    done = g["t_train"].notna()
    if done.sum() >= need:
        return float(g.loc[done, "t_train"].nsmallest(need).iloc[-1]) if need else 0.0
    rest = (g.loc[~done, "budget"] * g.loc[~done, "final_train_err"] / g.loc[~done, "tol"]).sort_values()
    k = need - int(done.sum())
    return float(rest.iloc[k - 1]) if len(rest) >= k else math.nan


@rule("P2-depth", by=("L_depth",))
def depth_rule(df: pd.DataFrame, small: float = 10.0, min_memorised: int = 3) -> Verdict:
    """P2-depth, over unregularised (beta = 0) members of the product parametrisation
    a = A_1 * ... * A_L (column L_depth) at one N: three parts, each on its own depth's members.
    L = 1, delay present: more than half memorise and then generalise late (grokked) or never;
    L = 2, small delay: more than half generalise with T2/T1 below `small` (10);
    L > 2, none: more than half generalise with T2/T1 below K_DELAY (2, i.e. no delay).
    Each part counts only the members that memorised ("more than half" is of those; a member still
    inside depth's slow start at the budget carries no delay either way, and the value counts it).
    A member still waiting at a budget under its part's bar x T1 could yet pass: a part is
    inconclusive when its depth was not run, fewer than `min_memorised` (3) of its members
    memorised (the budget ended inside depth's slow start), or (L >= 2) the passing members with
    those still open would make a majority; otherwise reproduced or not reproduced. A member
    waiting past the bar can no longer pass, whenever it generalises. The verdict combines the
    parts (`rules.combine`): reproduced only when all three are; not reproduced when neither
    deeper part (L = 2, L > 2) is, whatever L = 1 shows; with a part inconclusive, conclusive only
    when every way it could turn out gives the same verdict (`stats.resolve`)."""
    d = outcomes(df)
    parts = {"L=1": _depth_part(d[d["L_depth"] == 1], 1, small, min_memorised),
             "L=2": _depth_part(d[d["L_depth"] == 2], 2, small, min_memorised),
             "L>2": _depth_part(d[d["L_depth"] > 2], 3, small, min_memorised)}
    ratio = {int(L): _grok_over_train(g) for L, g in d.groupby("L_depth")}
    value = "; ".join(f"L={L}: {_counts(g)}" for L, g in d.groupby("L_depth"))
    note = ("parts: " + ", ".join(f"{k} {v}" for k, v in parts.items()) + "; median T2/T1 by L: "
            + ", ".join(f"L={L} {fmt(r)}" for L, r in ratio.items()))
    for L, g in d[d["L_depth"] >= 2].groupby("L_depth"):
        if g["t_train"].notna().sum() < min_memorised:
            need = memorise_budget(g, min_memorised)
            note += (f"; L={L}: {int(g['t_train'].notna().sum())} of {len(g)} memorised by {fmt(g['budget'].max())} "
                     f"steps, {min_memorised} needed" + (f" (about {need:.1e} steps if train error keeps "
                                                        "falling as 1/t)" if math.isfinite(need) else ""))
    n_seeds = stats.n_seeds(d)
    verdict = stats.resolve(lambda v: NOT_REPRODUCED if v[1] == v[2] == NOT_REPRODUCED else stats.combine(*v), *parts.values())
    return Verdict(verdict, value, n_seeds=n_seeds, note=note, extra={"parts": parts, "ratio": ratio})


# ------------------------------------------------------------------------------ P2-select
GENERALISED_ERR = 0.1   # P2-select: a member generalised when its final recovery error is at most this


def _select_part(r: np.ndarray, sign: int, min_rho: float, min_instances: int):
    """One problem's part of P2-select from its instances' rho: (verdict, mean, CI low, CI high)."""
    r = r[np.isfinite(r)]
    if len(r) < min_instances:
        return INCONCLUSIVE, float("nan"), float("nan"), float("nan")
    mean = float(r.mean())
    lo, hi = stats.bootstrap_ci(r, stat=np.mean)
    a, b = sorted((sign * lo, sign * hi))          # the interval on the predicted side's axis
    if a > 0 and sign * mean >= min_rho:
        return REPRODUCED, mean, lo, hi
    if b < min_rho:
        return NOT_REPRODUCED, mean, lo, hi
    return INCONCLUSIVE, mean, lo, hi


@rule("P2-select", by=("problem",))
@_with_constants(err=GENERALISED_ERR)
def select_rule(df: pd.DataFrame, min_rho: float = 0.3, min_instances: int = 3, expected: dict | None = None) -> Verdict:
    """P2-select, over problem instances (one row per problem, N and seed, `p2.selection_instances`):
    within each instance, the Spearman correlation rho between tau (the share of samples chosen by
    coherence) and T2, the authors' plateau time of the recovery error (first two consecutive
    records within 5% of the mean of the last three), a member that never generalised (final
    recovery error above {err:g}, or still falling at the budget) ranked slowest (censored, not
    dropped). Members whose instance cannot be recovered by any method are left out and counted
    (sensing: basis pursuit fails; completion: a row or column observed fewer than rank times).
    P2 predicts rho < 0 for matrix completion (coherent entries speed it up) and rho > 0 for
    compressed sensing (coherent measurements slow it down). A problem's part, from the mean rho
    over instances and its bootstrap 95% CI over instances: reproduced when the CI lies wholly on
    the predicted side of 0 and the mean has |rho| >= `min_rho` (0.3); not reproduced when the CI
    lies wholly below `min_rho` on the predicted side (no effect, or the opposite one);
    inconclusive otherwise or with fewer than `min_instances` (3) instances. The verdict combines
    the parts. The claim's other half (fewer samples needed as tau -> 1) is not scored."""
    expected = expected or {"matrix completion": -1, "compressed sensing": +1}
    parts, rhos, cis, counts_ = {}, {}, {}, {}
    for prob, sign in expected.items():
        g = df[df["problem"] == prob]
        v, m, lo, hi = _select_part(g["rho"].to_numpy(float), sign, min_rho, min_instances)
        parts[prob], rhos[prob], cis[prob] = v, m, (lo, hi)
        counts_[prob] = int(np.isfinite(g["rho"].to_numpy(float)).sum())
    value = "; ".join(f"{p}: mean rho(tau, T2) {fmt(rhos[p], 2)} [{fmt(cis[p][0], 2)}, {fmt(cis[p][1], 2)}] "
                      f"over {counts_[p]} instances" for p in expected)
    left = {c: int(df[c].sum()) for c in ("n_unrecoverable", "n_settings_left_out", "n_never") if c in df}
    note = (f"members left out as unrecoverable: {left.get('n_unrecoverable', 0)}; in settings left out: "
            f"{left.get('n_settings_left_out', 0)}; ranked as never generalised: {left.get('n_never', 0)}; parts: "
            + ", ".join(f"{p} {v}" for p, v in parts.items())
            + "; the claim's other half (fewer samples as tau -> 1) is not scored")
    lo, hi = (cis.get("matrix completion") or (np.nan, np.nan))
    return Verdict(combine(*parts.values()), value, n_seeds=stats.n_seeds(df), note=note,
                   extra={"rho": rhos, "ci": {p: list(c) for p, c in cis.items()}, "parts": parts,
                          "instances": counts_, **left})
