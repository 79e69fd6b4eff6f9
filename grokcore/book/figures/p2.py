"""The figures of Part II (P2: the norms, linear and selection chapters). Each function draws one
figure from the chapter's datasets or tables and takes the caption line (`Page.caption`)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...claims.rules import fmt
from .. import plots


def _log_steps(ds):
    return np.maximum(ds.step.values, 1)


def _error_curves(ax, ds, tol, title):
    pal = dict(zip(sorted(set(ds.beta.values)), sns.color_palette("colorblind")))
    for i in np.flatnonzero(ds.seed.values == ds.seed.values[0]):
        b = float(ds.beta[i])
        ax.plot(_log_steps(ds), ds.train_err[i], color=pal[b], ls="--", lw=1)
        ax.plot(_log_steps(ds), ds.test_err[i], color=pal[b], lw=1.2, label=f"beta={b:g}")
    ax.axhline(tol, color="grey", lw=0.6)
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="relative error", title=title)
    ax.legend(fontsize=7)


def error_curves(sparse, matrix, tol, sparse_title, matrix_title, caption):
    """Train (dashed) and recovery (solid) error of the first seed, one colour per beta, for
    sparse recovery and matrix completion side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    _error_curves(axes[0], sparse, tol, sparse_title)
    _error_curves(axes[1], matrix, tol, matrix_title)
    fig.suptitle(caption, fontsize=8, y=-0.04)
    plt.show()


def singular_values(ds, beta, caption):
    """The singular values of matrix completion's first member at `beta`, against step."""
    sv = ds.singular_values.isel(member=int(np.argmax(ds.beta.values == beta)))
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.plot(_log_steps(ds), sv.values, lw=1)
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="singular value",
           title=f"matrix completion, beta={beta:g}: the singular values")
    fig.suptitle(caption, fontsize=8, y=-0.04)
    plt.show()


def scaling(panels, caption, y="t_grok_plateau"):
    """P2-scaling: the plateau T2 against alpha*beta, one dot per member (colour = seed), with the
    fitted line of slope k; `panels` is [(name, table, k), ...]."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3), layout="constrained")
    for ax, (name, tab, k) in zip(axes, panels):
        if len(tab):
            sns.scatterplot(data=tab, x="alpha_beta", y=y, hue="seed", palette="colorblind", ax=ax, legend=False)
        if len(tab) and np.isfinite(k):
            x = np.array([tab.alpha_beta.min(), tab.alpha_beta.max()])
            c = np.exp(np.mean(np.log(tab[y]) - k * np.log(tab.alpha_beta)))
            ax.plot(x, c * x ** k, color="k", lw=0.8, label=f"slope {fmt(k)}")
            ax.legend(fontsize=7)
        ax.set(xscale="log", yscale="log", xlabel="alpha * beta", ylabel="T2 (plateau)", title=f"{name}: {len(tab)} members")
    fig.suptitle(caption, fontsize=8, y=-0.04)
    plt.show()


def depth_curves(datasets, depths, at_N, tol, max_steps, caption):
    """The depth sweep at N = `at_N`: train (dashed) and recovery (solid) error of every seed, one
    panel per depth."""
    fig, axes = plt.subplots(1, len(depths), figsize=(3.6 * len(depths), 3), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, d, ds in zip(axes[0], depths, datasets):
        for i in np.flatnonzero(ds.N.values == at_N):
            ax.plot(_log_steps(ds), ds.train_err[i], color="C0", ls="--", lw=0.8)
            ax.plot(_log_steps(ds), ds.test_err[i], color="C1", lw=1)
        ax.axhline(tol, color="grey", lw=0.6)
        ax.set(xscale="log", yscale="log", xlim=(1, max(max_steps, 2)), xlabel="step", title=f"L = {d}, N = {at_N}")
    axes[0, 0].set_ylabel("relative error")
    fig.suptitle(caption, fontsize=8, y=-0.04)
    plt.show()


def penalty_curves(datasets, caption):
    """Train and test accuracy of the MLP, one panel per (penalty kind, beta)."""
    groups = [(k, b) for k in ("l1", "nuclear", "l2") if k in datasets for b in sorted(set(datasets[k][k].values))]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups), 3), sharey=True, squeeze=False)
    for ax, (k, b) in zip(axes[0], groups):
        ds = datasets[k]
        plots.curves(ax, ds, members=np.flatnonzero(ds[k].values == b))
        ax.set_title(f"{k} beta={b:g}" if b else "no penalty")
    axes[0][0].legend(loc="lower right")
    fig.suptitle(caption, fontsize=8, y=-0.02)
    plt.show()


def norm_curves(ds, caption):
    """The l2 and l1 norms of the l1-penalised members against step, one line per member."""
    sel = np.flatnonzero(ds["l1"].values > 0)
    long = pd.concat([ds[v].isel(member=sel).to_dataframe()[[v]].reset_index()  # member keeps its index
                      .rename(columns={v: "value"}).assign(norm=v) for v in ("l2_norm", "l1_norm")])
    long["beta"] = ds["l1"].values[long.member.to_numpy()]
    g = sns.relplot(data=long[long.step > 0], x="step", y="value", hue="beta", units="member", estimator=None,
                    col="norm", kind="line", facet_kws={"sharey": False}, height=3, lw=0.8, palette="colorblind")
    g.set(xscale="log", yscale="log")
    g.figure.suptitle(caption, fontsize=8, y=-0.02)
    plt.show()


def selection(tab, budget, caption):
    """P2-select: the authors' plateau T2 (the budget when never generalised) and the final recovery
    error against tau, one line per instance (seed); unrecoverable members as crosses, apart."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    ok, bad = tab[tab.recoverable], tab[~tab.recoverable]
    for ax, y, title in ((axes[0], "t_select", "time to generalise (plateau T2)"),
                         (axes[1], "final_test_err", "final recovery error")):
        sns.lineplot(data=ok, x="tau", y=y, hue="problem", units="seed", estimator=None, marker="o", lw=0.8,
                     alpha=0.7, ax=ax, palette="colorblind", legend=ax is axes[1])
        if len(bad):
            ax.scatter(bad.tau, bad[y], marker="x", color="k", zorder=3, label="unrecoverable")
        ax.set(yscale="log", title=title)
    axes[0].axhline(budget, color="grey", lw=0.6)
    axes[0].set(ylabel="T2 (budget + 1 if never)")
    axes[1].set(ylabel="||W - W*|| / ||W*|| at the budget")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(caption, fontsize=8, y=-0.04)
    plt.show()


def modadd_selection(datasets, tab, n_pairs, title, caption):
    """Modular addition: accuracy curves under each selection and the steps to 99% test."""
    selections = list(datasets)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    for ax, s in zip(axes, selections):
        plots.curves(ax, datasets[s])
        ax.set_title(f"{s} selection, {n_pairs} pairs")
    axes[0].legend(loc="lower right")
    sns.stripplot(data=tab, x="selection", y="t_grok", order=selections, ax=axes[2], color="0.3", size=6)
    axes[2].set(ylabel="$T_\\mathrm{grok}$ (steps)", title="steps to 99% test")
    fig.suptitle(f"{title}\n{caption}", fontsize="small")
    fig.tight_layout()
    plt.show()
