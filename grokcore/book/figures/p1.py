"""The figures of P1's chapters (p1_depth, p1_arch, p1_activation, p1_weight_decay,
p1_mechanism): one function per figure, each drawing and showing it. `caption` is the chapter's
`Page.caption(...)` line."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ...claims import p1
from ...claims.rules import fmt
from .. import plots


def _grokked(summary, key) -> str:
    return f"{summary.loc[key, 'grokked']}/{summary.loc[key, 'n']} grokked"


def _curves_row(datasets: dict, titles: list, figsize, legend: str = "center left"):
    """Train/test accuracy of each dataset side by side, one panel each."""
    fig, axes = plt.subplots(1, len(datasets), figsize=figsize, sharey=True)
    for ax, ds, title in zip(axes, datasets.values(), titles):
        plots.curves(ax, ds)
        ax.set_title(title)
    axes[0].legend(loc=legend)
    return fig, axes


def _delay_strip(ax, table, summary, x: str, order: list):
    """Per-member delays of the grokked members by `x`, with each group's median and bootstrap CI."""
    sns.stripplot(data=table[table["grokked"]], x=x, y="delay", order=order, ax=ax, size=6, jitter=0.1)
    ax.errorbar(range(len(order)), summary["median"],
                yerr=[summary["median"] - summary["ci_low"], summary["ci_high"] - summary["median"]],
                fmt="_", color="k", ms=20, capsize=4, label="median, bootstrap 95% CI")
    ax.set_xlabel("")


# ------------------------------------------------------------------------------ p1_depth
def clock_calibration(calib, wd: float, lrs, caption: str):
    """Delay and T_train against eta*lambda, and the rescaled delay against the paper's baseline."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.3))
    ax1.plot(calib["eta_lambda"], calib["t_grok"] - calib["t_train"], "o-", label=r"$\Delta T$")
    ax1.plot(calib["eta_lambda"], calib["t_train"], "s--", label=r"$T_{train}$")
    ax1.set(xscale="log", xlabel=r"$\eta\lambda$", ylabel="steps")
    if (calib["t_train"] > 0).any():
        ax1.set_yscale("log")
    ax1.legend(fontsize="small")
    ax2.plot(calib["eta_lambda"], calib["rescaled_delay"], "o-")
    ax2.axhline(p1.PAPER_ETA_LAMBDA * p1.PAPER_BASELINE_DELAY, color="k", ls=":", lw=0.8,
                label="paper baseline (p=97, w=256)")
    ax2.set(xscale="log", xlabel=r"$\eta\lambda$", ylabel=r"$\Delta T \cdot \eta\lambda$", ylim=(0, None))
    ax2.legend(fontsize="small")
    for ax in (ax1, ax2):  # fixed limits, so that a panel without a grokked point still draws
        ax.set_xlim(calib["eta_lambda"].min() / 1.5, calib["eta_lambda"].max() * 1.5)
    fig.suptitle(f"Clock calibration: depth-2 baseline, SGD, wd {wd:g}, lr {lrs}. " + caption,
                 fontsize="small", y=1.02)
    plt.show()


def depth_curves(datasets: dict, cfgs: dict, summary, p: int, frac: float, caption: str):
    titles = [f"{k} (w={cfgs[k].width}): {_grokked(summary, k)}" for k in datasets]
    fig, _ = _curves_row(datasets, titles, (12, 3.4))
    fig.suptitle(f"(a + b) mod {p}, train fraction {frac:.0%}. " + caption, fontsize="small", y=1.02)
    plt.show()


def depth_delays(table, summary, n_seeds: int, caption: str):
    """Per-seed delays per depth (grokked seeds) and the grokked count per depth."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    order = list(summary.index)
    _delay_strip(ax1, table, summary, "config", order)
    if table["grokked"].any():
        ax1.set_yscale("log")
    ax1.set_ylabel(r"$\Delta T = T_{grok} - T_{train}$ (steps)")
    ax1.legend(loc="best", fontsize="small")
    sns.barplot(x=order, y=summary["grokked"].to_numpy(), ax=ax2, color="C2")
    ax2.axhline(n_seeds, color="k", lw=0.8, ls="--")
    ax2.set_ylabel(f"seeds grokked (of {n_seeds})")
    fig.suptitle("Per-seed delay (grokked seeds only; grokked = $T_{grok} \\geq 2\\,T_{train}$) and grokked count "
                 "per depth. " + caption, fontsize="small", y=1.02)
    plt.show()


def canonical_reference(parts, table, source: str, profile: str):
    """P1's baseline at the paper's setting (a reference run, every seed of every part): curves,
    each seed's T_train and T_grok, and the paper's T_train and T_grok windows."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for ds in parts:
        plots.curves(ax, ds)
    plots.mark_times(ax, table)
    ax.axvspan(*p1.CANONICAL_T_TRAIN, color="C0", alpha=0.15, label="paper's $T_\\mathrm{train}$")
    ax.axvspan(*p1.CANONICAL_T_GROK, color="C2", alpha=0.2, label="paper's $T_\\mathrm{grok}$")
    ax.set_xlim(1, 5e4)
    handles = dict(zip(*reversed(ax.get_legend_handles_labels())))   # one entry per label
    ax.legend(handles.values(), handles.keys(), loc="upper left", fontsize="small")
    minutes = sum(float(ds.attrs["wall_time_s"]) for ds in parts) / 60
    seeds = np.concatenate([ds["seed"].values for ds in parts])
    ax.set_title(f"P1's baseline at the paper's setting, seeds {p1.seed_span(seeds)} ({source}, "
                 f"{minutes:.0f} min of training)", fontsize="small")
    fig.text(0, -0.08, textwrap.fill(
        f"The paper's setting, not the {profile} profile; {len(seeds)} seeds in {len(parts)} ensemble(s) on one "
        "split, run outside the book (command in book/reproducing.md); dashed: each seed's $T_\\mathrm{train}$, "
        "dotted: its $T_\\mathrm{grok}$. The test plateau after memorising is the share of test pairs whose swap "
        "(b, a) is a training pair: the summed embedding is symmetric, so fitting the training set gets those right.",
        110), fontsize="small", va="top")
    plt.show()


# ------------------------------------------------------------------------------ p1_arch
def arch_curves(datasets: dict, summary, p: int, frac: float, caption: str):
    fig, _ = _curves_row(datasets, [f"{k}: {_grokked(summary, k)}" for k in datasets], (11, 3.4))
    fig.suptitle(f"(a + b) mod {p}, train fraction {frac:.0%}. " + caption, fontsize="small", y=1.02)
    plt.show()


def arch_delays(table, summary, extra: dict, caption: str):
    """Per-seed delays per model and the Transformer / MLP delay ratio against the paper's band."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    _delay_strip(ax1, table, summary, "model", list(summary.index))
    ax1.set_ylabel(r"$\Delta T$ (steps)")
    ax1.legend(loc="best", fontsize="small")
    ratio, lo, hi = extra["ratio"], extra["ci_low"], extra["ci_high"]
    if np.isfinite(ratio):
        err = [[ratio - lo], [min(hi, 10 * ratio) - ratio]] if np.isfinite(lo) else None
        ax2.errorbar([0], [ratio], yerr=err, fmt="o", capsize=4, label="ours (mean ratio, 95% CI)")
    ax2.axhline(p1.ARCH_PAPER, color="C3", ls="--", label=f"paper {p1.ARCH_PAPER:g}")
    ax2.axhspan(extra["band_low"], extra["band_high"], color="C3", alpha=0.08,
                label=f"band: {p1.ARCH_PAPER:g} x/ {p1.RATIO_FACTOR:g}")
    ax2.set_xticks([])
    ax2.set_ylabel(r"mean $\Delta T$ Transformer / MLP")
    ax2.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    fig.suptitle("Per-seed delay (grokked seeds) and the delay ratio (censored delays included). " + caption,
                 fontsize="small", y=1.02)
    plt.show()


# ------------------------------------------------------------------------------ p1_activation
def activation_curves(datasets: dict, summary, acts: list, p: int, frac: float, caption: str):
    fig, axes = plt.subplots(2, len(acts), figsize=(4 * len(acts), 6.2), sharex=True, sharey=True)
    for i, r in enumerate(p1.REGIMES):
        for j, a in enumerate(acts):
            ax = axes[i, j]
            plots.curves(ax, datasets[(r, a)])
            ax.set_title(f"regime {r}, {a}: {_grokked(summary, (r, a))}")
            if i == 0:
                ax.set_xlabel("")
    axes[0, 0].legend(loc="center left")
    fig.suptitle(f"Depth-4 MLP, (a + b) mod {p}, train fraction {frac:.0%}. " + caption, fontsize="small", y=1.0)
    plt.show()


def activation_delays(table, summary, acts: list, n_seeds: int, caption: str):
    """Delays per activation and regime (dodged strips with median and CI) and grokked counts."""
    regimes = list(p1.REGIMES)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    sns.stripplot(data=table[table["grokked"]], x="act", y="delay", hue="regime", order=acts, hue_order=regimes,
                  dodge=True, ax=ax1, size=6, jitter=0.1)
    for k, r in enumerate(regimes):  # median and bootstrap CI beside each dodged strip (offsets +-0.2)
        s = summary.xs(r, level="regime").reindex(acts)
        ax1.errorbar(np.arange(len(acts)) + (0.4 * k - 0.2), s["median"], fmt="_", color="k", ms=14, capsize=3,
                     yerr=[s["median"] - s["ci_low"], s["ci_high"] - s["median"]],
                     label="median, 95% CI" if k == 0 else None)
    ax1.legend(loc="best", fontsize="small")
    ax1.set_xticks(range(len(acts)), acts)
    ax1.set_xlim(-0.5, len(acts) - 0.5)
    ax1.set_xlabel("activation")
    ax1.set_ylabel(r"$\Delta T$ (steps, grokked seeds)")
    if table["grokked"].any():
        ax1.set_yscale("log")
    summary["grokked"].unstack("regime").reindex(acts)[regimes].plot.bar(ax=ax2, rot=0)
    ax2.axhline(n_seeds, color="k", lw=0.8, ls="--")
    ax2.set_ylabel(f"seeds grokked (of {n_seeds})")
    ax2.set_xlabel("activation")
    fig.suptitle("Delay and grokked count per activation and regime. " + caption, fontsize="small", y=1.02)
    plt.show()


# ------------------------------------------------------------------------------ p1_weight_decay
def wd_window(table, summary, steps: dict, p: int, caption: str):
    """The Goldilocks plot: delay and grokked fraction against lambda, per model; `steps`: each
    model's budget."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for m, marker, color in zip(steps, "os", sns.color_palette(plots.PALETTE)):
        s = summary[summary["model"] == m]
        g = table[(table["model"] == m) & table["grokked"]]
        axes[0].scatter(g["wd"], g["delay"], marker=marker, color=color, alpha=0.4, s=18)
        axes[0].plot(s["wd"], s["median"], marker=marker, color=color, label=m)
        axes[1].plot(s["wd"], s["grokked_frac"], marker=marker, color=color, label=m)
    axes[0].set(xscale="log", yscale="log" if (table["delay"] > 0).any() else "linear",
                xlabel="weight decay $\\lambda$", ylabel="$\\Delta T$ (steps; grokked seeds)",
                title="delay: median line, seeds as points")
    budgets = ", ".join(f"{m} {n:,}" for m, n in steps.items())
    axes[1].set(xscale="log", xlabel="weight decay $\\lambda$", ylabel="fraction of seeds grokked", ylim=(-0.05, 1.05),
                title=f"grokked within the budget ({budgets} steps)")
    lams = table["wd"].to_numpy()
    for ax in axes:
        ax.set_xlim(lams.min() / 2, lams.max() * 2)  # fixed so that empty panels still draw
    axes[1].legend()
    fig.suptitle("The Goldilocks plot: (a + b) mod %d\n%s" % (p, caption), fontsize="small")
    fig.tight_layout()
    plt.show()


def wd_curves(datasets: dict, caption: str):
    """Train and test accuracy per model (rows) and lambda (columns), one line per seed."""
    grids = {m: list(dict.fromkeys(ds["wd"].values.tolist())) for m, ds in datasets.items()}
    fig, axes = plt.subplots(2, max(map(len, grids.values())), figsize=(12, 5), sharey=True, squeeze=False)
    for row, (m, ds) in enumerate(datasets.items()):
        lams = grids[m]
        for col, ax in enumerate(axes[row]):
            if col >= len(lams):
                ax.set_visible(False)
                continue
            plots.curves(ax, ds, members=np.flatnonzero(ds["wd"].values == lams[col]))
            ax.set_title(f"{m}, $\\lambda$ = {lams[col]:g}")
            ax.set_xlabel("step" if row else "")
    axes[0, 0].legend(loc="upper left")
    fig.suptitle("Train and test accuracy per $\\lambda$, one line per seed\n" + caption, fontsize="small")
    fig.tight_layout()
    plt.show()


# ------------------------------------------------------------------------------ p1_mechanism
def rms_curves(datasets: dict, table, caption: str):
    """Parameter RMS of every member during training, each seed's T_grok marked."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (name, ds) in enumerate(datasets.items()):
        color = sns.color_palette(plots.PALETTE)[i]
        steps = np.maximum(ds["step"].values, 1)
        for j in range(ds.sizes["member"]):
            ax.plot(steps, ds["rms"].isel(member=j).values, color=color, lw=0.8, alpha=0.6,
                    label=name if j == 0 else None)
        g = table[(table["config"] == name) & table["grokked"]]
        ax.scatter(g["t_grok"], g["rms_at_grok"], color=color, marker="o", edgecolor="k", zorder=3, s=30)
    ax.set(xscale="log", yscale="log", xlabel="optimizer step", ylabel="RMS over all parameters",
           title="Parameter RMS during training; dots mark each seed's $T_\\mathrm{grok}$")
    ax.legend(fontsize="small")
    fig.text(0, -0.04, caption, fontsize="small")
    plt.show()


def rms_settling(datasets: dict, table, models, caption: str):
    """Each seed's RMS from T_train to the end of the budget, T_grok dotted, per model."""
    fig, axes = plt.subplots(1, len(models), figsize=(12, 3.4), sharey=True)
    for ax, name in zip(axes, models):
        ds, g = datasets[name], table[table["config"] == name].reset_index(drop=True)
        steps = ds["step"].values
        for j, r in g.iterrows():
            if not np.isfinite(r["t_train"]):
                continue
            after = steps >= r["t_train"]
            ax.plot(steps[after], ds["rms"].isel(member=j).values[after], lw=0.9, label=f"seed {int(r['seed'])}")
            if np.isfinite(r["t_grok"]):
                ax.axvline(r["t_grok"], color=ax.lines[-1].get_color(), ls=":", lw=0.8)
        ax.set(title=name, xlabel="optimizer step")
    axes[0].set_ylabel("RMS over all parameters")
    axes[0].legend(fontsize="small")
    fig.suptitle("Settling: parameter RMS from $T_\\mathrm{train}$ to the end of the budget, dotted: $T_\\mathrm{grok}$\n"
                 + caption, fontsize="small")
    fig.tight_layout()
    plt.show()


def fourier_spectra(datasets: dict, table, nulls: dict, top: int, caption: str):
    """Per model in `nulls`: the mean normalised embedding spectrum of its grokked seeds (all
    seeds, grey, when none grokked), with the top-`top` share and the null in the title."""
    fig, axes = plt.subplots(1, len(nulls), figsize=(12, 4.6), sharey=True)
    for ax, name in zip(axes, nulls):
        spec, share = p1.fourier.embedding_spectra(datasets[name], top)
        ok = table.loc[table["config"] == name, "grokked"].to_numpy()
        shown = ok if ok.any() else np.ones_like(ok)  # without a grokked seed, show all (greyed)
        ax.bar(np.arange(spec.shape[1]), spec[shown].mean(0), width=0.9, color=None if ok.any() else "grey")
        ax.axhline(1 / spec.shape[1], color="k", lw=0.8, ls="--", label="uniform")
        ax.set_title(f"{name}: top-{top} share {fmt(100 * np.median(share[shown]))}% "
                     f"(null {fmt(100 * nulls[name])}%)\n"
                     + (f"({int(ok.sum())} grokked seeds)" if ok.any() else "(no seed grokked: all seeds, grey)"))
        ax.set_xlabel("frequency $k$")
    axes[0].set_ylabel("share of embedding energy")
    axes[0].legend(fontsize="small")
    fig.suptitle("Fourier energy of the token embedding at the end of the budget (mean over grokked seeds)\n"
                 + caption, fontsize="small")
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    plt.show()


def mul_curves(datasets: dict, p: int, caption: str):
    names = ["MLP-GELU mul", "MLP-ReLU mul"]
    fig, _ = _curves_row({k: datasets[k] for k in names}, names, (10, 3.6), legend="upper left")
    fig.suptitle(f"(a * b) mod {p}, a, b nonzero\n" + caption, fontsize="small")
    fig.tight_layout()
    plt.show()
