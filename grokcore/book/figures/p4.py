"""Part IV's figures (chapters p4_deep and p4_rank). Each function draws one figure and shows it;
`caption` is the chapter's line under every figure (`Page.caption`)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ...claims.p4 import PAPER_CLOCK
from .. import plots


def _finish(fig, title: str):
    fig.suptitle(title, fontsize="small")
    fig.tight_layout()
    plt.show()


def accuracy_grid(datasets: dict, data_name: str, init_scale: float, caption: str):
    """Train and test accuracy of the depth runs ({(n_train, depth): Dataset}): a row per N, a
    column per depth."""
    ns, depths = list(dict.fromkeys(n for n, _ in datasets)), list(dict.fromkeys(d for _, d in datasets))
    fig, axes = plt.subplots(len(ns), len(depths), figsize=(3.2 * len(depths), 2.6 * len(ns)),
                             sharex=True, sharey=True, squeeze=False)
    for (n, d), ds in datasets.items():
        ax = axes[ns.index(n), depths.index(d)]
        plots.curves(ax, ds)
        ax.set_title(f"N={n}, depth {d}")
    axes[0, 0].legend(loc="lower right")
    _finish(fig, f"{data_name}: train and test accuracy of deep MLPs (init x{init_scale:g}, MSE)\n{caption}")


def rise_by_depth(table, datasets: dict, lr: float, wd: float, steps: int, data_name: str,
                  init_scale: float, caption: str):
    """Left: per member, the rise onsets of train and test accuracy (from step 0) and the
    memorisation step, members that never memorised drawn at the budget with open markers (the
    rule judges the rises, and counts them as no delay). Right: train accuracy at the largest N
    against the decay clock lr*gamma*t, the paper's budget (lr*gamma*T = 1) marked."""
    depths, n_big = list(dict.fromkeys(d for _, d in datasets)), max(n for n, _ in datasets)
    seed = table["seed"].rank(method="dense") - 1   # 0, 1, ... whatever the seeds' offset
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
    t = table.assign(memorised=np.isfinite(table["t_train"].astype(float)), seed_rank=seed)
    jit = lambda df, k: df["depth"] + 0.12 * (df["seed_rank"] - seed.max() / 2) + 0.4 * k  # noqa: E731
    for k, (col, name, marker) in enumerate((("t_rise_train", "train rise", "o"), ("t_rise_test", "test rise", "s"))):
        ax[0].scatter(jit(t, k - 0.5), t[col], marker=marker, color=f"C{k}", label=name, s=22)
    mem, nm = t[t["memorised"]], t[~t["memorised"]]
    ax[0].scatter(jit(mem, 0.5), mem["t_train"], marker="^", color="C2", label="memorised (t_train)", s=22)
    ax[0].scatter(jit(nm, 0.5), np.full(len(nm), steps), marker="^", facecolors="none", edgecolors="C2",
                  label="never memorised (at the budget)", s=22)
    ax[0].axhline(steps, color="0.5", ls=":", lw=0.8)
    ax[0].set_xticks(depths); ax[0].set_xlabel("depth"); ax[0].set_ylabel("step"); ax[0].set_ylim(0, steps * 1.08)
    ax[0].set_title("rise onsets and memorisation by depth"); ax[0].legend(fontsize="x-small", loc="upper left")
    for (n, d), ds in datasets.items():
        if n == n_big:
            for m in range(ds.sizes["member"]):
                ax[1].plot(lr * wd * ds["step"].values, ds["train_acc"].values[m], color=f"C{depths.index(d)}",
                           lw=0.8, label=f"depth {d}" if m == 0 else None)
    ax[1].axvline(PAPER_CLOCK, color="0.3", ls="--", lw=0.8, label="paper's budget")
    ax[1].axhline(0.99, color="0.5", ls=":", lw=0.8)
    ax[1].set_xlim(0, lr * wd * steps); ax[1].set_ylim(-0.02, 1.02)
    ax[1].set_xlabel("decay clock lr·γ·t"); ax[1].set_ylabel("train accuracy")
    ax[1].set_title(f"train accuracy, N={n_big}")
    ax[1].legend(fontsize="x-small", loc="lower right")
    _finish(fig, f"{data_name}: when train and test accuracy rise, by depth (init x{init_scale:g})\n{caption}")


def data_sets(named: dict, depth: int, steps: int, settings: str, caption: str):
    """The same deep MLP on both offline data sets ({name: Dataset}), side by side."""
    fig, ax = plt.subplots(1, len(named), figsize=(9, 3), sharey=True)
    for a, (name, ds) in zip(ax, named.items()):
        plots.curves(a, ds)
        a.set_xlim(1, steps)
        a.set_title(f"{name}, depth {depth}")
    ax[0].legend(loc="upper left")
    _finish(fig, f"The same deep MLP ({settings}) on both offline data sets\n{caption}")


def token_mlps(datasets: dict, p: int, caption: str):
    """The modular-addition token MLPs ({(depth, residual): Dataset}): plain above, residual below."""
    depths = list(dict.fromkeys(d for d, _ in datasets))
    fig, axes = plt.subplots(2, len(depths), figsize=(3 * len(depths), 4.6), sharex=True, sharey=True, squeeze=False)
    for (d, r), ds in datasets.items():
        ax = axes[int(r), depths.index(d)]
        plots.curves(ax, ds)
        ax.set_title(f"{'residual' if r else 'plain'} depth {d}")
    _finish(fig, f"(a+b) mod {p}: token MLPs by depth\n{caption}")


def rank_heatmaps(datasets: dict, title: str, caption: str):
    """Per depth ({depth: Dataset}): the median feature rank by layer and step beside the accuracy."""
    fig, axes = plt.subplots(len(datasets), 2, figsize=(10, 2.8 * len(datasets)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.4, 1]})
    for i, (d, ds) in enumerate(datasets.items()):
        r = ds["feature_rank"].median("member")  # (step, layer)
        ax = axes[i, 0]
        im = ax.pcolormesh(np.maximum(ds["step"].values, 1), np.arange(1, d + 1), r.values.T.astype(float),
                           shading="nearest", cmap="viridis")  # (layer, step)
        ax.set_xscale("log"); ax.set_ylabel("layer"); ax.set_title(f"depth {d}: median feature rank")
        fig.colorbar(im, ax=ax)
        plots.curves(axes[i, 1], ds)
        axes[i, 1].set_title(f"depth {d}: accuracy")
    axes[0, 1].legend(loc="lower right")
    for ax in axes[-1]:
        ax.set_xlabel("optimizer step")
    _finish(fig, f"{title}: feature rank (layer x step) and accuracy\n{caption}")


def tunnel_profiles(datasets: dict, ranks: dict, thresholds: dict, title: str, caption: str):
    """Final rank profile per member (float64, `ranks`: {depth: (E, L)}), the tunnel threshold,
    and which members memorised: the rule reads only memorised members, so a depth whose members
    never memorised has no tunnel to judge."""
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.4 * len(datasets), 3), sharey=True, squeeze=False)
    for ax, (d, ds) in zip(axes[0], datasets.items()):
        mem, r = np.isfinite(ds["t_train"].values), ranks[d]
        for m in range(len(r)):
            first = m == int(np.argmax(mem == mem[m]))
            ax.plot(np.arange(1, d + 1), r[m], marker="o", ms=3, lw=0.8, color="C0" if mem[m] else "0.6",
                    ls="-" if mem[m] else "--", label=("memorised" if mem[m] else "not memorised") if first else None)
        ax.step(np.arange(1, d + 1), thresholds[d], where="mid", color="C3", ls=":", lw=1, label="threshold")
        ax.set_xticks(range(1, d + 1)); ax.set_xlabel("layer (last: output, not counted)")
        ax.set_title(f"depth {d}: final rank (float64)")
    axes[0, 0].set_ylabel("feature rank"); axes[0, 0].legend(fontsize="small")
    _finish(fig, f"{title}: tunnels (layers below the threshold)\n{caption}")


def probe_lines(probe_df, title: str, caption: str):
    """Linear-probe test accuracy by layer, a line per depth (`p4.probe_table`)."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    sns.lineplot(data=probe_df, x="layer", y="probe_test_acc", hue="depth", marker="o", ax=ax, palette=plots.PALETTE)
    ax.set_ylabel("probe test accuracy")
    _finish(fig, f"{title}: linear probes per layer (final parameters)\n{caption}")


def wd_sweep(datasets: dict, wd_grid, title: str, caption: str):
    """The weight-decay sweep ({n_train: Dataset holding every gamma}): a row per N, a column per gamma."""
    gammas = sorted(wd_grid)
    fig, axes = plt.subplots(len(datasets), len(gammas), figsize=(3.2 * len(gammas), 2.6 * len(datasets)),
                             sharex=True, sharey=True, squeeze=False)
    for i, (n, ds) in enumerate(datasets.items()):
        for j, g in enumerate(gammas):
            plots.curves(axes[i, j], ds, members=list(np.flatnonzero(np.isclose(ds["wd"].values, g))))
            axes[i, j].set_title(f"N={n}, γ={g:g}")
    axes[0, 0].legend(loc="lower right")
    _finish(fig, f"{title}: weight-decay sweep\n{caption}")


def norm_curves(datasets: dict, steps: int, title: str, caption: str):
    """Weight norm, rank of the second-to-last layer and test accuracy, one line per seed, a
    colour per N ({n_train: Dataset})."""
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.2))
    for i, (n, ds) in enumerate(datasets.items()):
        s = np.maximum(ds["step"].values, 1)
        for m in range(ds.sizes["member"]):
            lab = f"N={n}" if m == 0 else None
            ax[0].plot(s, ds["l2_norm"].values[m], color=f"C{i}", lw=0.8, label=lab)
            ax[1].plot(s, ds["feature_rank"].values[m, :, -2], color=f"C{i}", lw=0.8, label=lab)
            ax[2].plot(s, ds["test_acc"].values[m], color=f"C{i}", lw=0.8, label=lab)
    for a, t in zip(ax, ("weight norm (l2, all parameters)", "rank of second-to-last layer", "test accuracy")):
        a.set_xscale("log"); a.set_xlim(1, steps); a.set_xlabel("optimizer step"); a.set_title(t); a.legend()
    _finish(fig, f"{title}: one line per seed, by N\n{caption}")
