"""The deep-MLP chapters' member table (P4): memorisation, surges, and the onsets of the
accuracy rise, the weight-norm fall and the feature-rank fall."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ...results.tables import members_table
from .probes import n_surges, onset, stage_name

RISE_TRAIN, RISE_TEST = 0.5, 0.1  # accuracy points a curve must gain for its rise to count


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
