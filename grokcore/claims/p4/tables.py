"""The tables Part IV's rules and pages read, built from the runs: the member table (`stage_table`:
memorisation, surges, and the onsets of the accuracy rise, the weight-norm fall and the
feature-rank fall), its joins for each chapter's sweeps, the float64 final ranks and the tunnel
lengths they give, the linear probes per layer, and the comparison of the two offline data sets."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ...results.tables import members_table
from .. import stats
from ..rules import fmt
from .probes import PLATEAU_ALT, n_surges, onset, probe_accuracy_of, rank_threshold, stage_class, tunnel_length

RISE_TRAIN, RISE_TEST = 0.5, 0.1  # accuracy points a curve must gain (from step 0) for its rise to count
RISE_AFTER = 0.10   # test-accuracy points the rise after memorisation must gain for `t_test_rise`
RANK_FALL = 1.0     # rank a layer must lose for `t_rank_fall`


def stage_table(ds, rank_layer: int = -2, **labels):
    """One row per member of a deep-MLP results Dataset: memorisation step t_train, counted
    surges (the two-stage rule; `n_surges_alt` with its sensitivity variant) and the stage they give, final accuracies, and three onsets, all
    measured after t_train (NaN for a member that never memorised): the test-accuracy rise, the
    weight-norm fall and (when logged) the feature-rank fall of `rank_layer` (default: the
    second-to-last Linear layer). Two more onsets are measured from step 0, for every member:
    `t_rise_train` and `t_rise_test`, the first step at which train (test) accuracy has covered
    half of its rise from its first to its highest value, NaN where that rise is under RISE_TRAIN
    (RISE_TEST) accuracy points: a curve that has not risen within the budget."""
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
               "n_surges_alt": n_surges(steps, te, t_tr, share=PLATEAU_ALT),
               "test_at_train": float(te[after][0]) if after.any() else np.nan,
               "test_rise": float(np.nanmax(te[after]) - te[after][0]) if after.any() else np.nan,
               "t_test_rise": onset(steps[after], te[after], min_change=RISE_AFTER) if after.any() else np.nan,
               "t_norm_fall": onset(steps[after], ds["l2_norm"].values[m][after], rising=False)
               if after.any() else np.nan}
        if "feature_rank" in ds:
            r = ds["feature_rank"].values[m, :, rank_layer].astype(float)
            row["t_rank_fall"] = (onset(steps[after], r[after], rising=False, min_change=RANK_FALL)
                                  if after.any() else np.nan)
            row["final_rank"] = r[-1]
        rows.append(row)
    out = pd.concat([df, pd.DataFrame(rows)], axis=1)
    out["stage"] = out["n_surges"].map(stage_class)
    out["run_wall_s"] = float(ds.attrs.get("wall_time_s", np.nan))  # the ensemble's wall time (cost estimates)
    out["depth"] = labels.get("depth", cfg["depth"])
    out["n_train"] = labels.get("n_train", cfg["n_train"])
    return out


def depth_table(datasets: dict) -> pd.DataFrame:
    """The member tables of the depth runs ({(n_train, depth): Dataset}), one after the other."""
    return pd.concat([stage_table(ds, depth=d, n_train=n) for (n, d), ds in datasets.items()], ignore_index=True)


def depth_onsets(extra: dict) -> pd.DataFrame:
    """P4-depth's numbers per depth, from its verdict's `extra`: members whose train (test)
    accuracy rose and the Kaplan-Meier median onset, members memorised and the median delay
    after memorisation (reported, not scored)."""
    def med(d):
        return {k: fmt(v) for k, v in d.items()}
    train, test = extra["train"], extra["test"]
    return pd.DataFrame({"train rose": train["n_rose"], "KM median train rise": med(train["km_median"]),
                         "test rose": test["n_rose"], "KM median test rise": med(test["km_median"]),
                         "memorised": extra["n_memorised"],
                         "KM median delay after memorisation (not scored)": med(extra["delay_km_median"])}
                        ).rename_axis("depth")


def curve_summary(ds, rank_layer: int = -2) -> pd.DataFrame:
    """Per member of a deep-MLP Dataset: the step-averaged log10 weight norm (`norm_mean`) and
    step-averaged feature rank of `rank_layer` (`rank_mean`, when logged): where a member's
    curve sits, one number per curve, so curves of several N can be compared member by member."""
    out = {"norm_mean": np.log10(np.maximum(ds["l2_norm"].values.astype(float), 1e-300)).mean(-1)}
    if "feature_rank" in ds:
        out["rank_mean"] = ds["feature_rank"].values[:, :, rank_layer].astype(float).mean(-1)
    return pd.DataFrame(out)


def sweep_table(datasets: dict, depth: int) -> pd.DataFrame:
    """The member table of a sweep over N ({n_train: Dataset} at one `depth`) with each member's
    curve summary beside it: the table of P4-wd and of P4-norm."""
    return pd.concat([pd.concat([stage_table(ds, depth=depth, n_train=n), curve_summary(ds)], axis=1)
                      for n, ds in datasets.items()], ignore_index=True)


# ------------------------------------------------------------------------------ ranks and tunnels
def final_ranks(ds, dtype: str = "float64") -> np.ndarray:
    """(E, L) feature rank of every Linear layer of a trained deep-MLP ensemble (saved with
    save_params=True) on the whole test set, its features computed in `dtype`. P4's tolerance
    sigma_max * max(n, d) * eps uses float64's eps (2e-16): features computed in float32 carry
    rounding noise near 1e-7 of their scale, whose covariance eigenvalues (~1e-14 to 1e-12 of
    the largest) can sit above that tolerance and count as rank. Recomputing in float64 from
    the final parameters gives the rank at the precision the tolerance needs."""
    import torch
    from ...core.config import RunConfig
    from ...core.metrics import feature_rank
    from ...core.tasks import make_data
    from ...core.train import model_from_dataset
    cfg = RunConfig.from_json(ds.attrs["config"])
    dt = getattr(torch, dtype)
    model = model_from_dataset(ds).to(dt)
    x = make_data(cfg, "cpu").x_test.to(dt)  # (n_test, F): the whole test set
    with torch.no_grad():
        return torch.stack([feature_rank(f) for f in model.features(x)], 1).numpy()  # (E, L)


def n_inputs(cfg) -> int:
    """The input dimension of a config's data set (64 for the digits, 784 for MNIST)."""
    from ...core.tasks import make_data
    return int(make_data(cfg).x_train.shape[-1])


def rank_thresholds(width: int, n_features: int, fraction: float, depths) -> dict:
    """{depth: (depth,) tunnel threshold per Linear layer} (`probes.rank_threshold`)."""
    return {d: rank_threshold(width, n_features, fraction, depth=d) for d in depths}


def tunnel_note(threshold, paper_n: int) -> str:
    """What P4-tunnel's ledger note adds to the settings: the ranks, the threshold (`threshold`:
    one per Linear layer) and the paper's N whose lengths were compared."""
    return (f"float64 final ranks, threshold rank < {threshold[0]:g} (layer 1) / {threshold[1]:g}, "
            f"paper values at N={paper_n}")


def rank_table(datasets: dict, ranks: dict, thresholds: dict) -> pd.DataFrame:
    """The member table of the depth runs at one N ({depth: Dataset}) with each member's tunnel
    length: `tunnel` (hidden layers) and `tunnel_all` (every Linear layer, the output included) from
    its float64 final ranks (`ranks`: {depth: (E, L)}, as `final_ranks` gives them), and
    `tunnel_at_init`, `tunnel_all_at_init` from its logged ranks at step 0 (a tunnel the training
    did not make would already be there), all against `thresholds` ({depth: per-layer threshold})."""
    out = pd.concat([stage_table(ds, depth=d) for d, ds in datasets.items()], ignore_index=True)
    for col, conv in (("tunnel", "hidden"), ("tunnel_all", "all")):
        out[col] = [int(tunnel_length(r, thresholds[d], conv)) for d in datasets for r in ranks[d]]
        out[col + "_at_init"] = [int(tunnel_length(r0, thresholds[d], conv))
                                 for d, ds in datasets.items() for r0 in ds["feature_rank"].values[:, 0]]
    return out


def rank_pool(*tables) -> pd.DataFrame:
    """P4-rank's members: the chapter's member tables (depth runs, gamma sweep, N sweep) one after
    the other, each member once (a configuration and seed that two sweeps share is kept from the first)."""
    t = pd.concat(tables, ignore_index=True)
    return t.drop_duplicates(subset=["depth", "n_train", "wd", "seed"], keep="first").reset_index(drop=True)


def rank_precision(datasets: dict, ranks: dict) -> pd.DataFrame:
    """One row per (depth, layer): the median final rank logged in the run's dtype, the median
    float64 recomputation (`ranks`: {depth: (E, L)}), the members, and the members whose two differ."""
    rows = []
    for d, ds in datasets.items():
        logged = ds["feature_rank"].values[:, -1]  # (E, L)
        for layer in range(logged.shape[1]):
            rows.append({"depth": d, "layer": layer + 1, "logged (float32) median": float(np.median(logged[:, layer])),
                         "float64 median": float(np.median(ranks[d][:, layer])), "members": len(logged),
                         "members differing": int((logged[:, layer] != ranks[d][:, layer]).sum())})
    return pd.DataFrame(rows)


def probe_table(cfgs: dict, datasets: dict) -> pd.DataFrame:
    """Linear-probe test accuracy per (depth, seed, layer) of the trained ensembles ({depth:
    config} and {depth: Dataset}, saved parameters), from `probes.probe_accuracy_of`."""
    from ...core.tasks import make_data
    from ...core.train import model_from_dataset
    rows = []
    for d, ds in datasets.items():
        acc = probe_accuracy_of(model_from_dataset(ds), make_data(cfgs[d]))  # (E, L)
        rows += [{"depth": d, "seed": int(ds["seed"].values[m]), "layer": layer + 1, "probe_test_acc": acc[m, layer]}
                 for m in range(acc.shape[0]) for layer in range(acc.shape[1])]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ the other chapters' tables
def data_set_comparison(named: dict) -> pd.DataFrame:
    """{data set name: Dataset} -> one row per data set: N, members memorised, median final train
    and test accuracy."""
    return pd.DataFrame([
        {"data set": name, "N": json.loads(ds.attrs["config"])["n_train"],
         "memorised": f"{int(np.isfinite(ds['t_train'].values).sum())}/{ds.sizes['member']}",
         "median final train acc": float(np.median(ds["train_acc"].values[:, -1])),
         "median final test acc": float(np.median(ds["test_acc"].values[:, -1]))}
        for name, ds in named.items()]).set_index("data set")


def comparison_values(ours, other=None) -> dict:
    """What p4_deep's page says of the other offline data set: its median final train and test
    accuracy, ours, and how many of its members memorised; NaN and 'was not trained' without it."""
    if other is None:
        return {"compare_train": np.nan, "compare_test": np.nan, "ours_test": np.nan,
                "compare_phrase": "was not trained (compare is empty)"}
    n_mem, n = int(np.isfinite(other["t_train"].values).sum()), other.sizes["member"]
    return {"compare_train": float(np.median(other["train_acc"].values[:, -1])),
            "compare_test": float(np.median(other["test_acc"].values[:, -1])),
            "ours_test": float(np.median(ours["test_acc"].values[:, -1])),
            "compare_phrase": (f"memorises none of its {n} members" if n_mem == 0 else
                               f"memorises {n_mem} of its {n} members")}


def token_mlp_summary(datasets: dict) -> pd.DataFrame:
    """Per (residual, depth) of the token MLPs ({(depth, residual): Dataset}): members, how many
    reached both thresholds, and their T_grok (`stats.summarize`)."""
    t = pd.concat([members_table(ds, depth=d, residual=r) for (d, r), ds in datasets.items()], ignore_index=True)
    return stats.summarize(t, ["residual", "depth"], value="t_grok", flag="reached")

