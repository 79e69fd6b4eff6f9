"""Tidy tables over results files: one row per member, the input every claim rule takes."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from ..core.linear_problems import LINEAR_MEMBER_FIELDS as MEMBER_FIELDS_LINEAR

PER_MEMBER = ("t_train", "t_grok", "t_grok95", "delay", "dnf")


def members_table(ds: xr.Dataset, **labels) -> pd.DataFrame:
    """One row per member: its coords, grokking times, final accuracies; `labels` are added
    as constant columns (e.g. depth=4) so tables of several configs can be concatenated."""
    cols = {k: ds[k].values for k in ("seed", "split_seed", "lr", "wd", "l1", "l2", "nuclear", "init_scale")}
    cols.update({k: ds[k].values for k in PER_MEMBER})
    cols["final_train_acc"] = final_values(ds, "train_acc")
    cols["final_test_acc"] = final_values(ds, "test_acc")
    cols["reached"] = ds["dnf"].values == ""  # reached both thresholds (grokked or not: claims.rules.outcomes)
    cols["budget"] = np.full(ds.sizes["member"], float(json.loads(ds.attrs["config"])["steps"]))
    df = pd.DataFrame(cols)
    for k, v in labels.items():
        df[k] = v
    df["config_hash"] = ds.attrs.get("config_hash", "")
    return df


def final_values(ds: xr.Dataset, var: str) -> np.ndarray:
    """Each member's last recorded value of curve `var`: at the budget, or for a member retired
    from the ensemble (core.retire) at its retirement, where its curve ends. A diverged member
    keeps NaN (its curves are NaN from the step its loss went non-finite)."""
    v = ds[var].values
    last = v[:, -1].astype(float)
    diverged = ds["diverged"].values.astype(bool) if "diverged" in ds else np.zeros(len(v), bool)
    for m in np.flatnonzero(np.isnan(last) & ~diverged):
        seen = np.flatnonzero(~np.isnan(v[m]))
        if len(seen):
            last[m] = v[m, seen[-1]]
    return last


def linear_members_table(ds: xr.Dataset, **labels) -> pd.DataFrame:
    """One row per member of a linear problem: seed, member fields, t_train, t_grok, delay, final
    errors, `reached` (t_grok found), alpha_beta (lr x beta)."""
    df = pd.DataFrame({k: ds[k].values for k in ("seed",) + MEMBER_FIELDS_LINEAR + ("t_train", "t_grok", "delay", "dnf")})
    df["final_train_err"] = ds["train_err"].isel(step=-1).values
    df["final_test_err"] = ds["test_err"].isel(step=-1).values
    df["reached"] = df["dnf"] == ""
    df["alpha_beta"] = df["lr"] * df["beta"]
    for k, v in labels.items():
        df[k] = v
    return df
