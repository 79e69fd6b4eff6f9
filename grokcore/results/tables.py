"""Tidy tables over results files: one row per member, the input every claim rule takes."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from ..core.linear import LINEAR_MEMBER_FIELDS as MEMBER_FIELDS_LINEAR
from ..core.probes import n_surges, onset, stage_name

RISE_TRAIN, RISE_TEST = 0.5, 0.1  # accuracy points a curve must gain for its rise to count (stage_table)
PER_MEMBER = ("t_train", "t_grok", "t_grok95", "delay", "dnf")


def members_table(ds: xr.Dataset, **labels) -> pd.DataFrame:
    """One row per member: its coords, grokking times, final accuracies; `labels` are added
    as constant columns (e.g. depth=4) so tables of several configs can be concatenated."""
    cols = {k: ds[k].values for k in ("seed", "split_seed", "lr", "wd", "l1", "l2", "nuclear", "init_scale")}
    cols.update({k: ds[k].values for k in PER_MEMBER})
    cols["final_train_acc"] = ds["train_acc"].isel(step=-1).values
    cols["final_test_acc"] = ds["test_acc"].isel(step=-1).values
    cols["grokked"] = ds["dnf"].values == ""  # reached both thresholds; see claims.rules.outcomes
    cols["budget"] = np.full(ds.sizes["member"], float(json.loads(ds.attrs["config"])["steps"]))
    df = pd.DataFrame(cols)
    for k, v in labels.items():
        df[k] = v
    df["config_hash"] = ds.attrs.get("config_hash", "")
    return df


def config_of(ds: xr.Dataset) -> dict:
    return json.loads(ds.attrs["config"])


def linear_members_table(ds: xr.Dataset, **labels) -> pd.DataFrame:
    """One row per member: seed, member fields, T1, T2, delay, final errors, grokked (T2 found)."""
    df = pd.DataFrame({k: ds[k].values for k in ("seed",) + MEMBER_FIELDS_LINEAR + ("t1", "t2", "delay", "dnf")})
    df["final_train_err"] = ds["train_err"].isel(step=-1).values
    df["final_test_err"] = ds["test_err"].isel(step=-1).values
    df["grokked"] = df["dnf"] == ""
    df["alpha_beta"] = df["lr"] * df["beta"]
    for k, v in labels.items():
        df[k] = v
    return df


def stage_table(ds, rank_layer: int = -2, **labels):
    """One row per member of a deep-MLP results Dataset: memorisation step t_train, counted
    surges (the two-stage rule), final accuracies, and three onsets, all measured after
    t_train (NaN for a member that never memorised): the test-accuracy rise, the weight-norm
    fall and (when logged) the feature-rank fall of `rank_layer` (default: the second-to-last
    Linear layer). Two more onsets are measured from step 0, for every member: `t_rise_train`
    and `t_rise_test`, the first step at which train (test) accuracy has covered half of its rise
    from its first to its highest value, NaN where that rise is under RISE_TRAIN (RISE_TEST)
    accuracy points: a curve that has not risen within the budget."""
    df = members_table(ds, **labels)
    steps = ds["step"].values
    cfg = json.loads(ds.attrs["config"])
    rows = []
    for m in range(ds.sizes["member"]):
        t_tr = float(ds["t_train"].values[m])
        te = ds["test_acc"].values[m]
        rise = {"t_rise_train": onset(steps, ds["train_acc"].values[m], min_change=RISE_TRAIN),
                "t_rise_test": onset(steps, te, min_change=RISE_TEST)}
        after = steps >= (t_tr if np.isfinite(t_tr) else np.inf)
        row = {**rise, "n_surges": n_surges(steps, te, t_tr),
               "test_at_train": float(te[after][0]) if after.any() else np.nan,
               "test_rise": float(np.nanmax(te[after]) - te[after][0]) if after.any() else np.nan,
               "t_test_rise": onset(steps[after], te[after], min_change=0.10) if after.any() else np.nan,
               "t_norm_fall": onset(steps[after], ds["l2_norm"].values[m][after], rising=False)
               if after.any() else np.nan}
        if "feature_rank" in ds:
            r = ds["feature_rank"].values[m, :, rank_layer].astype(float)
            row["t_rank_fall"] = onset(steps[after], r[after], rising=False, min_change=1.0) if after.any() else np.nan
            row["final_rank"] = r[-1]
        rows.append(row)
    out = pd.concat([df, pd.DataFrame(rows)], axis=1)
    out["stage"] = out["n_surges"].map(stage_name)
    out["depth"] = labels.get("depth", cfg["depth"])
    out["n_train"] = labels.get("n_train", cfg["n_train"])
    return out
