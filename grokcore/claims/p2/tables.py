"""P2's tables: what its rules read, built from the chapters' datasets (one row per member)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ...core.linear_problems import (LinearConfig, basis_pursuit_error, nuclear_norm_error, plateau_times,
                                     recoverable)
from ...results.tables import linear_members_table, members_table
from ..rules import outcomes
from .configs import INIT


def run_config(ds: xr.Dataset):
    """The LinearConfig a linear problem's dataset was trained with (its `config` attribute): its
    seeds are the ones run, moved by the replication's seed offset where the executor moved them,
    so instance checks (`recoverable`) see the instances the members trained on."""
    return LinearConfig.from_json(ds.attrs["config"])


def linear_table(ds, cfg, **labels) -> pd.DataFrame:
    """A linear problem's member table with its budget, the authors' plateau T1 / T2
    (`t_train_plateau`, `t_grok_plateau`: `linear_problems.plateau_times`, NaN when still moving at
    the budget) and whether the instance can be recovered at all (`recoverable`)."""
    t = linear_members_table(ds, **labels)
    t["budget"], t["tol"] = float(cfg.steps), float(cfg.tol)
    t["t_train_plateau"], t["t_grok_plateau"] = plateau_times(ds)
    t["recoverable"] = recoverable(run_config(ds))
    return t


def depth_table(datasets, cfgs, depths) -> pd.DataFrame:
    """The depth sweep's members (column `L_depth`) with t_grok / t_train (`grok_over_train`)."""
    dep = pd.concat([linear_table(ds, c, L_depth=d) for d, c, ds in zip(depths, cfgs, datasets)], ignore_index=True)
    dep["grok_over_train"] = dep.t_grok / dep.t_train.clip(lower=1)
    return dep


def depth_summary(dep: pd.DataFrame) -> pd.DataFrame:
    """Per (depth, N): share recovered, median times, final recovery error and t_grok / t_train."""
    return dep.groupby(["L_depth", "N"]).agg(
        recovered=("reached", "mean"), median_t_train=("t_train", "median"), median_t_grok=("t_grok", "median"),
        median_final_test_err=("final_test_err", "median"),
        median_grok_over_train=("grok_over_train", "median")).reset_index()


PENALISED_NORM = {"l1": "l1_norm", "nuclear": "nuclear_norm", "l2": "l2_norm"}


def norm_falls(ds, kind: str) -> np.ndarray:
    """Per member: whether the norm its penalty acts on (`kind`) is smaller at the end of the run
    than where the member memorised (t_train, interpolated between records): the penalty is active
    after memorisation. NaN for a member that never memorised."""
    steps, v = ds["step"].values.astype(float), ds[PENALISED_NORM[kind]].values
    from ...results.tables import final_values
    end = final_values(ds, PENALISED_NORM[kind])
    out = np.full(ds.sizes["member"], np.nan)
    for i, t in enumerate(ds["t_train"].values):
        if np.isfinite(t):
            out[i] = float(end[i] < np.interp(t, steps, v[i]))
    return out


def penalty_table(datasets: dict) -> pd.DataFrame:
    """The MLP's members for P2-l1 / P2-nuc: `penalty` (the ensemble's kind, 'none' where its
    coefficient is 0), `beta` (that coefficient), `problem` 'mlp' and `norm_falls` (`norm_falls`:
    the penalised norm fell between memorising and the end of the run; 1.0 / 0.0, NaN if never memorised)."""
    df = pd.concat([members_table(ds, penalty=k).assign(norm_falls=norm_falls(ds, k)) for k, ds in datasets.items()],
                   ignore_index=True)
    df["beta"] = np.select([df.penalty == "l1", df.penalty == "nuclear"], [df.l1, df.nuclear], df.l2)
    df.loc[df.beta == 0, "penalty"] = "none"
    df["problem"] = "mlp"
    return df


def linear_penalty_table(datasets: dict, cfgs: dict, problem: str, with_recoverable: bool = False) -> pd.DataFrame:
    """A linear problem's members for P2-l1 / P2-nuc: one ensemble per `penalty` (its key in
    `datasets`), each with its own budget, `problem` as given, and optionally `recoverable`."""
    parts = [linear_members_table(ds, penalty=k).assign(budget=float(cfgs[k].steps)) for k, ds in datasets.items()]
    if with_recoverable:
        parts = [t.assign(recoverable=recoverable(run_config(datasets[k]))) for t, k in zip(parts, datasets)]
    df = pd.concat(parts, ignore_index=True)
    df["problem"] = problem
    return df


def norm_change(ds, t_train, t_grok, beta, budget: float, **labels) -> pd.DataFrame:
    """The P2-l2proxy table of one results Dataset (the MLP's or a linear problem's): one row per
    member that memorised and then generalised (finite t_train < t_grok, arrays in member order),
    with its l2 and l1 norms at t_train and at t_grok, read off the recorded curves (linearly
    interpolated between recorded steps: a linear problem's times fall between its records)."""
    steps = ds["step"].values.astype(float)
    tr, tg, b = (np.asarray(v, float) for v in (t_train, t_grok, beta))
    rows = []
    for i in np.flatnonzero(np.isfinite(tr) & np.isfinite(tg) & (tg > tr)):
        at = lambda v, t: float(np.interp(t, steps, ds[v].values[i]))  # noqa: E731
        rows.append({"member": int(i), "seed": int(ds["seed"].values[i]), "beta": float(b[i]),
                     "t_train": tr[i], "t_grok": tg[i], "budget": float(budget), "dnf": "",
                     "l2_train": at("l2_norm", tr[i]), "l2_grok": at("l2_norm", tg[i]),
                     "l1_train": at("l1_norm", tr[i]), "l1_grok": at("l1_norm", tg[i]), **labels})
    cols = ["member", "seed", "beta", "t_train", "t_grok", "budget", "dnf", "l2_train", "l2_grok",
            "l1_train", "l1_grok", *labels]
    return pd.DataFrame(rows, columns=cols)


def mlp_norm_change(ds, budget: float, penalty: str = "l1") -> pd.DataFrame:
    """`norm_change` of one of the MLP's ensembles (`penalty`: the member field it varies, 'l1', or
    'wd' for P2-l2proxy's weight-decay control), over its members with that field above 0 (beta 0
    is the l1 ensemble's control)."""
    pen = ds[penalty].values > 0
    return norm_change(ds, np.where(pen, ds.t_train.values, np.nan), ds.t_grok.values, ds[penalty].values, budget,
                       problem="mlp", penalty=penalty)


def linear_norm_change(ds, table: pd.DataFrame, budget: float, problem: str) -> pd.DataFrame:
    """`norm_change` of a linear l1 ensemble over its recoverable members (`table`: its member table,
    in member order, with `recoverable`)."""
    return norm_change(ds, np.where(table.recoverable, table.t_train, np.nan), table.t_grok, table.beta, budget,
                       problem=problem)


def selection_table(datasets: dict, budget: float) -> pd.DataFrame:
    """P2-select's members: each linear problem (its key in `datasets`, spaces for underscores)
    with `recoverable` (basis pursuit for sensing; for completion every row and column observed
    >= rank times and nuclear-norm minimisation recovering W*; on the instances each dataset was
    trained on, `run_config`), `budget`, the authors' plateau times `t_train_plateau` /
    `t_grok_plateau` (`linear_problems.plateau_times`; NaN when still moving at the budget) and
    `t_select`, the T2 that P2-select ranks: the plateau T2 of a member that generalised (final
    recovery error <= `p2.rules.GENERALISED_ERR`), else the budget + 1 (never generalised:
    censored, the slowest)."""
    from .rules import GENERALISED_ERR
    parts = []
    for k, ds in datasets.items():
        t = linear_members_table(ds, problem=k.replace("_", " ")).assign(recoverable=recoverable(run_config(ds)))
        t["t_train_plateau"], t["t_grok_plateau"] = plateau_times(ds)
        parts.append(t)
    tab = pd.concat(parts, ignore_index=True)
    tab["budget"] = float(budget)
    generalised = tab.t_grok_plateau.notna() & (tab.final_test_err <= GENERALISED_ERR)
    tab["t_select"] = tab.t_grok_plateau.where(generalised, budget + 1)
    return tab


def selection_instances(tab: pd.DataFrame) -> pd.DataFrame:
    """P2-select's instances (one row per problem, N and seed: the seed draws W* or X and the
    random order that every tau shares), each with the Spearman correlation `rho` of tau with
    `t_select` over its recoverable members. A (problem, N, tau) setting where fewer than half the
    instances are recoverable is left out whole (e.g. compressed sensing at tau = 1: N basis rows
    see only N of the n coordinates); `rho` is NaN with fewer than 3 tau values or no spread."""
    share = tab.groupby(["problem", "N", "tau"])["recoverable"].transform("mean")
    rows = []
    for (prob, N, seed), g in tab.groupby(["problem", "N", "seed"], sort=True):
        ok = g[g.recoverable & (share[g.index] >= 0.5)]
        rho = np.nan
        if ok.tau.nunique() >= 3 and ok.t_select.nunique() >= 2:
            rho = float(ok[["tau", "t_select"]].corr(method="spearman").iloc[0, 1])
        rows.append({"problem": prob, "N": int(N), "seed": int(seed), "rho": rho, "n_tau": int(ok.tau.nunique()),
                     "n_unrecoverable": int((~g.recoverable).sum()), "n_settings_left_out": int((share[g.index] < 0.5).sum()),
                     "n_never": int((ok.t_select > ok.budget).sum())})
    return pd.DataFrame(rows)


def selection_summary(tab: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, N, tau): members, recoverable, generalised (plateau below GENERALISED_ERR),
    median plateau T1 and ranked T2 (`t_select`), and the median final recovery error."""
    return tab.assign(generalised=tab.t_select <= tab.budget).groupby(["problem", "N", "tau"]).agg(
        members=("seed", "size"), recoverable=("recoverable", "sum"), generalised=("generalised", "sum"),
        median_t_train=("t_train_plateau", "median"), median_t_grok=("t_select", "median"),
        median_final_err=("final_test_err", "median")).reset_index()


def modadd_table(datasets: dict) -> pd.DataFrame:
    """The modular-addition selection runs' members (column `selection`) with their outcomes."""
    return outcomes(pd.concat([members_table(ds, selection=s) for s, ds in datasets.items()], ignore_index=True))


def modadd_comparison(tab: pd.DataFrame, n_seeds: int, mod_p: int, mod_k: int) -> tuple[dict, str]:
    """Descriptive (P2 makes no claim here): per selection the members that grokked, the ratio of
    median t_grok diagonal / random with its bootstrap 95% CI (NaN when a selection never grokked).
    Returns the chapter's glue values and a one-line note."""
    from .. import stats
    g = {s: tab.loc[(tab.selection == s) & tab.reached, "t_grok"].to_numpy(float) for s in ("random", "diagonal")}
    n = {s: len(v) for s, v in g.items()}
    both = all(n.values())
    ratio = float(np.median(g["diagonal"]) / np.median(g["random"])) if both else np.nan
    lo, hi = stats.ratio_ci(g["diagonal"], g["random"], stat=np.median) if both else (np.nan, np.nan)
    values = {"mod_ratio": ratio, "mod_lo": lo, "mod_hi": hi, "mod_grok_random": f"{n['random']}/{n_seeds}",
              "mod_grok_diagonal": f"{n['diagonal']}/{n_seeds}"}
    from ..rules import fmt
    note = (f"modular addition p={mod_p}, {mod_k} diagonals vs random ({mod_k * mod_p} pairs): grokked "
            f"{n['diagonal']}/{n_seeds} vs {n['random']}/{n_seeds}, median T_grok ratio "
            f"{fmt(ratio)} [{fmt(lo)}, {fmt(hi)}]")
    return values, note


def unrecoverable(table: pd.DataFrame, cfg) -> pd.DataFrame:
    """The instances (seed, N) of `table` that the problem's convex programme cannot recover:
    `convex_error`, the recovery error of basis pursuit (sparse recovery) or of nuclear-norm
    minimisation (matrix completion), beside the members' final recovery errors (min and max over
    the instance's members: the penalised runs end where the programme does)."""
    solve = nuclear_norm_error if cfg.problem == "matrix" else basis_pursuit_error
    bad = table.loc[~table.recoverable].groupby(["seed", "N"], as_index=False)["final_test_err"].agg(["min", "max"])
    bad = bad.rename(columns={"min": "final_err_min", "max": "final_err_max"})
    return bad.assign(convex_error=[solve(cfg, {"seed": s, "N": n, "tau": 0.0, "init_scale": INIT})
                                    for s, n in zip(bad.seed, bad.N)])


def recoverable_by_n(cfg, Ns) -> pd.DataFrame:
    """How many of a matrix-completion config's instances (its seeds, at its first tau) nuclear-norm
    minimisation recovers (`linear_problems.recoverable`, at the config's tol), per number of
    observed entries N in `Ns`: the measurement behind the N a chapter completes at."""
    rows = []
    for n in Ns:
        one = cfg.replace(N=int(n), tau=cfg.tau[0], lr=cfg.lr[0], beta=cfg.beta[0], init_scale=cfg.init_scale[0])
        ok = recoverable(one)
        rows.append({"N": int(n), "instances": len(ok), "recoverable": int(ok.sum())})
    return pd.DataFrame(rows)


def loss_dtype_table(by_dtype: dict) -> pd.DataFrame:
    """The l1 ensemble's outcomes per loss dtype (`by_dtype`: dtype name -> its dataset) and beta:
    members, how many memorised, grokked and generalised without delay, and the median delay of
    those that grokked (rules.outcomes), to read whether the unpenalised control's grokking
    depends on the loss's precision."""
    rows = []
    for dtype, ds in by_dtype.items():
        d = outcomes(penalty_table({"l1": ds}))
        for beta, g in d.groupby("beta"):
            grokked = g.loc[g["grokked"], "delay"]
            rows.append({"loss_dtype": dtype, "beta": float(beta), "members": len(g),
                         "memorised": int(np.isfinite(g["t_train"].to_numpy(float)).sum()),
                         "grokked": len(grokked), "no_delay": int((g["outcome"] == "no delay").sum()),
                         "median_delay": float(grokked.median()) if len(grokked) else np.nan})
    return pd.DataFrame(rows)
