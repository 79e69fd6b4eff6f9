"""The statistics behind every verdict, in one place: the percentile bootstrap, Kaplan-Meier
medians of censored delays, exact binomial intervals for counts and shares, log-log slopes, the
one way a claim's parts combine, and the one definition of a rule's seed count.

Every interval is a 95% interval unless a function says otherwise; counts and shares use the
exact (Clopper-Pearson) interval at COUNT_LEVEL, so "2 of 3" is not as firm as "20 of 30".
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as _sp

REPRODUCED, PARTIALLY_REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = ("reproduced", "partially reproduced", "not reproduced",
                                     "inconclusive at this profile")
LEVEL = 0.95            # bootstrap and value intervals
COUNT_LEVEL = 0.90      # exact binomial interval of a share: each one-sided bound at 95%
N_BOOT = 1000           # bootstrap resamples inside a rule (the ledger reruns the rule for firmness)
MIN_PER_CONFIG = 3      # fewer members than this in a configuration: its bootstrap CI is not trusted


# ------------------------------------------------------------------------------ seed count
def n_seeds(d: pd.DataFrame) -> int:
    """A table's seed count: the distinct initialisation seeds it holds (its rows when it has no
    `seed` column). One definition for every rule: members that share a seed across
    configurations are one seed, not several."""
    return int(d["seed"].nunique()) if "seed" in d else len(d)


def min_per_config(d: pd.DataFrame, by) -> int:
    """The fewest members any configuration (`by` columns) of `d` has; 0 for an empty table."""
    if d.empty:
        return 0
    return int(d.groupby(list(by), dropna=False).size().min()) if by else len(d)


# ------------------------------------------------------------------------------ bootstrap
def percentile_ci(draws, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` interval of bootstrap draws (non-finite draws dropped; NaN if none)."""
    b = np.asarray(draws, float)
    b = b[np.isfinite(b)]
    if len(b) == 0:
        return (float("nan"), float("nan"))
    q = (1 - level) / 2
    return (float(np.quantile(b, q)), float(np.quantile(b, 1 - q)))


def resample_idx(n: int, n_boot: int = N_BOOT, seed: int = 0, rng=None) -> np.ndarray:
    """(n_boot, n) indices drawn with replacement: the one resampling scheme of every bootstrap."""
    rng = rng if rng is not None else np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_boot, n))


def bootstrap_ci(values, stat=np.median, n_boot: int = 2000, level: float = LEVEL, seed: int = 0):
    """Percentile bootstrap CI of `stat` (a function taking `axis=`) over finite `values`;
    (nan, nan) for fewer than 2."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return (float("nan"), float("nan"))
    return percentile_ci(stat(v[resample_idx(len(v), n_boot, seed)], axis=1), level)


def _two_group_draws(a, b, stat, n_boot: int, seed: int):
    """Bootstrap draws of stat over each of two groups, resampled independently (finite values);
    None with fewer than 2 finite values in either group."""
    a, b = (np.asarray(x, float) for x in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return None
    rng = np.random.default_rng(seed)
    return (stat(a[resample_idx(len(a), n_boot, rng=rng)], axis=1),
            stat(b[resample_idx(len(b), n_boot, rng=rng)], axis=1))


def ratio_ci(num, den, stat=np.mean, n_boot: int = 2000, level: float = LEVEL, seed: int = 0):
    """Bootstrap CI of stat(num) / stat(den), resampling each group independently; (nan, nan) with
    fewer than 2 finite values in either group."""
    draws = _two_group_draws(num, den, stat, n_boot, seed)
    if draws is None:
        return (float("nan"), float("nan"))
    with np.errstate(divide="ignore", invalid="ignore"):
        return percentile_ci(draws[0] / draws[1], level)


def diff_ci(a, b, stat=np.median, n_boot: int = 2000, level: float = LEVEL, seed: int = 0):
    """Bootstrap CI of stat(a) - stat(b), resampling each group independently; (nan, nan) with
    fewer than 2 finite values in either group."""
    draws = _two_group_draws(a, b, stat, n_boot, seed)
    return (float("nan"), float("nan")) if draws is None else percentile_ci(draws[0] - draws[1], level)


def spearman_rows(x, y) -> np.ndarray:
    """Spearman correlation of every row of (rows, n) `x` with the same row of `y` (ranks with ties
    averaged); NaN for a row where either is constant."""
    x, y = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(y, float))
    rx, ry = _sp.rankdata(x, axis=1), _sp.rankdata(y, axis=1)
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    den = np.sqrt((rx ** 2).sum(1) * (ry ** 2).sum(1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, (rx * ry).sum(1) / den, np.nan)


def spearman_ci(x, y, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0) -> tuple[float, float, float]:
    """(rho, low, high): Spearman's rho of paired `x`, `y` and its percentile bootstrap CI over
    resampled pairs (resamples where either is constant are left out); NaNs with fewer than 3 pairs."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return (math.nan, math.nan, math.nan)
    i = resample_idx(len(x), n_boot, seed)
    draws = spearman_rows(x[i], y[i])
    draws = draws[np.isfinite(draws)]
    lo, hi = percentile_ci(draws, level) if len(draws) else (math.nan, math.nan)
    return float(spearman_rows(x, y)[0]), lo, hi


def abs_spearman_diff_ci(x1, x2, y, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0):
    """Percentile bootstrap CI of |rho(x1, y)| - |rho(x2, y)| (Spearman), members resampled jointly
    (paired: both indicators read the same members); a constant indicator in a resample counts as
    rho 0 (it predicts nothing); NaNs with fewer than 3 members."""
    x1, x2, y = (np.asarray(v, float) for v in (x1, x2, y))
    ok = np.isfinite(x1) & np.isfinite(x2) & np.isfinite(y)
    x1, x2, y = x1[ok], x2[ok], y[ok]
    if len(y) < 3:
        return (math.nan, math.nan)
    i = resample_idx(len(y), n_boot, seed)
    keep = np.ptp(y[i], axis=1) > 0
    a, b = (np.nan_to_num(np.abs(spearman_rows(x[i], y[i])), nan=0.0) for x in (x1, x2))
    return percentile_ci((a - b)[keep], level) if keep.any() else (math.nan, math.nan)


def permutation_p(x, y, stat, n_perm: int = 2000, seed: int = 0) -> float:
    """One-sided permutation p-value of stat (larger = more extreme) against the pairings of `x`
    with shuffled `y`: (1 + #{null >= observed}) / (1 + n_perm). `stat(X, Y)` takes (rows, n)
    arrays, one pairing per row, and returns one value per row (all shuffles at once)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    obs = float(np.asarray(stat(x[None, :], y[None, :]))[0])
    perms = np.argsort(rng.random((n_perm, len(y))), axis=1)
    null = np.asarray(stat(np.broadcast_to(x, perms.shape), y[perms]), float)
    return float((1 + np.sum(null >= obs - 1e-12)) / (1 + n_perm))


# ------------------------------------------------------------------------------ censored delays
def km_median_rows(t, e) -> np.ndarray:
    """Kaplan-Meier median of every row of (rows, n) times `t` and events `e` (event False =
    right-censored at that time): the first time the survival estimate falls to 0.5 or below;
    inf where it never does (more than half still waiting). Events come before censorings at
    the same time."""
    t, e = np.atleast_2d(np.asarray(t, float)), np.atleast_2d(np.asarray(e, bool))
    order = np.lexsort((~e, t), axis=-1)
    t, e = np.take_along_axis(t, order, -1), np.take_along_axis(e, order, -1)
    at_risk = t.shape[-1] - np.arange(t.shape[-1])
    surv = np.cumprod(np.where(e, 1 - 1 / at_risk, 1.0), axis=-1)
    hit = surv <= 0.5 + 1e-12
    first = np.argmax(hit, axis=-1)
    return np.where(hit.any(-1), np.take_along_axis(t, first[:, None], -1)[:, 0], np.inf)


def km_median(times, events) -> float:
    """`km_median_rows` of one sample (non-finite times dropped); NaN with no members."""
    t, e = np.asarray(times, float), np.asarray(events, bool)
    ok = np.isfinite(t)
    if not ok.any():
        return float("nan")
    return float(km_median_rows(t[ok], e[ok])[0])


def km_floor(times, events) -> float:
    """What the data can vouch for about the Kaplan-Meier median: the median itself when it is
    finite; when it is not (more than half censored), the largest observed time ("the median
    exceeds this"), not the budget."""
    m = km_median(times, events)
    if not math.isinf(m):
        return m
    t = np.asarray(times, float)
    t = t[np.isfinite(t)]
    return float(t.max()) if len(t) else float("nan")


# ------------------------------------------------------------------------------ counts and shares
def share_ci(k: int, n: int, level: float = COUNT_LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a share k/n; (nan, nan) for n = 0."""
    if n <= 0:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(_sp.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(_sp.beta.ppf(1 - a, k + 1, n - k))
    return (lo, hi)


def share_at_least(k: int, n: int, threshold: float, level: float = COUNT_LEVEL):
    """Whether the share k/n is at least `threshold`, decided by its exact interval: True when the
    interval lies at or above it, False when it lies below, None (undecided) when it straddles it
    or there are no members (`share_band` with one edge). At COUNT_LEVEL 0.9 and threshold 1/2:
    5/5 and 0/5 decide, 4/5, 3/3 and 2/3 do not."""
    return {REPRODUCED: True, NOT_REPRODUCED: False}.get(share_band(k, n, threshold, threshold, level))


def share_band(k: int, n: int, low: float, high: float, level: float = COUNT_LEVEL) -> str:
    """A share claim's verdict from its exact interval: *reproduced* when the interval lies at or
    above `high`, *not reproduced* when it lies below `low`, *partially reproduced* when it lies
    within [low, high), *inconclusive* when it straddles an edge (too few members to tell)."""
    lo, hi = share_ci(k, n, level)
    if not n:
        return INCONCLUSIVE
    if lo >= high:
        return REPRODUCED
    if hi < low:
        return NOT_REPRODUCED
    if lo >= low and hi < high:
        return PARTIALLY_REPRODUCED
    return INCONCLUSIVE


def members_to_decide(k: int, n: int, low: float, high: float, most: int = 1000) -> int | None:
    """The fewest members at which the share k/n (held fixed) would take a share_band verdict other
    than inconclusive; None when not within `most` (a share on an edge never decides)."""
    if not n:
        return None
    for m in range(max(n, 1), most + 1):
        if share_band(int(round(k / n * m)), m, low, high) != INCONCLUSIVE:
            return m
    return None


def fewer(k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05):
    """Whether share k1/n1 is below k2/n2 (Fisher's exact test, one-sided at `alpha`): True when
    significantly below, False when it is not below at all (k1/n1 >= k2/n2), None when below but
    not significantly (or a side is empty). Ties are not wins."""
    if not n1 or not n2:
        return None
    if k1 / n1 >= k2 / n2:
        return False
    p = _sp.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="less")[1]
    return True if p < alpha else None


# ------------------------------------------------------------------------------ slopes
def loglog_slope(x, y) -> float:
    """Least-squares slope of log(y) against log(x) over finite positive pairs (NaN if < 2 x-values)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if len(np.unique(x[ok])) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def slope_ci(df: pd.DataFrame, x="alpha_beta", y="delay", n_boot: int = 1000, level: float = LEVEL, seed: int = 0):
    """Least-squares slope of log(y) on log(x) over finite positive pairs, and a percentile
    bootstrap CI resampling seeds (whole instances) with replacement, computed from per-seed sums
    so that a bootstrap costs one matrix product (firmness reruns it hundreds of times)."""
    yv, xv = df[y].to_numpy(float), df[x].to_numpy(float)
    d = df[np.isfinite(yv) & (yv > 0) & np.isfinite(xv) & (xv > 0)]
    if d[x].nunique() < 2:
        return float("nan"), float("nan"), float("nan")
    lx, ly = np.log(d[x].to_numpy(float)), np.log(d[y].to_numpy(float))
    parts = pd.DataFrame({"seed": d["seed"].to_numpy(), "n": 1.0, "x": lx, "y": ly, "xx": lx * lx, "xy": lx * ly})
    sums = parts.groupby("seed").sum().to_numpy()                 # (seeds, 5): n, x, y, xx, xy

    def slope(tot):
        n, sx, sy, sxx, sxy = tot.T
        var = sxx - sx * sx / n
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(var > 1e-12 * np.maximum(sxx, 1), (sxy - sx * sy / n) / var, np.nan)

    point = float(slope(sums.sum(0, keepdims=True))[0])
    k = len(sums)
    if k < 2:
        return point, float("nan"), float("nan")
    counts = np.stack([np.bincount(r, minlength=k) for r in resample_idx(k, n_boot, seed)])
    return (point, *percentile_ci(slope(counts @ sums), level))


def summarize(df: pd.DataFrame, by, value: str = "delay", flag: str = "grokked") -> pd.DataFrame:
    """Per group: members, the count of members with `flag` (`grokked` after rules.outcomes, or a
    member table's raw `reached`) with its exact interval, median/mean/std of `value` over those
    members and a bootstrap 95% CI of the median (NaN with fewer than MIN_PER_CONFIG
    grokked members: a CI from one or two members would look tighter than it is)."""
    rows = []
    keys = [by] if isinstance(by, str) else list(by)
    for key, g in df.groupby(keys, sort=True):
        v = g.loc[g[flag], value].to_numpy(float)
        lo, hi = bootstrap_ci(v) if len(v) >= MIN_PER_CONFIG else (np.nan, np.nan)
        k = int(g[flag].sum())
        s_lo, s_hi = share_ci(k, len(g))
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                     "n": len(g), flag: k, "share_low": s_lo, "share_high": s_hi,
                     "median": np.median(v) if len(v) else np.nan, "mean": v.mean() if len(v) else np.nan,
                     "std": v.std(ddof=1) if len(v) > 1 else np.nan, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ combining parts
_BASE = (NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED)


def _combine_conclusive(parts) -> str:
    if all(v == REPRODUCED for v in parts):
        return REPRODUCED
    if all(v == NOT_REPRODUCED for v in parts):
        return NOT_REPRODUCED
    return PARTIALLY_REPRODUCED


def combine(*verdicts: str) -> str:
    """One verdict for a claim with parts, stated once: with every part conclusive, *reproduced*
    when all are, *not reproduced* when all are not, *partially reproduced* otherwise. An
    inconclusive part could turn out any of the three; the claim is conclusive only when its
    verdict is the same whichever they turn out to be (`resolve`), else *inconclusive at this
    profile*. So a reproduced part beside a failed one is *partially reproduced* whatever a third
    part shows, and a failed part beside an inconclusive one is inconclusive. Monotone: a better
    part never makes the claim worse, and an inconclusive part never gives the claim a verdict its
    resolution could contradict (tests/test_rules.py checks every combination)."""
    return resolve(_combine_conclusive, *verdicts)


def all_of(*verdicts: str) -> str:
    """One verdict for a claim whose parts must all hold (a conjunction): *not reproduced* when a
    conclusive part is not, else as `combine`; resolved over inconclusive parts like `combine`, so
    a failed part decides the claim even beside an inconclusive one."""
    return resolve(lambda v: NOT_REPRODUCED if NOT_REPRODUCED in v else _combine_conclusive(v), *verdicts)


def resolve(verdict_of, *parts: str) -> str:
    """`verdict_of(list of conclusive parts)` when it is the same for every way the inconclusive
    parts could turn out (each of not / partially / reproduced), else inconclusive. The one
    principle by which a rule with parts may give a conclusive verdict while a part is open."""
    if not parts:
        return INCONCLUSIVE
    open_ = [i for i, v in enumerate(parts) if v == INCONCLUSIVE]
    outs = set()
    for fill in _fills(len(open_)):
        filled = list(parts)
        for i, v in zip(open_, fill):
            filled[i] = v
        outs.add(verdict_of(filled))
    return outs.pop() if len(outs) == 1 else INCONCLUSIVE


def _fills(n: int):
    if n == 0:
        yield ()
        return
    for v in _BASE:
        for rest in _fills(n - 1):
            yield (v,) + rest
