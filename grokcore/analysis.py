"""Tables and statistics over results: one row per member, bootstrap CIs, grokked counts."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

PER_MEMBER = ("t_train", "t_grok", "t_grok95", "delay", "dnf")


def members_table(ds: xr.Dataset, **labels) -> pd.DataFrame:
    """One row per member: its coords, grokking times, final accuracies; `labels` are added
    as constant columns (e.g. depth=4) so tables of several configs can be concatenated."""
    cols = {k: ds[k].values for k in ("seed", "split_seed", "lr", "wd", "l1", "l2", "nuclear", "init_scale")}
    cols.update({k: ds[k].values for k in PER_MEMBER})
    cols["final_train_acc"] = ds["train_acc"].isel(step=-1).values
    cols["final_test_acc"] = ds["test_acc"].isel(step=-1).values
    cols["grokked"] = ds["dnf"].values == ""
    df = pd.DataFrame(cols)
    for k, v in labels.items():
        df[k] = v
    df["config_hash"] = ds.attrs.get("config_hash", "")
    return df


def config_of(ds: xr.Dataset) -> dict:
    return json.loads(ds.attrs["config"])


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
