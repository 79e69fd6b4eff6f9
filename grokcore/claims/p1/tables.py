"""P1's table builders: the per-member tables its rules read, built from the chapters' results
(member outcomes, the parameter RMS at T_train / T_grok, the embeddings' Fourier shares), the
SGD proxy's clock calibration, and the numbers each chapter glues into its text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ...results.tables import members_table
from .. import stats
from ..rules import counts, outcomes
from . import fourier
from .configs import ADD_MODELS, BASELINE_SGD, PAPER_BASELINE_DELAY


# ------------------------------------------------------------------------------ member tables
def member_table(datasets: dict, *labels: str) -> pd.DataFrame:
    """The members of every dataset with `rules.outcomes` (grokked = with delay; delay_c censored),
    each labelled by its key: one column per name in `labels` (a tuple key gives one value each)."""
    parts = [members_table(ds, **dict(zip(labels, key if isinstance(key, tuple) else (key,))))
             for key, ds in datasets.items()]
    return outcomes(pd.concat(parts, ignore_index=True))


def summary(table: pd.DataFrame, by, order=None) -> pd.DataFrame:
    """`stats.summarize` per configuration (`by` columns, as the index, in `order` if given) with
    each configuration's member outcomes in words (`outcomes`)."""
    s = stats.summarize(table, by).set_index(by)
    if order is not None:
        s = s.loc[list(order)]
    groups = dict(list(table.groupby(by)))
    return s.assign(outcomes=[counts(groups[k]) for k in s.index])


# ------------------------------------------------------------------------------ SGD proxy clock
PAPER_ETA_LAMBDA = BASELINE_SGD["lr"] * BASELINE_SGD["wd"]   # the baseline's lr x coupled wd (SGD, momentum 0.9)
CALIBRATION_COLUMNS = ["lr", "wd", "eta_lambda", "t_train", "t_grok", "grok_over_train", "rescaled_delay", "outcome"]


def clock_calibration(df: pd.DataFrame, min_ratio: float = 5.0, spread: float = 2.0) -> pd.DataFrame:
    """The SGD proxy's clock check, on depth-2 baseline members with `lr`, `wd`, `t_train`,
    `t_grok`: per member eta*lambda, the rescaled delay (T_grok - T_train) * eta * lambda, and
    T_grok / T_train. The time rescaling holds when the rescaled delays of the grokked members
    agree within a factor `spread` (max / min) while eta*lambda varies, and a member keeps the shape
    when it grokked with T_grok >= `min_ratio` T_train; the columns `clock_ok` and
    `shape_ok` say whether each holds (`clock_ok` for the whole range, the same on every row;
    `shape_ok` per member)."""
    d = outcomes(df).copy()
    d["eta_lambda"] = d["lr"] * d["wd"]
    d["rescaled_delay"] = (d["t_grok"] - d["t_train"]) * d["eta_lambda"]
    d["grok_over_train"] = d["t_grok"] / d["t_train"]
    g = d[d["grokked"]]
    r = g["rescaled_delay"].to_numpy(float)
    d["clock_ok"] = bool(len(r) >= 3 and g["eta_lambda"].nunique() >= 3 and r.max() / r.min() <= spread)
    d["shape_ok"] = d["grokked"] & (d["grok_over_train"] >= min_ratio)
    return d


def calibration_text(calib: pd.DataFrame, lr: float) -> dict:
    """p1_depth's words for the calibration: whether the time rescaling holds over the range, and
    whether the members at the proxy's `lr` keep the memorise-then-generalise shape."""
    return {"calib_clock_ok": "holds" if calib["clock_ok"].iloc[0] else "does not hold",
            "calib_shape_ok": "kept" if calib.loc[calib["lr"] == lr, "shape_ok"].all() else "not kept"}


# ------------------------------------------------------------------------------ P1-canonical, P1-depth
def canonical_member(table: pd.DataFrame, config: str = "d=2") -> pd.DataFrame:
    """The member of `config` with the smallest init seed: the reduced run's canonical member."""
    return table[(table["config"] == config) & (table["seed"] == table["seed"].min())]


def reference_table(parts) -> pd.DataFrame:
    """The member table of P1's canonical run at the paper's exact setting (a reference run): the
    members of every part (a dataset or a list of them, the ensembles of `canonical_parts()`)."""
    parts = [parts] if isinstance(parts, xr.Dataset) else list(parts)
    return pd.concat([outcomes(members_table(ds, config="d=2 (paper setting)")) for ds in parts],
                     ignore_index=True)


PAPER_SETTING_PROFILE = "paper setting (reference run)"   # the ledger row's profile for a reference run


def reference_row(row: dict, source: str) -> dict:
    """A `ledger.judge` row on the reference run: its profile names the paper's setting (the run
    is not the chapter's profile) and its note says which seeds and where they were read from."""
    seeds = row["extra"].get("seeds", [])
    span = f"seeds {seed_span(seeds)}" if len(seeds) > 1 else f"seed {seeds[0]}" if seeds else "no seed"
    from .configs import CANONICAL_SEEDS, canonical
    missing = ""
    if len(seeds) < CANONICAL_SEEDS:
        cfg = canonical()
        missing = (f"; settling it needs the {CANONICAL_SEEDS}-seed reference run ({CANONICAL_SEEDS} x "
                   f"{cfg.steps // 1000}k member-steps at the paper's setting; command in book/reproducing.md)")
    return {**row, "profile": PAPER_SETTING_PROFILE,
            "note": f"the paper's exact setting, {span}, read from {source}: " + row["note"] + missing}


def seed_span(seeds) -> str:
    """Sorted seeds as runs of consecutive values: [0, 1, 2, 5, 6] -> '0-2, 5-6'."""
    seeds, runs = sorted(int(s) for s in seeds), []
    for s in seeds:
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


def reference_numbers(extra: dict, source: str) -> dict:
    """p1_depth's glued numbers of the reference run (the P1-canonical row's `extra`)."""
    seeds = extra.get("seeds", [])
    return {"canon_ref_source": source, "ref_n": extra.get("n_members", 0), "ref_grokked": extra.get("n_grokked", 0),
            "ref_seeds": seed_span(seeds) if seeds else "none",
            "ref_t_train_min": extra.get("t_train_min"), "ref_t_train_max": extra.get("t_train_max"),
            "ref_t_grok_min": extra.get("t_grok_min"), "ref_t_grok_max": extra.get("t_grok_max"),
            "ref_final_test_min": 100 * extra.get("final_test_min", np.nan)}


def slug(name: str) -> str:
    """A configuration's name as a glue key or data group: 'd=8 residual' -> 'd8_residual'."""
    return name.replace(" ", "_").replace("=", "")


def depth_numbers(rows: list, canon: pd.DataFrame, ds: xr.Dataset, summary: pd.DataFrame, p: int, steps: int,
                  n_seeds: int) -> dict:
    """p1_depth's glued numbers: the reduced run's canonical member's times (`canon`, and its test
    accuracy at memorisation, from `ds`, the depth-2 run), then grokked counts and median delays per
    depth; `rows`: the P1-canonical and P1-depth rows of `ledger.judge`."""
    c, seed = canon.iloc[0], int(canon["seed"].iloc[0])
    first = ds["test_acc"].isel(member=int(np.flatnonzero(ds["seed"].values == seed)[0]))
    plateau = float(first.sel(step=c["t_train"], method="nearest")) if np.isfinite(c["t_train"]) else np.nan
    numbers = {"canon_seed": seed, "canon_t_train": c["t_train"], "canon_t_grok": c["t_grok"],
               "canon_t_grok_2k": np.ceil(c["t_grok"] / 2000) * 2000, "canon_final_test": 100 * c["final_test_acc"],
               "canon_plateau": 100 * plateau, "chance": 100 / p, "budget": steps, "n_seeds": n_seeds}
    for name in summary.index:
        numbers[f"{slug(name)}_grokked"] = rows[1]["extra"][f"grokked_{name}"]
        numbers[f"{slug(name)}_median"] = summary.loc[name, "median"]
    return numbers | {"canon_outcome": c["outcome"]}


# ------------------------------------------------------------------------------ P1-arch, P1-act
def delay_variance_ratio(table: pd.DataFrame, col: str, num: str, den: str) -> float:
    """Variance ratio (ddof 1) of the grokked members' delays, `col` == num over `col` == den;
    NaN with fewer than 2 grokked members a side."""
    g = {k: table.loc[table["grokked"] & (table[col] == k), "delay"].to_numpy(float) for k in (num, den)}
    return g[num].var(ddof=1) / g[den].var(ddof=1) if min(map(len, g.values())) > 1 else np.nan


def arch_numbers(extra: dict, table: pd.DataFrame, summary: pd.DataFrame, n_seeds: int) -> dict:
    """p1_arch's glued numbers, from the P1-arch row's `extra` and the per-model summary."""
    return {"ratio": extra["ratio"], "ratio_lo": extra["ci_low"], "ratio_hi": extra["ci_high"],
            "var_ratio": delay_variance_ratio(table, "model", "Transformer", "MLP"), "n_seeds": n_seeds,
            "tf_grokked": int(summary.loc["Transformer", "grokked"]), "mlp_grokked": int(summary.loc["MLP", "grokked"]),
            "tf_mean": summary.loc["Transformer", "mean"], "mlp_mean": summary.loc["MLP", "mean"],
            "band_lo": extra["band_low"], "band_hi": extra["band_high"]}


def activation_numbers(extra: dict, summary: pd.DataFrame, n_seeds: int) -> dict:
    """p1_activation's glued numbers: the regime-B ratio and its band, then grokked counts and mean
    delays per (regime, act) of the summary."""
    numbers = {"ratio": extra["ratio"], "ratio_lo": extra["ci_low"], "ratio_hi": extra["ci_high"],
               "n_seeds": n_seeds, "band_lo": extra["band_low"], "band_hi": extra["band_high"]}
    for (r, a), s in summary.iterrows():
        numbers[f"{r}_{a}_grokked"] = int(s["grokked"])
        numbers[f"{r}_{a}_mean"] = s["mean"]
    return numbers


# ------------------------------------------------------------------------------ P1-wd
def wd_table(datasets: dict) -> pd.DataFrame:
    """The members of each model's lambda ensemble (keys: model names) with `lr_wd_T`, the decay
    lr x lambda x budget that `wd_rule` judges a lambda by."""
    table = member_table(datasets, "model")
    table["lr_wd_T"] = table["lr"] * table["wd"] * table["budget"]
    return table


def wd_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and lambda: `stats.summarize`, the grokked fraction, lr x lambda x T and each
    member's outcome."""
    models = list(dict.fromkeys(table["model"]))
    s = pd.concat([stats.summarize(table[table["model"] == m], "wd").assign(model=m) for m in models])
    s["grokked_frac"] = s["grokked"] / s["n"]
    per = table.groupby(["model", "wd"]).agg(outcome=("outcome", lambda o: ", ".join(sorted(o))),
                                             lr_wd_T=("lr_wd_T", "first")).reset_index()
    return s.merge(per, on=["model", "wd"])


def wd_parts(extra: dict, models) -> pd.DataFrame:
    """The P1-wd row's verdict and evidence per model."""
    return pd.DataFrame([{"model": m, "part verdict": extra[f"{m}_verdict"], "evidence": extra[f"{m}_reason"]}
                         for m in models]).set_index("model")


# ------------------------------------------------------------------------------ P1-norm, P1-fourier, P1-mul
def mechanism_table(datasets: dict, top: int, spectra=ADD_MODELS) -> pd.DataFrame:
    """p1_mechanism's members (column `config`: the key) with the parameter RMS at init, at
    T_train, at T_grok and at the common step (`rms_init`, `rms_at_train`, `rms_at_grok`,
    `rms_at_common`: P1-norm's table, `common_step`) and the
    top-`top` Fourier share of the final embedding (`top_share`, for the runs in `spectra`,
    which kept their weights; NaN for the others)."""
    table = member_table(datasets, "config")
    table["rms_init"] = np.concatenate([ds["rms"].isel(step=0).values for ds in datasets.values()])
    table["rms_at_train"] = np.concatenate([fourier.value_at(ds, "rms", ds["t_train"].values) for ds in datasets.values()])
    table["rms_at_grok"] = np.concatenate([fourier.value_at(ds, "rms", ds["t_grok"].values) for ds in datasets.values()])
    common = common_step(table)
    table["rms_at_common"] = np.concatenate([fourier.value_at(ds, "rms", np.full(ds.sizes["member"], common))
                                             for ds in datasets.values()])
    table["top_share"] = np.concatenate([fourier.embedding_spectra(ds, top)[1] if name in spectra
                                         else np.full(ds.sizes["member"], np.nan) for name, ds in datasets.items()])
    return table


def common_step(table: pd.DataFrame) -> float:
    """P1-norm's common late step: the median T_grok of every grokked member of the table (NaN
    when none grokked)."""
    t = table.loc[table["grokked"], "t_grok"].to_numpy(float)
    return float(np.median(t)) if len(t) else float("nan")


def rms_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, over its grokked members: their count and mean RMS at init, T_train,
    T_grok and mean T_grok."""
    grokked = table[table["grokked"]]
    cols = [c for c in ("rms_init", "rms_at_train", "rms_at_common", "rms_at_grok", "t_grok") if c in grokked]
    out = grokked.groupby("config")[cols].mean()
    out.insert(0, "grokked", grokked.groupby("config").size())
    return out


def norm_numbers(extra: dict, rms: pd.DataFrame) -> dict:
    """p1_mechanism's P1-norm numbers (CVs in percent) from the row's `extra` and `rms_table`."""
    at_grok = rms["rms_at_grok"]
    return {"rms_cv_pct": 100 * extra["cv"], "rms_cv_lo_pct": 100 * extra["cv_low"],
            "rms_cv_hi_pct": 100 * extra["cv_high"], "rms_cv_train_pct": 100 * extra["cv_train"],
            "rms_cv_init_pct": 100 * extra["cv_init"], "rms_cv_common_pct": 100 * extra["cv_common"],
            "rms_span": extra["t_grok_span"],
            "rms_n_configs": extra["n_configs"],
            "relu_gelu_rms": at_grok.get("MLP-ReLU", np.nan) / at_grok.get("MLP-GELU", np.nan)}


def fourier_nulls(datasets: dict, p: int, top: int, models=ADD_MODELS) -> dict:
    """Per model, the top-`top` share of random Gaussian embeddings of its embedding's shape."""
    return {m: fourier.null_top_share(p, datasets[m]["param_W_emb"].shape[-1], top) for m in models}


def fourier_null(nulls: dict) -> float:
    """The null P1-fourier is judged against: the highest of the models' nulls (the strictest)."""
    return max(nulls.values())


def fourier_table(table: pd.DataFrame, models=ADD_MODELS) -> pd.DataFrame:
    """P1-fourier's table: the addition members, labelled `model` by their config."""
    return table[table["config"].isin(models)].assign(model=lambda d: d["config"])


def share_table(extra: dict, nulls: dict) -> pd.DataFrame:
    """Per model, from the P1-fourier row's `extra`: grokked members, median share and the null;
    per MLP, the Transformer's gap to it, its CI, the paper's gap and the part verdict."""
    rows = []
    for m in nulls:
        r = {"model": m, "grokked": extra[f"n_{m}"], "median_share": extra[f"share_{m}"], "null": nulls[m]}
        if f"gap_{m}" in extra:
            r |= {"gap_from_transformer": extra[f"gap_{m}"], "gap_ci_low": extra[f"gap_low_{m}"],
                  "gap_ci_high": extra[f"gap_high_{m}"], "paper_gap": extra[f"paper_gap_{m}"],
                  "part verdict": extra[f"verdict_{m}"]}
        rows.append(r)
    return pd.DataFrame(rows).set_index("model")


def fourier_numbers(extra: dict, nulls: dict) -> dict:
    """p1_mechanism's P1-fourier numbers, in percent (shares, nulls, the Transformer's gaps)."""
    gaps = {f"gap_{slug(m).replace('-', '_')}{k}": 100 * extra[f"gap{k}_{m}"] for m in nulls if f"gap_{m}" in extra
            for k in ("", "_low", "_high")}
    return ({f"share_{m}": 100 * extra[f"share_{m}"] for m in nulls} | {f"null_{m}": 100 * v for m, v in nulls.items()}
            | {"null_floor": 100 * extra["floor"]} | gaps)


def mul_table(table: pd.DataFrame) -> pd.DataFrame:
    """P1-mul's table: the multiplication members (config '... mul'), labelled `act`."""
    mul = table[table["config"].str.endswith("mul")]
    return mul.assign(act=np.where(mul["config"].str.contains("GELU"), "gelu", "relu"))


def mul_numbers(extra: dict) -> dict:
    """p1_mechanism's P1-mul numbers from the row's `extra`."""
    return {"mul_ratio": extra["ratio"], "mul_lo": extra["ci_low"], "mul_hi": extra["ci_high"],
            "mul_band_lo": extra["band_low"], "mul_band_hi": extra["band_high"],
            "mul_n_gelu": extra["n_grokked_gelu"], "mul_n_relu": extra["n_grokked_relu"]}


# ------------------------------------------------------------------------------ the proxy's clock, per model
CLOCK_COLUMNS = ["members", "grokked", "diverged", "eta_lambda", "clock_factor", "rescaled_delay",
                 "paper_rescaled_delay", "ratio", "rescaled_budget", "paper_rescaled_budget", "on_clock", "why"]


def clock_table(table: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    """The calibration of every model the rule of `claim_id` compares, from its own member table
    (`rules.clock_row`: eta*lambda, the clock factor against the paper's, the rescaled delay
    eta*lambda*dT against the paper's, the rescaled budget, and whether the model is on the
    paper's clock, which that rule's regime gate asks of each)."""
    from .rules import CLOCK_LABELS, clock_rows
    rows = clock_rows(table, CLOCK_LABELS[claim_id])
    return pd.DataFrame(rows, columns=["model"] + CLOCK_COLUMNS).set_index("model")


def clock_numbers(clocks: pd.DataFrame) -> dict:
    """p1 chapters' glued words for a `clock_table`: per model its rescaled delay against the
    paper's (or, without a paper delay, its rescaled budget), the band, the models off the clock
    and each model's clock factor."""
    from ..rules import fmt
    from .rules import CLOCK_BAND
    parts = [f"{name} {r['why']}" for name, r in clocks.iterrows()]
    off = [name for name, r in clocks.iterrows() if not r["on_clock"]]
    factors = ", ".join(f"{name} x{fmt(r['clock_factor'])}" for name, r in clocks.iterrows())
    return {"clock_summary": "; ".join(parts) or "no calibrated model", "clock_band": fmt(CLOCK_BAND),
            "clock_off": ", ".join(off) or "none", "clock_factors": factors or "none"}
