"""P3's verdict rules, registered by claim id, with their constants. Each rule is a function of a
tidy per-member table (`p3.tables`); `rules.outcomes` decides what *grokked* means (memorised,
then 99% test with T_grok >= 2 T_train) and censors never-generalised members at the budget.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import stats
from ..rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE, Verdict, band_verdict, combine, counts, fmt, km_median
from ..rules import min_members, no_divergence
from ..rules import outcomes, rule


# ----------------------------------------------------------------------------- verdict rules
def fmt_steps(x) -> str:
    """A step count for a note: 2,150 rather than 2.15e+03; `rules.fmt` for NaN and inf."""
    return f"{float(x):,.0f}" if np.isfinite(x) and abs(x) < 1e6 else fmt(x)


def _delays(d: pd.DataFrame):
    """Censored delays and events of the memorised members of `d` (never-memorised ones carry no delay)."""
    m = d[np.isfinite(d["delay_c"].to_numpy(float))]
    return m["delay_c"].to_numpy(float), m["event"].to_numpy(bool)


def _peaks(alphas, medians) -> np.ndarray:
    """The peak alpha of each row of per-alpha censored median delays (alphas ascending, NaN = no
    member memorised). The run of alphas at the low end whose median is infinite (most members
    never generalised within the budget) is the paper's *no generalisation* side, not a peak; above
    the first alpha that finishes, the largest median wins (an infinite one too: its delay exceeds
    the budget), ties to the smaller alpha. NaN for a row where no alpha finishes."""
    alphas, med = np.asarray(alphas, float), np.atleast_2d(np.asarray(medians, float))
    finite = np.isfinite(med)
    start = np.argmax(finite, axis=1)
    m = np.where(np.isnan(med) | (np.arange(med.shape[1]) < start[:, None]), -np.inf, med)
    return np.where(finite.any(1), alphas[np.argmax(m, axis=1)], np.nan)


def _peak_ci(groups: dict, alphas, n_boot: int, seed: int = 0):
    """Percentile 95% interval of the peak alpha over bootstrap resamples of the members within
    each alpha (and the share of resamples where no alpha finished)."""
    rng = np.random.default_rng(seed)
    cols = []
    for a in alphas:
        t, e = _delays(groups[a])
        if len(t) == 0:
            cols.append(np.full(n_boot, np.nan))
            continue
        idx = stats.resample_idx(len(t), n_boot, rng=rng)
        cols.append(stats.km_median_rows(t[idx], e[idx]))
    med = np.column_stack(cols)
    peaks = _peaks(alphas, med)
    ok = peaks[np.isfinite(peaks)]
    if len(ok) < 0.95 * n_boot:
        return float("nan"), float("nan")
    return stats.percentile_ci(ok)


def _high_alpha(g: pd.DataFrame, peak_delay: float, tiny: float) -> tuple[bool | None, str]:
    """Whether one high alpha shows *no delay*: at least half its memorised members generalised
    without delay (T_grok < 2 T_train), or its censored median delay is at most `tiny` x the peak's.
    None when no member memorised."""
    t, e = _delays(g)
    if len(t) == 0:
        return None, "none memorised"
    share = float((g["outcome"] == "no delay").sum()) / len(t)
    med = km_median(t, e)
    ok = share >= 0.5 or (math.isfinite(peak_delay) and med <= tiny * peak_delay)
    return ok, f"{fmt(100 * share)}% no delay, median delay {fmt_steps(med)}"


@rule("P3-frac", by=("frac",), gates=(no_divergence,))
def fraction_rule(df: pd.DataFrame, band=(0.4, 0.6), high_alpha: float = 0.75, tiny: float = 0.1,
                  n_boot: int = 200) -> Verdict:
    """P3-frac, on members labelled by `frac` (the training fraction alpha) with their T_train,
    T_grok and budget. Per alpha, the Kaplan-Meier median of the delay T_grok - T_train, where a
    member that memorised and never generalised is censored at the budget (its delay is "more
    than budget - T_train", never dropped) and a member that never memorised carries no delay.
    (a) *The peak*: the alpha with the largest censored median delay. Alphas at the low end of
    the grid whose median is infinite (most members never generalised within the budget) are the
    paper's *no generalisation within the budget* side and are reported, not taken as the peak;
    above the first alpha that finishes, an unfinished alpha is a peak like any other (its delay
    exceeds the budget). Its 95% interval comes from resampling the members within each alpha;
    judged against the band [0.4, 0.6] around the paper's 0.5 by the shared band rule (inside:
    reproduced; wholly outside: not reproduced; wider than the band: inconclusive; else
    partially). When every alpha below the peak is unfinished, the note says so: with a delay that
    falls as alpha grows, the peak is then the smallest alpha that finishes, and a longer budget
    can move it lower. (b) *No delay at high alpha*: every alpha >= 0.75 shows no delay - at least half
    of its memorised members generalised without delay (T_grok < 2 T_train), or its censored
    median delay is at most 10% of the peak's; not reproduced when none does, partially when
    some do. The claim is *not reproduced* when either part is, *reproduced* when both are;
    *inconclusive at this profile* when fewer than 2 alphas finish (nothing to locate a peak
    among), the grid has no alpha in the band or none >= 0.75."""
    d = outcomes(df)
    alphas = np.sort(d["frac"].unique()).astype(float)
    groups = {a: d[d["frac"] == a] for a in alphas}
    med = np.array([km_median(*_delays(groups[a])) for a in alphas])
    per = {a: f"{fmt(a)}: {counts(groups[a])}, median delay {fmt_steps(m)}" for a, m in zip(alphas, med)}
    extra = {"alphas": list(alphas), "median_delay": list(med)}
    note = "; ".join(per.values())
    peak = float(_peaks(alphas, med)[0])
    n_fin = int(np.isfinite(med).sum())
    in_band = ((alphas >= band[0]) & (alphas <= band[1])).any()
    high = alphas[alphas >= high_alpha]
    if n_fin < 2 or not in_band or not len(high):
        why = ("fewer than 2 alphas finish within the budget" if n_fin < 2 else
               f"no alpha of the grid in {band}" if not in_band else f"no alpha >= {high_alpha:g} in the grid")
        return Verdict(INCONCLUSIVE, f"peak alpha {fmt(peak)}", n_seeds=stats.n_seeds(d), note=f"{why}; {note}", extra=extra)
    lo, hi = _peak_ci(groups, alphas, n_boot)
    peak_v = band_verdict(lo, hi, band[0], band[1], log=False)
    peak_delay = float(med[alphas == peak][0])
    checks = {a: _high_alpha(groups[a], peak_delay, tiny) for a in high}
    oks = [ok for ok, _ in checks.values() if ok is not None]
    high_v = INCONCLUSIVE if not oks else REPRODUCED if all(oks) else NOT_REPRODUCED if not any(oks) else PARTIALLY_REPRODUCED
    v = stats.all_of(peak_v, high_v)
    below = alphas[alphas < peak]
    edge = bool(len(below)) and not np.isfinite(med[alphas < peak]).any()   # only unfinished alphas below
    extra.update(peak=peak, peak_low=lo, peak_high=hi, peak_delay=peak_delay, peak_verdict=peak_v,
                 high_verdict=high_v, band_low=band[0], band_high=band[1], budget_edge=edge)
    value = f"peak alpha {fmt(peak)} (median delay {fmt_steps(peak_delay)}); alpha >= {high_alpha:g}: " + \
        ", ".join(f"{fmt(a)} {'no delay' if ok else 'delay' if ok is not None else 'n/a'}" for a, (ok, _) in checks.items())
    note = (f"peak {peak_v} (interval {fmt(lo)}-{fmt(hi)}, band {fmt(band[0])}-{fmt(band[1])}); high alpha "
            f"{high_v} (" + "; ".join(f"{fmt(a)}: {w}" for a, (_, w) in checks.items()) + ")"
            + ("; the peak is the smallest alpha that finishes: the budget sets its place" if edge else "")
            + f" | {note}")
    return Verdict(v, value, lo, hi, stats.n_seeds(d), note, extra)


def _mlp_part(g: pd.DataFrame, room: float) -> tuple[str, str]:
    """The no-weight-decay MLP's part (see `arch_rule`): three outcomes, told apart."""
    if g.empty:
        return INCONCLUSIVE, "no MLP member"
    c = g["outcome"].value_counts()
    n_grok, n_nd, n_ng = (int(c.get(k, 0)) for k in ("grokked", "no delay", "not generalised"))
    if n_grok >= len(g) / 2:
        return NOT_REPRODUCED, f"groks with delay ({counts(g)})"
    if n_nd + n_ng == 0:
        return INCONCLUSIVE, f"never memorised ({counts(g)})"
    if n_nd >= n_ng:
        return REPRODUCED, f"train and test rise together ({counts(g)})"
    t_tr = float(np.nanmedian(g["t_train"].to_numpy(float)))
    if not float(g["budget"].min()) >= room * t_tr:
        return INCONCLUSIVE, f"memorised, not generalised, but the budget is below {room:g} x T_train ({counts(g)})"
    return PARTIALLY_REPRODUCED, f"no grokking, but test never rises with train: memorised, never generalised ({counts(g)})"


def _lstm_part(g: pd.DataFrame, plateau: float) -> tuple[str, str]:
    """The no-weight-decay LSTM's part (see `arch_rule`)."""
    if g.empty:
        return INCONCLUSIVE, "no LSTM member"
    mem = np.isfinite(g["t_train"].to_numpy(float))
    acc = ""
    if "final_train_acc" in g:
        acc = f", final train {fmt(g['final_train_acc'].median())}, test {fmt(g['final_test_acc'].median())}"
    if mem.sum() >= len(g) / 2:
        return NOT_REPRODUCED, f"memorises: {int(mem.sum())}/{len(g)} reach 99% train{acc}"
    gain = g.loc[~mem, "train_acc_gain"].to_numpy(float) if "train_acc_gain" in g else np.array([np.nan])
    gain_s = f"; train accuracy gain over the last quarter {fmt(np.nanmedian(gain)) if np.isfinite(gain).any() else 'n/a'}"
    if not np.isfinite(gain).any():
        return INCONCLUSIVE, f"{int(mem.sum())}/{len(g)} memorised{acc}; whether train accuracy had stopped rising is unknown"
    if np.nanmedian(gain) >= plateau:
        return INCONCLUSIVE, f"{int(mem.sum())}/{len(g)} memorised{acc}{gain_s}: still learning at the budget"
    return REPRODUCED, f"never memorises: {int(mem.sum())}/{len(g)} memorised, train accuracy on a plateau{acc}{gain_s}"


@rule("P3-arch", by=("arch",), gates=(no_divergence,))
def arch_rule(df: pd.DataFrame, room: float = 10.0, plateau: float = 0.02, paper_budget: float = 100_000) -> Verdict:
    """P3-arch, on the members trained without weight decay (`wd` 0) labelled by `arch` ('MLP',
    'LSTM'; others ignored). (1) *The MLP shows train and test rising together (no grokking)*,
    told apart from the other ways not to grok: *reproduced* when most memorised members
    generalised without delay (T_grok < 2 T_train: test rose with train); *not reproduced* when
    at least half its members grokked (memorised, then 99% test with T_grok >= 2 T_train);
    *partially reproduced* when most memorised and never generalised within a budget of at least
    10 x their median T_train (no grokking, but test never rose with train); *inconclusive* when
    the budget is shorter than that (no room for a delay) or no member memorised. (2) *The LSTM
    never memorises* (train ~0.9, test ~0.65 after 100k steps): *not reproduced* when at least
    half its members reach 99% train accuracy; *reproduced* when fewer do and the train accuracy
    of those that did not had stopped rising - its median gain over the last quarter of the run
    (column `train_acc_gain`, from `p3.train_acc_gain`) is below 0.02 (a plateau, not a budget cut);
    *inconclusive* when it was still rising (a longer budget might memorise) or the gain is
    missing. The claim is *not reproduced* when either part is, else *inconclusive* when either
    is, *partially* when either is, *reproduced* when both hold. The paper's negative results
    come from a 100k-step budget; the note states ours."""
    d = outcomes(df)
    if "wd" in d:
        d = d[d["wd"] == 0]
    (mv, mw), (lv, lw) = _mlp_part(d[d["arch"] == "MLP"], room), _lstm_part(d[d["arch"] == "LSTM"], plateau)
    per = {a: float(g["budget"].max()) for a, g in d.groupby("arch")}
    budget = max(per.values(), default=float("nan"))
    budgets = ", ".join(f"{a} {fmt_steps(b)}" for a, b in per.items())
    note = f"wd 0; MLP: {mv}; LSTM: {lv}; budgets {budgets} steps (paper {fmt_steps(paper_budget)})"
    return Verdict(stats.all_of(mv, lv), f"MLP: {mw}; LSTM: {lw}", n_seeds=stats.n_seeds(d), note=note,
                   extra={"mlp": mw, "lstm": lw, "mlp_verdict": mv, "lstm_verdict": lv, "budget": budget})


def _scores(d: pd.DataFrame, n_boot: int, seed: int = 0):
    """Each optimizer's score (mean over alpha of its mean best test accuracy) and (n_boot,)
    bootstrap draws of it, resampling members within each (optimizer, alpha)."""
    rng = np.random.default_rng(seed)
    point, boots = {}, {}
    for opt, g in d.groupby("optimizer", sort=True):
        per, draws = [], []
        for _, h in g.groupby("frac", sort=True):
            x = h["best_test_acc"].to_numpy(float)
            per.append(x.mean())
            draws.append(x[stats.resample_idx(len(x), n_boot, rng=rng)].mean(1))
        point[opt], boots[opt] = float(np.mean(per)), np.mean(draws, axis=0)
    return point, boots


def _win(d: pd.DataFrame, margin: float, n_boot: int):
    """(verdict, point, lo, hi, best other) for *AdamW generalises best*: the difference between the
    best AdamW variant's score and the best other variant's, with a bootstrap 95% CI."""
    point, boots = _scores(d, n_boot)
    ours = [o for o in point if o.startswith("AdamW")]
    others = [o for o in point if not o.startswith("AdamW")]
    if not ours or not others:
        return INCONCLUSIVE, float("nan"), float("nan"), float("nan"), ""
    rival = max(others, key=point.get)
    diff = max(point[o] for o in ours) - point[rival]
    draws = np.max([boots[o] for o in ours], 0) - np.max([boots[o] for o in others], 0)
    lo, hi = stats.percentile_ci(draws)
    if lo > margin:
        v = REPRODUCED
    elif hi < -margin:
        v = NOT_REPRODUCED
    elif -margin <= lo and hi <= margin:
        v = PARTIALLY_REPRODUCED   # a tie within the margin: not a win
    else:
        v = INCONCLUSIVE   # the CI reaches past a margin edge: cannot tell a win from a tie
    return v, diff, lo, hi, rival


@rule("P3-opt", by=("optimizer", "frac"), gates=(no_divergence, min_members(3, ("optimizer", "frac"))))
def optimizer_rule(df: pd.DataFrame, margin: float = 0.02, t_train_max: float = 400,
                   generalised: float = 0.5, chance: float = float("nan"), n_boot: int = 500) -> Verdict:
    """P3-opt, on members labelled by `optimizer` (the variant's name; AdamW variants start with
    'AdamW') and `frac`, with `best_test_acc` (best test accuracy within the budget) and T_train.
    A variant's score is the mean over alpha of its members' mean best test accuracy. (a) *AdamW
    generalises best*: the difference between the best AdamW variant's score and the best other
    variant's, with a bootstrap 95% CI resampling members within (optimizer, alpha): *reproduced*
    when the CI lies above +2 points (a win), *not reproduced* when it lies below -2 points,
    *partially* when it lies within +-2 points (a tie, and ties are not wins), *inconclusive* when
    it reaches past a margin edge; inconclusive too when no variant reaches a best test accuracy
    of 0.5 (nothing generalised to rank; `chance`, 1/p, is reported beside it). (b) *Train
    accuracy is reached after ~100-200 updates under every optimizer and alpha*: the median T_train
    of every (optimizer, alpha) group (never memorised counts as infinite) is at most 400 updates
    (twice the paper's 200): *reproduced* when every group is, *partially* when at least half are,
    *not reproduced* otherwise. The claim is `rules.combine` of the two parts."""
    d = df.copy()
    win, diff, lo, hi, rival = _win(d, margin, n_boot)
    top = float(d.groupby(["optimizer", "frac"])["best_test_acc"].mean().max()) if len(d) else float("nan")
    if not top >= generalised:
        win = INCONCLUSIVE
    t_tr = d.assign(t=d["t_train"].fillna(np.inf)).groupby(["optimizer", "frac"])["t"].median()
    slow = [f"{o} @ {fmt(a)}" for (o, a), t in t_tr.items() if not t <= t_train_max]
    fast = 1 - len(slow) / max(len(t_tr), 1)
    speed = REPRODUCED if not slow else PARTIALLY_REPRODUCED if fast >= 0.5 else NOT_REPRODUCED
    v = combine(win, speed)
    value = f"best AdamW - best other ({rival}): {fmt(diff)}; {len(t_tr) - len(slow)}/{len(t_tr)} groups memorise by {fmt_steps(t_train_max)}"
    note = (f"AdamW best: {win} (CI {fmt(lo)} to {fmt(hi)}, margin +-{fmt(margin)}; top group best test "
            f"{fmt(top)}, chance {fmt(chance)}); T_train: {speed}; slow groups: {', '.join(slow) or 'none'}")
    return Verdict(v, value, lo, hi, stats.n_seeds(d), note,
                   {"diff": diff, "rival": rival, "win": win, "speed": speed, "slow": slow,
                    "n_groups": len(t_tr), "top": top, "chance": chance, "margin": margin})
