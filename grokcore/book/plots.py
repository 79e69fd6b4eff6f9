"""Shared figure style and the figures every chapter draws (seaborn, colour-blind-safe)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

PALETTE = "colorblind"


def set_theme():
    """The figure style, and tables shown with formatted numbers (see `tidy_tables`)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titlesize": "medium"})
    tidy_tables()


def tidy_tables():
    """Tables on a page print numbers as `claims.rules.fmt` does (3 significant digits, 12.3k,
    no six-decimal floats) and a missing value as an en dash, never NaN."""
    import pandas as pd

    from ..claims.rules import fmt

    def number(v):
        return "–" if v != v else fmt(v)
    pd.set_option("display.float_format", number)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    fmts = ip.display_formatter.formatters
    for kind in (pd.DataFrame, pd.Series):
        fmts["text/html"].for_type(kind, lambda t: (t.to_frame() if isinstance(t, pd.Series) else t)
                                   .to_html(na_rep="–", float_format=number))
        fmts["text/plain"].for_type(kind, lambda t, p, cycle: p.text(t.to_string(na_rep="–", float_format=number)))


def caption(profile: str, n_seeds: int, chapter: str, extra: str = "") -> str:
    """The line every figure carries: profile (with its step cap, if any), seed count and the
    command that reruns it."""
    from .chapters import split_label
    name, cap = split_label(profile)
    rerun = f"grok run {chapter} --profile {name}" + (f" --max-steps {cap}" if cap else "")
    text = f"Profile: {profile}; {n_seeds} seeds per configuration. Rerun: {rerun}"
    return text + (f" {extra}" if extra else "")


def curves(ax, ds, members=None, splits=("train", "test"), alpha=0.6, lw=0.8, label_prefix=""):
    """Train and test accuracy against step (log x), one thin line per member."""
    colors = dict(zip(("train", "test"), sns.color_palette(PALETTE, 2)))
    steps = np.maximum(ds["step"].values, 1)
    idx = range(ds.sizes["member"]) if members is None else members
    for split in splits:
        for j, i in enumerate(idx):
            ax.plot(steps, ds[f"{split}_acc"].isel(member=i).values, color=colors[split], alpha=alpha, lw=lw,
                    label=f"{label_prefix}{split}" if j == 0 else None)
    ax.set_xscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    return ax


def mark_times(ax, table):
    """Each member's T_train (dashed, blue) and T_grok (dotted, orange) as vertical lines, where
    it has them (a member table: `t_train`, `t_grok`)."""
    for t_train, t_grok in table[["t_train", "t_grok"]].to_numpy(float):
        if t_train == t_train:
            ax.axvline(max(t_train, 1), color="C0", ls="--", lw=0.8)
        if t_grok == t_grok:
            ax.axvline(t_grok, color="C1", ls=":", lw=1.2)
    return ax

VERDICT_COLORS = {"reproduced": "#1b7837", "partially reproduced": "#d9a400",
                  "not reproduced": "#c51b7d", "inconclusive at this profile": "#8c8c8c"}


def verdicts_by_paper(ax, table):
    """Stacked bars: how many claims of each paper got each verdict."""
    papers = sorted(table["paper"].unique())
    bottom = np.zeros(len(papers))
    for v, color in VERDICT_COLORS.items():
        n = np.array([((table["paper"] == p) & (table["verdict"] == v)).sum() for p in papers])
        ax.bar(papers, n, bottom=bottom, color=color, label=v)
        bottom += n
    ax.set_ylabel("claims")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="small")
    return ax


tidy_tables()  # a chapter that imports its plots shows formatted tables from its first cell on
