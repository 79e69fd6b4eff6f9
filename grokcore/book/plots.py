"""Shared figure style and the figures every chapter draws (seaborn, colour-blind-safe)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

PALETTE = "colorblind"


def set_theme():
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titlesize": "medium"})


def caption(profile: str, n_seeds: int, chapter: str, extra: str = "") -> str:
    """The line every figure carries: profile, seed count and the command that reruns it."""
    text = f"Profile: {profile}; {n_seeds} seeds per configuration. Rerun: grok run {chapter} --profile {profile}"
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
