"""Part III (P3, "Exploring Grokking", arXiv 2412.10898) helpers: the paper's three models,
its eight optimizer variants batched into few ensembles, and the verdict rules of its
chapters as plain functions of measured numbers (stated in words in the chapters too).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..core.config import RunConfig

UNCLEAR = "inconclusive at this profile"


def transformer(**kw) -> RunConfig:
    """P3's "simplified encoding" transformer: 1 block, d_model 128, 4 heads, d_mlp 512, ReLU,
    no LayerNorm, [a, b, =] read out at the last position; AdamW lr 1e-3, wd 1, betas
    (0.9, 0.98), full batch, loss in float64, (a+b) mod 97. P3 ran the TransformerLens demo, so
    the init is TransformerLens's: every weight N(0, (0.8/sqrt(d_model))^2), biases 0."""
    base = dict(task="add", p=97, model="transformer", depth=1, width=128, heads=4, d_mlp=512, act="relu",
                norm="none", readout="last", init="gpt2", optimizer="adamw", lr=1e-3, wd=1.0,
                betas=(0.9, 0.98), loss_dtype="float64", batch_size=0)
    return RunConfig(**{**base, **kw})


def mlp(**kw) -> RunConfig:
    """P3's MLP: two hidden ReLU layers of width 512 on concatenated 128-d embeddings of a and b
    (the embedding is our choice); Adam lr 1e-3, no weight decay, same betas and loss dtype."""
    base = dict(transformer().to_dict(), model="mlp", depth=2, width=512, embed=128, combine="concat",
                init="torch", optimizer="adam", wd=0.0)
    return RunConfig(**{**base, **kw})


def lstm(**kw) -> RunConfig:
    """P3's LSTM: one layer, hidden 20, over [a, b] with 20-d embeddings (our choice); Adam lr 1e-2."""
    base = dict(transformer().to_dict(), model="lstm", depth=1, width=20, embed=20, init="torch",
                optimizer="adam", lr=1e-2, wd=0.0)
    return RunConfig(**{**base, **kw})


# ----------------------------------------------------------------------------- optimizers
def optimizer_base(**kw) -> RunConfig:
    """The base of P3's optimizer comparison: the transformer with Adam (AdamW at wd 0 is the
    same update), betas (0.9, 0.98), a 10-step linear warmup, full batch, 1,800 updates."""
    return transformer(**{"optimizer": "adamw", "wd": 0.0, "warmup": 10, "steps": 1800, **kw})


def optimizer_configs(base: RunConfig, update_noise: float = 1e-3, weight_noise: float = 0.01,
                      batch_size: int = 128) -> list[RunConfig]:
    """The eight variants as five ensembles (variants that differ only in lr or wd share one):
    Adam at three lrs; Adam + gradient noise; Adam + weight noise; Adam and AdamW (wd 1) with
    minibatches; AdamW wd 1 full batch. Name the members with `variant_names`."""
    return [base.replace(lr=(3e-4, 1e-3, 3e-3), wd=0.0),
            base.replace(lr=1e-3, wd=0.0, update_noise=update_noise),
            base.replace(lr=1e-3, wd=0.0, weight_noise=weight_noise),
            base.replace(lr=1e-3, wd=(0.0, 1.0), batch_size=batch_size),
            base.replace(lr=1e-3, wd=1.0)]


def variant_name(cfg: RunConfig, member: dict) -> str:
    """The paper's name of the optimizer variant a member of `cfg` trains with."""
    kind = f"AdamW wd {member['wd']:g}" if member["wd"] > 0 else "Adam"
    if cfg.batch_size:
        return f"{kind} minibatch {cfg.batch_size}"
    if cfg.update_noise:
        return f"{kind} + update noise {cfg.update_noise:g}"
    if cfg.weight_noise:
        return f"{kind} + weight noise {cfg.weight_noise:g}"
    return kind if member["wd"] > 0 else f"Adam lr {member['lr']:g}"


def variant_names(cfg: RunConfig) -> list[str]:
    """One name per member of `cfg`, in member order (the order of `members_table` rows)."""
    return [variant_name(cfg, m) for m in cfg.members()]


# ----------------------------------------------------------------------------- verdict rules
def fraction_verdict(summary: pd.DataFrame, peak_band=(0.4, 0.6), high_alpha: float = 0.75,
                     absent_share: float = 0.1) -> tuple[str, str]:
    """P3-frac from a per-alpha table with columns frac, n, grokked, median (median delay of
    the grokked members). A fraction "groks" when at least half of its seeds grokked.

    (a) the largest median delay among grokking fractions lies at a frac inside `peak_band`;
    (b) at the largest frac >= `high_alpha` that groks, the median delay is at most
        `absent_share` of that peak (test tracks train).
    reproduced: (a) and (b); partially: one of them; not reproduced: neither. Inconclusive
    when fewer than two fractions grok, none of the grid lies in the band, or no fraction
    >= high_alpha groks. Returns (verdict, reason)."""
    s = summary[summary["n"] > 0]
    ok = s[(s["grokked"] >= s["n"] / 2) & np.isfinite(s["median"].astype(float))]
    if len(ok) < 2:
        return UNCLEAR, f"{len(ok)} fraction(s) grokked in at least half of the seeds"
    if not ((s["frac"] >= peak_band[0]) & (s["frac"] <= peak_band[1])).any():
        return UNCLEAR, "no fraction of the grid lies near 0.5"
    high = ok[ok["frac"] >= high_alpha]
    if high.empty:
        return UNCLEAR, f"no fraction >= {high_alpha:g} grokked in at least half of the seeds"
    peak = ok.loc[ok["median"].astype(float).idxmax()]
    a = bool(peak_band[0] <= peak["frac"] <= peak_band[1])
    top = high.loc[high["frac"].idxmax()]
    b = bool(top["median"] <= absent_share * peak["median"])
    reason = (f"peak median delay {peak['median']:.0f} at frac {peak['frac']:g} ({'in' if a else 'outside'} "
              f"{peak_band}); at frac {top['frac']:g} median delay {top['median']:.0f} "
              f"({'<=' if b else '>'} {absent_share:g} x peak)")
    return {2: "reproduced", 1: "partially reproduced", 0: "not reproduced"}[a + b], reason


def median_or_nan(values) -> float:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else math.nan


def arch_verdict(mlp_holds, lstm_holds) -> str:
    """P3-arch from its two parts, each True (holds with the paper's budget), False (refuted:
    the opposite was observed) or None (not decided at this budget)."""
    parts = (mlp_holds, lstm_holds)
    if all(x is True for x in parts):
        return "reproduced"
    if all(x is False for x in parts):
        return "not reproduced"
    if True in parts and False in parts:
        return "partially reproduced"
    return UNCLEAR


def median_or_inf(values) -> float:
    """Median where a missing time (never reached) counts as +inf."""
    v = np.asarray(values, float)
    return float(np.median(np.where(np.isfinite(v), v, np.inf))) if len(v) else math.nan


def members_with_best(ds, optimizer=None, **labels) -> pd.DataFrame:
    """`results.tables.members_table` plus each member's best test accuracy over the run and, when
    given, its optimizer variant name (a list in member order, see `variant_names`)."""
    from ..results.tables import members_table
    df = members_table(ds, **labels)
    df["best_test_acc"] = ds["test_acc"].max("step").values
    if optimizer is not None:
        df["optimizer"] = list(optimizer)
    return df


def optimizer_verdict(best: pd.DataFrame, t_train_max: float = 400, generalised: float = 0.5):
    """P3-opt from a table with one row per (optimizer, frac): best_test_acc (median over
    seeds), t_train (median, inf = never memorised), n. Returns (verdict, ranking of the
    variants by their mean over frac of best_test_acc, names of the slow groups)."""
    ranking = best.groupby("optimizer")["best_test_acc"].mean().sort_values(ascending=False)
    slow = [f"{r.optimizer} @ {r.frac:g}" for r in best.itertuples() if not r.t_train <= t_train_max]
    if best.empty or (best["n"] == 0).any() or not (best["best_test_acc"] >= generalised).any():
        return UNCLEAR, ranking, slow
    adamw = ranking[ranking.index.str.startswith("AdamW")]
    adamw_best = bool(len(adamw) and adamw.max() >= ranking.max())  # ties count as best
    fast = not slow
    return {2: "reproduced", 1: "partially reproduced", 0: "not reproduced"}[adamw_best + fast], ranking, slow
