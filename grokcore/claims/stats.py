"""Statistics the claim rules share: bootstrap CIs of a median, a ratio and a log-log slope."""
from __future__ import annotations

import numpy as np
import pandas as pd


def bootstrap_ci(values, stat=np.median, n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """Percentile bootstrap CI of `stat` over finite `values`; (nan, nan) for fewer than 2."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    boots = stat(v[rng.integers(0, len(v), size=(n_boot, len(v)))], axis=1)
    a = (1 - level) / 2
    return (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a)))


def ratio_ci(num, den, stat=np.mean, n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """Bootstrap CI of stat(num) / stat(den), resampling each group independently."""
    a, b = (np.asarray(x, float) for x in (num, den))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    ra = stat(a[rng.integers(0, len(a), (n_boot, len(a)))], axis=1)
    rb = stat(b[rng.integers(0, len(b), (n_boot, len(b)))], axis=1)
    r = ra / rb
    q = (1 - level) / 2
    return (float(np.quantile(r, q)), float(np.quantile(r, 1 - q)))


def summarize(df: pd.DataFrame, by, value: str = "delay") -> pd.DataFrame:
    """Per group: members, grokked count, median/mean/std of `value` over grokked members
    and a bootstrap 95% CI of the median."""
    rows = []
    for key, g in df.groupby(by, sort=True):
        v = g.loc[g["grokked"], value].to_numpy(float)
        lo, hi = bootstrap_ci(v)
        rows.append({**dict(zip([by] if isinstance(by, str) else by, key if isinstance(key, tuple) else (key,))),
                     "n": len(g), "grokked": int(g["grokked"].sum()),
                     "median": np.median(v) if len(v) else np.nan, "mean": v.mean() if len(v) else np.nan,
                     "std": v.std(ddof=1) if len(v) > 1 else np.nan, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def loglog_slope(x, y) -> float:
    """Least-squares slope of log(y) against log(x) over finite positive pairs (NaN if < 2 x-values)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if len(np.unique(x[ok])) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def slope_ci(df: pd.DataFrame, x="alpha_beta", y="delay", n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """Slope of log(y) on log(x) and a bootstrap CI resampling seeds (whole instances) with replacement."""
    d = df[np.isfinite(df[y]) & (df[y] > 0)]
    point = loglog_slope(d[x], d[y])
    seeds = d["seed"].unique()
    if len(seeds) < 2:
        return point, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    groups = {s: g for s, g in d.groupby("seed")}
    boots = [loglog_slope(*np.concatenate([groups[s][[x, y]].to_numpy() for s in rng.choice(seeds, len(seeds))]).T)
             for _ in range(n_boot)]
    boots = np.array(boots)[np.isfinite(boots)]
    if len(boots) == 0:
        return point, float("nan"), float("nan")
    q = (1 - level) / 2
    return point, float(np.quantile(boots, q)), float(np.quantile(boots, 1 - q))
