"""The figures of Part III (P3: the fraction, architectures and optimizers chapters). Each function
draws one figure from the chapter's datasets or member tables and takes the caption line."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ...claims.p3 import censored_median
from .. import plots

PUBLIC_T_GROK = (3300, 13000)   # the public TransformerLens/Nanda range of steps to 99% test


def curves_by_fraction(datasets, fracs, title, caption):
    """Train and test accuracy of every member, one panel per training fraction."""
    fig, axes = plt.subplots(1, len(fracs), figsize=(3.2 * len(fracs), 2.8), sharey=True, squeeze=False)
    for ax, a, ds in zip(axes[0], fracs, datasets):
        plots.curves(ax, ds)
        ax.set_title(f"α = {a:g}")
    axes[0, 0].legend(loc="lower right")
    fig.suptitle(f"{title}\n{caption}", fontsize="small")
    fig.tight_layout()
    plt.show()


def delay_by_fraction(table, fracs, title, caption):
    """Delay against alpha (censored members open, the Kaplan-Meier median as a line) and the final
    test accuracy of every member."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
    for ev, mk, lab in ((True, "o", "generalised"), (False, "^", "censored at the budget")):
        g = table[table["event"] == ev]
        ax1.scatter(g["frac"], g["delay_c"], marker=mk, facecolors="C0" if ev else "none", edgecolors="C0", label=lab)
    km = [censored_median(g) for _, g in table.groupby("frac")]
    ax1.plot(sorted(table["frac"].unique()), [m if np.isfinite(m) else np.nan for m in km], "k-", lw=1, label="KM median")
    ax1.set(xlabel="training fraction α", ylabel="ΔT (steps), censored at the budget", title="delay")
    ax1.legend(fontsize="x-small")
    sns.stripplot(data=table, x="frac", y="final_test_acc", ax=ax2, order=fracs, color="0.3", size=5)
    ax2.set(xlabel="training fraction α", ylabel="final test accuracy", title="test accuracy at the end", ylim=(-0.02, 1.02))
    fig.suptitle(f"{title}\n{caption}", fontsize="small")
    fig.tight_layout()
    plt.show()


def reference(ds, title, caption):
    """The reference setting's accuracy curves beside the public range of its grokking time."""
    fig, ax = plt.subplots(figsize=(5, 3))
    plots.curves(ax, ds)
    ax.axvspan(*PUBLIC_T_GROK, color="0.85", zorder=0, label="public range of T_grok")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(title)
    fig.text(0.01, -0.1, caption, fontsize="x-small")
    plt.show()


def curves_by_architecture(datasets, wds, lstm_label, title, caption):
    """Accuracy curves, one row per architecture and one column per weight decay ("not run" where
    an architecture has no member at that weight decay)."""
    fig, axes = plt.subplots(len(datasets), len(wds), figsize=(3.4 * len(wds), 2.5 * len(datasets)), sharex=True,
                             sharey=True, squeeze=False)
    for i, (a, ds) in enumerate(datasets.items()):
        for j, w in enumerate(wds):
            members = list(np.flatnonzero(ds["wd"].values == w))
            if members:
                plots.curves(axes[i, j], ds, members=members)
            else:
                axes[i, j].text(0.5, 0.5, "not run at this profile", ha="center", va="center", transform=axes[i, j].transAxes)
            axes[i, j].set_title(f"{a}, wd {w:g}" + (f" ({lstm_label})" if a == "LSTM" else ""))
    axes[0, 0].legend(loc="lower right")
    fig.suptitle(f"{title}\n{caption}", fontsize="small")
    fig.tight_layout()
    plt.show()


def best_test_by_fraction(table, steps, note, caption):
    """Median best test accuracy against alpha, one line per optimizer variant."""
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=table, x="frac", y="best_test_acc", hue="optimizer", style="optimizer", markers=True,
                 estimator="median", errorbar=None, ax=ax)
    ax.set(xlabel="training fraction α", ylabel=f"best test accuracy in {steps} updates", ylim=(-0.02, 1.02))
    ax.legend(fontsize="x-small", loc="upper left")
    fig.text(0.01, -0.1, f"{note} {caption}", fontsize="x-small")
    plt.show()


def t_train_by_fraction(table, caption):
    """T_train of every member against alpha, by optimizer, over P3's band of ~100-200 updates."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.stripplot(data=table, x="frac", y="t_train", hue="optimizer", dodge=True, size=4, ax=ax)
    ax.axhspan(100, 200, color="0.85", zorder=0)
    ax.set(xlabel="training fraction α", ylabel="T_train (updates to 99% train)")
    ax.legend(fontsize="x-small", ncol=2)
    fig.text(0.01, -0.1, "grey band: P3's ~100-200 updates; members that never memorised are not drawn. " + caption,
             fontsize="x-small")
    plt.show()
