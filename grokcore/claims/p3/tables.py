"""P3's tables: what its rules read, built from the chapters' datasets (one row per member), and
the per-group summaries the chapters show beside them."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ...results.tables import members_table
from .. import stats
from ..rules import counts, fmt, km_median, outcomes
from .configs import variant_names
from .rules import fmt_steps


def train_acc_gain(ds, tail: float = 0.25):
    """Per member: how much its train accuracy rose over the last `tail` (a quarter) of its
    evaluated steps (final minus the value at the first evaluation at or after (1 - tail) x the
    last step). A member still learning at the budget has a clear gain; one on a plateau ~0.
    NaN for a member whose curve is NaN there (diverged)."""
    steps = ds["step"].values
    acc = ds["train_acc"].values                                   # (member, step)
    k = int(np.searchsorted(steps, (1 - tail) * steps[-1]))
    return acc[:, -1] - acc[:, min(k, len(steps) - 1)]


def test_at_train(ds):
    """Per member: its test accuracy at T_train (the first evaluated step with train accuracy >= 99%);
    NaN for a member that never memorised."""
    steps, t_tr = ds["step"].values, ds["t_train"].values.astype(float)
    acc = ds["test_acc"].values
    out = np.full(len(t_tr), np.nan)
    for m in np.flatnonzero(np.isfinite(t_tr)):
        out[m] = acc[m, min(int(np.searchsorted(steps, t_tr[m])), len(steps) - 1)]
    return out


def run_facts(ds) -> dict:
    """Columns every member of `ds` shares: `chance` (1/p) and `member_step_s`, the measured wall time
    per member and step of the run that made it (NaN when the file does not say)."""
    cfg = json.loads(ds.attrs["config"])
    wall, n = float(ds.attrs.get("wall_time_s", np.nan)), ds.sizes["member"] * max(int(ds["step"].values[-1]), 1)
    return {"chance": 1.0 / cfg["p"], "member_step_s": wall / n}


def members_with_best(ds, optimizer=None, **labels) -> pd.DataFrame:
    """`results.tables.members_table` plus each member's best test accuracy over the run and, when
    given, its optimizer variant name (a list in member order, see `variant_names`)."""
    df = members_table(ds, **labels)
    df["best_test_acc"] = ds["test_acc"].max("step").values
    if optimizer is not None:
        df["optimizer"] = list(optimizer)
    return df


def fraction_table(datasets, fracs) -> pd.DataFrame:
    """P3-frac's members (column `frac`) with their outcomes (grokked = with delay; `delay_c`
    censored at the budget), `chance` and `member_step_s` (`run_facts`)."""
    return outcomes(pd.concat([members_table(ds, frac=a, **run_facts(ds)) for a, ds in zip(fracs, datasets)],
                              ignore_index=True))


def censored_median(g: pd.DataFrame) -> float:
    """Kaplan-Meier median of the censored delays of a group's memorised members."""
    memo = g[np.isfinite(g["delay_c"])]
    return km_median(memo["delay_c"], memo["event"])


def train_pairs(frac: float, p: int) -> int:
    """The training pairs a fraction alpha of the p^2 pairs (a, b) holds (`core.tasks.split_indices`)."""
    return int(round(frac * p * p))


def fraction_summary(table: pd.DataFrame, p: int | None = None, paper_p: int = 97) -> pd.DataFrame:
    """Per alpha: outcomes, median T_train, censored median delay and median final test accuracy;
    with `p`, first the training pairs alpha means here and at the paper's modulus `paper_p`."""
    def per_alpha(g):
        a = float(g.name)
        pairs = {} if p is None else {"train pairs": f"{train_pairs(a, p):,}",
                                      f"at p = {paper_p}": f"{train_pairs(a, paper_p):,}"}
        return pd.Series({**pairs, "outcomes": counts(g), "median T_train": fmt_steps(g["t_train"].median()),
                          "censored median ΔT": fmt_steps(censored_median(g)),
                          "median final test": fmt(g["final_test_acc"].median())})
    return table.groupby("frac").apply(per_alpha, include_groups=False)


def architecture_table(datasets: dict) -> pd.DataFrame:
    """P3-arch's members (column `arch`: the key in `datasets`) with `train_acc_gain`, `test_at_train`,
    `chance`, `member_step_s` and outcomes."""
    return outcomes(pd.concat([members_table(ds, arch=a, **run_facts(ds)).assign(train_acc_gain=train_acc_gain(ds),
                                                                              test_at_train=test_at_train(ds))
                               for a, ds in datasets.items()], ignore_index=True))


def architecture_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (arch, wd): members, outcomes, median T_train and T_grok, median final accuracies."""
    def per_group(g):
        return pd.Series({"members": len(g), "outcomes": counts(g), "median T_train": fmt_steps(g["t_train"].median()),
                          "median T_grok": fmt_steps(g["t_grok"].median()),
                          "median final train": fmt(g["final_train_acc"].median()),
                          "median final test": fmt(g["final_test_acc"].median())})
    return table.groupby(["arch", "wd"]).apply(per_group, include_groups=False)


def delay_ratio(table: pd.DataFrame, wd: float, top: str = "transformer", bottom: str = "MLP"):
    """Median delay of `top`'s grokked members over `bottom`'s at weight decay `wd`, with its bootstrap
    95% CI: (ratio, low, high); NaN where a model has no grokked member."""
    d = {a: table[(table["arch"] == a) & (table["wd"] == wd) & table["grokked"]]["delay"] for a in (top, bottom)}
    lo, hi = stats.ratio_ci(d[top], d[bottom], stat=np.median)
    ratio = d[top].median() / d[bottom].median() if len(d[bottom]) and len(d[top]) else float("nan")
    return ratio, lo, hi


def optimizer_table(sweep, datasets) -> pd.DataFrame:
    """P3-opt's members: `frac`, `optimizer` (the variant's name), `best_test_acc`, `d_model`, `chance`
    and `member_step_s`."""
    return pd.concat([members_with_best(ds, frac=a, optimizer=variant_names(c), d_model=c.width, **run_facts(ds))
                      for (a, c), ds in zip(sweep, datasets)], ignore_index=True)


def optimizer_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (optimizer, alpha): median best test accuracy, median T_train (never memorised: inf), seeds."""
    return (table.assign(t_train=table["t_train"].fillna(np.inf))
            .groupby(["optimizer", "frac"]).agg(best_test_acc=("best_test_acc", "median"), t_train=("t_train", "median"),
                                                n=("seed", "size")).reset_index())


def optimizer_scores(table: pd.DataFrame) -> pd.Series:
    """Each variant's score, as P3-opt ranks them: the mean over alpha of its mean best test accuracy."""
    return table.groupby(["optimizer", "frac"])["best_test_acc"].mean().groupby("optimizer").mean()
