"""P2's linear problems: sparse recovery (l1) and matrix completion (nuclear norm), batched.

One `LinearConfig` is one ensemble, as in `grokcore.core.config`: the fields in `LINEAR_MEMBER_FIELDS`
(and `seeds`) may be tuples and the members are their cartesian product. Every member's signal
w (E, d) is trained by (sub)gradient descent in one loop, with gradients written out by hand:

  sparse:  loss = 1/2 ||X w - y||^2 + beta * R(w),   X (E, N, n), y = X w*,  w* s-sparse
  matrix:  loss = 1/2 sum_{(i,j) in Omega} (W - W*)_ij^2 + beta * R(W),   W* rank r, |Omega| = N

R is 'l1', 'l2' (unsquared), 'nuclear' or 'none'. With depth L > 1 the signal is the
elementwise product w = A_1 * ... * A_L and gradient descent runs on the factors A_l.
The seed draws the instance (X or Omega, w*) and the init, so members of one seed share it.
t_train (the paper's T1) = first step with relative train error <= tol; t_grok (the paper's T2) =
first step with relative recovery error ||w - w*|| / ||w*|| <= tol (tol 1e-3 by default, as the
authors' notebooks); delay = t_grok - t_train: the names of every other run's Dataset, so one
table and one rule read both. `plateau_times` gives the authors' other T1 / T2 (the first two
consecutive records within 5% of the mean of the last three), which P2's alpha*beta-scaling and
selection figures use. With `normalize` the matrix W* is scaled to ||W*||_F = sqrt(n1 n2), as
the authors' code. Results are xarray Datasets, stored by
grokcore.results under the config's hash.

Scale of the sparse problem (`scaling`):
- 'authors' (default), as the authors' notebooks: X ~ N(0, 1/N), the s non-zeros of w* are
  N(0, 1)/sqrt(n), and at depth 1 every entry starts at +init_scale.
- 'unit': X ~ N(0, 1/n), non-zeros N(0, 1), init +-init_scale with random signs.
Both draw the same standard normals, so one instance under 'unit' with (alpha, beta, init) is the
instance under 'authors' with (alpha * N/n, beta * sqrt(n)/N, init / sqrt(n)): w_authors(t) =
w_unit(t) / sqrt(n) at every step (same relative errors) when the init signs agree. At depth > 1
both draw the factors N(0, init^2) (all-positive equal factors would keep w >= 0 at even L), and
matrix completion is the same under both.
`basis_pursuit_error` solves min ||w||_1 s.t. X w = y (a linear program): an instance it cannot
recover says nothing about grokking and is reported apart (`recoverable`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import xarray as xr

from .config import ConfigError
from .metrics import eval_steps, first_step
from .train import resolve_device

LINEAR_MEMBER_FIELDS = ("lr", "beta", "init_scale", "N", "tau")
PROBLEMS = ("sparse", "matrix")
SCALINGS = ("authors", "unit")
REGULARIZERS = ("l1", "l2", "nuclear", "none")
# Fields added after results were stored: they join the hash only when set away from these
# defaults, so every earlier config keeps its hash (and its stored results).
LATE_DEFAULTS = {"normalize": False}


@dataclass(frozen=True)
class LinearConfig:
    problem: str = "sparse"      # 'sparse' (compressed sensing) | 'matrix' (completion)
    reg: str = "l1"              # name in REGULARIZERS
    n: int = 100                 # sparse: signal dimension
    s: int = 5                   # sparse: non-zeros in w*
    n1: int = 10                 # matrix: rows
    n2: int = 10                 # matrix: columns
    rank: int = 2                # matrix: rank of W*
    depth: int = 1               # L factors in w = A_1 * ... * A_L
    # --- member fields (scalar or tuple)
    lr: float | tuple = 0.1      # alpha
    beta: float | tuple = 1e-5   # regularisation coefficient
    init_scale: float | tuple = 1e-6
    N: int | tuple = 30          # measurements / observed entries
    tau: float | tuple = 0.0     # fraction of the N samples chosen by coherence (see `_instance`)
    # --- schedule
    steps: int = 100_000
    eval_every: int = 100
    eval_log_points: int = 30
    check_every: int = 10        # t_train/t_grok resolution in steps (errors are computed this often)
    seeds: tuple = (0,)
    tol: float = 1e-3
    scaling: str = "authors"     # sparse instance scale: 'authors' | 'unit' (see the module doc)
    early_stop: bool = True      # stop once every member has t_grok (plus 10%)
    dtype: str = "float64"
    normalize: bool = False      # matrix: W* scaled to ||W*||_F = sqrt(n1 * n2), as the authors' code

    def __post_init__(self):
        for name in LINEAR_MEMBER_FIELDS:
            v = getattr(self, name)
            v = tuple(v) if isinstance(v, (list, tuple)) else (v,)
            object.__setattr__(self, name, tuple(int(x) if name == "N" else float(x) for x in v))
        seeds = self.seeds
        object.__setattr__(self, "seeds", tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds))

    def members(self) -> list[dict]:
        grid = [getattr(self, k) for k in LINEAR_MEMBER_FIELDS]
        return [dict(zip(LINEAR_MEMBER_FIELDS, v[:-1]), seed=v[-1]) for v in itertools.product(*grid, self.seeds)]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def canonical_json(self) -> str:
        d = {k: v for k, v in self.to_dict().items() if LATE_DEFAULTS.get(k, ...) != v}
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "LinearConfig":
        d = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known})

    def hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def replace(self, **changes) -> "LinearConfig":
        return dataclasses.replace(self, **changes)


def validate(cfg: LinearConfig) -> None:
    if cfg.problem not in PROBLEMS:
        raise ConfigError(f"unknown problem {cfg.problem!r}; valid: {', '.join(PROBLEMS)}")
    if cfg.reg not in REGULARIZERS:
        raise ConfigError(f"unknown reg {cfg.reg!r}; valid: {', '.join(REGULARIZERS)}")
    if cfg.scaling not in SCALINGS:
        raise ConfigError(f"unknown scaling {cfg.scaling!r}; valid: {', '.join(SCALINGS)}")
    if cfg.reg == "nuclear" and cfg.problem != "matrix":
        raise ConfigError("reg 'nuclear' needs problem 'matrix'")
    d = cfg.n if cfg.problem == "sparse" else cfg.n1 * cfg.n2
    if max(cfg.N) > d or min(cfg.N) < 1:
        raise ConfigError(f"N must be in 1..{d}, got {cfg.N}")
    if any(not 0 <= t <= 1 for t in cfg.tau):
        raise ConfigError(f"tau must be in [0, 1], got {cfg.tau}")
    if cfg.depth < 1 or cfg.steps < 1 or not cfg.seeds:
        raise ConfigError("depth and steps must be positive and seeds non-empty")
    for name, ok, what in (("beta", lambda v: v >= 0, "non-negative"), ("lr", lambda v: v > 0, "positive"),
                           ("init_scale", lambda v: v > 0, "positive")):
        bad = [v for v in getattr(cfg, name) if not ok(v)]  # NaN fails every test
        if bad:
            raise ConfigError(f"{name} must be {what}, got {bad[0]}")
    if not 0 < cfg.tol < 1:
        raise ConfigError(f"tol must be in (0, 1), got {cfg.tol}")
    if cfg.eval_every < 1:
        raise ConfigError(f"eval_every must be positive, got {cfg.eval_every}")


# ---------------------------------------------------------------------------- instances
def _instance(cfg: LinearConfig, m: dict):
    """(X (N_max, d) with rows past N zeroed, or mask (d,)), w* (d,) and init factors (L, d) of one
    member, as numpy. Coherence selection (tau), following the authors' code for sparse recovery:
    the first round(tau*N) rows are standard basis vectors (coherence 1 with the sparse basis), the
    rest Gaussian (variance 1/N or 1/n by `scaling`). For matrix completion the first round(tau*N) entries are those with
    the largest mu_i + nu_j (row/column leverage of W*), the rest uniform among the others."""
    rng = np.random.default_rng(m["seed"])
    N, k = m["N"], int(round(m["tau"] * m["N"]))
    if cfg.problem == "sparse":
        n = cfg.n
        w = np.zeros(n)
        authors = cfg.scaling == "authors"
        w[rng.choice(n, cfg.s, replace=False)] = rng.standard_normal(cfg.s) / (np.sqrt(n) if authors else 1.0)
        X = rng.standard_normal((max(cfg.N), n)) / np.sqrt(N if authors else n)   # shared across tau
        coords = rng.permutation(n)[:k]
        X[:k] = 0.0
        X[np.arange(k), coords] = 1.0
        X[N:] = 0.0
        obs = X
    else:
        U = rng.standard_normal((cfg.n1, cfg.rank))
        V = rng.standard_normal((cfg.n2, cfg.rank))
        W = U @ V.T / np.sqrt(cfg.rank)
        if cfg.normalize:   # the authors' scale: ||W*||_F = sqrt(n1 n2), entries of order 1 whatever the seed
            W = W * np.sqrt(W.size) / np.linalg.norm(W)
        qu, qv = np.linalg.qr(U)[0], np.linalg.qr(V)[0]
        mu = cfg.n1 / cfg.rank * (qu ** 2).sum(1)              # (n1,)
        nu = cfg.n2 / cfg.rank * (qv ** 2).sum(1)              # (n2,)
        score = (mu[:, None] + nu[None, :]).ravel()
        order = rng.permutation(W.size)                         # uniform order, shared by all tau
        top = np.argsort(-score, kind="stable")[:k]
        rest = order[~np.isin(order, top)][:N - k]
        obs = np.zeros(W.size)
        obs[np.concatenate([top, rest]).astype(int)] = 1.0
        w = W.ravel()
    init = rng.standard_normal((cfg.depth, w.size)) * m["init_scale"]
    if cfg.depth == 1:   # |w0| = init_scale: all + (authors) or random signs (unit)
        sign = 1.0 if cfg.scaling == "authors" and cfg.problem == "sparse" else np.sign(init)
        init = np.full_like(init, m["init_scale"]) * sign
    return obs, w, init


NUC_ITERS = 3000     # ADMM iterations of `nuclear_norm_error`


def basis_pursuit_error(cfg: LinearConfig, m: dict) -> float:
    """Relative recovery error ||w_bp - w*|| / ||w*|| of basis pursuit, min ||w||_1 s.t. X w = y,
    on a sparse member's instance (scipy's linprog with w = u - v, u, v >= 0). NaN for matrix
    completion (its convex programme is not a linear one)."""
    from scipy.optimize import linprog
    if cfg.problem != "sparse":
        return float("nan")
    X, w, _ = _instance(cfg, m)
    X = X[:m["N"]]
    y, n = X @ w, X.shape[1]
    res = linprog(np.ones(2 * n), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    if not res.success:
        return float("nan")
    return float(np.linalg.norm(res.x[:n] - res.x[n:] - w) / np.linalg.norm(w))


def nuclear_norm_error(cfg: LinearConfig, m: dict, iters: int = NUC_ITERS, rho: float = 1.0) -> float:
    """Relative recovery error ||W_nn - W*||_F / ||W*||_F of nuclear-norm minimisation,
    min ||W||_* s.t. W agrees with W* on the observed entries, on a matrix member's instance: the
    convex programme of matrix completion, as basis pursuit is that of sparse recovery. Solved by
    ADMM on W = Z (singular-value soft-thresholding of W, then Z reset to the observations on the
    mask); `iters` iterations reach ~1e-6 on recoverable 10x10 rank-2 instances. NaN for sparse."""
    if cfg.problem != "matrix":
        return float("nan")
    mask, w, _ = _instance(cfg, m)
    on = mask.reshape(cfg.n1, cfg.n2) != 0
    target = w.reshape(cfg.n1, cfg.n2)
    z = np.where(on, target, 0.0)
    u = np.zeros_like(z)
    scale = np.linalg.norm(target)
    for _ in range(iters):
        a, s, bt = np.linalg.svd(z - u, full_matrices=False)
        x = (a * np.maximum(s - 1.0 / rho, 0.0)) @ bt
        z_old, z = z, np.where(on, target, x + u)
        u = u + x - z
        if np.linalg.norm(x - z) + np.linalg.norm(z - z_old) < 1e-12 * scale:   # primal and dual residuals
            break
    return float(np.linalg.norm(x - target) / np.linalg.norm(target))


def observed_counts(mask, n1: int, n2: int) -> tuple[np.ndarray, np.ndarray]:
    """Observed entries per row (n1,) and per column (n2,) of a completion mask (n1 * n2,)."""
    m = np.asarray(mask).reshape(n1, n2) != 0
    return m.sum(1), m.sum(0)


def completable(mask, n1: int, n2: int, rank: int) -> bool:
    """The necessary condition for completing a rank-`rank` matrix from the entries in `mask`:
    every row and every column has at least `rank` observed entries (a row seen fewer times has
    more unknowns in it than equations, so no method can complete it)."""
    rows, cols = observed_counts(mask, n1, n2)
    return bool(rows.min() >= rank and cols.min() >= rank)


def recoverable(cfg: LinearConfig, tol: float | None = None) -> np.ndarray:
    """Per member: whether its instance can be recovered at all by the problem's convex programme,
    to relative error <= tol (the config's tol by default). Sparse recovery: basis pursuit. Matrix
    completion: every row and column observed at least rank times (`completable`, necessary for
    any method) and nuclear-norm minimisation (`nuclear_norm_error`) recovering W*.
    Instances repeat across the lr / beta / init grid, so each (seed, N, tau) is checked once."""
    tol = cfg.tol if tol is None else tol
    cache = {}
    out = []
    for m in cfg.members():
        key = (m["seed"], m["N"], m["tau"])
        if key not in cache:
            if cfg.problem == "matrix":
                cache[key] = (completable(_instance(cfg, m)[0], cfg.n1, cfg.n2, cfg.rank)
                              and nuclear_norm_error(cfg, m) <= tol)
            else:
                e = basis_pursuit_error(cfg, m)
                cache[key] = bool(not np.isfinite(e) or e <= tol)
        out.append(cache[key])
    return np.array(out)


PLATEAU_LAST = 3     # the authors' plateau: the mean of the last 3 recorded errors ...
PLATEAU_REL = 0.05   # ... +-5% around it ...
PLATEAU_RUN = 2      # ... entered by 2 consecutive records


def plateau_steps(steps, err, last: int = PLATEAU_LAST, rel: float = PLATEAU_REL, run: int = PLATEAU_RUN):
    """The authors' plateau time of each row of `err` (members x records, at `steps`): the first
    recorded step that starts `run` (2) consecutive records within `rel` (5%) of the mean of the
    final `last` (3) records, or the final checkpoint where no such run exists (as the authors).
    Returns (step, settled): `settled` is False where the run starts only inside the final `last`
    records that define the plateau, or not at all: the error was still moving when the budget
    ended, so the time is right-censored at the budget."""
    err, steps = np.atleast_2d(np.asarray(err, float)), np.asarray(steps, float)
    n = err.shape[1]
    final = err[:, -last:].mean(1, keepdims=True)
    inside = np.abs(err - final) <= rel * np.abs(final)
    starts = inside[:, :n - run + 1].copy()
    for k in range(1, run):
        starts &= inside[:, k:n - run + 1 + k]
    found = starts.any(1)
    idx = np.where(found, np.argmax(starts, 1), n - 1)
    return steps[idx], found & (idx < n - last)


def plateau_times(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per member of a linear results Dataset: the authors' T1 and T2 (`plateau_steps` of the
    train and the recovery error), NaN where it is not settled (`plateau_steps`: censored)."""
    out = []
    for v in ("train_err", "test_err"):
        t, settled = plateau_steps(ds["step"].values, ds[v].values)
        out.append(np.where(settled, t, np.nan))
    return out[0], out[1]


class _NumPy:
    """The array operations the loop needs, in NumPy (the CPU path)."""

    def __init__(self, dtype: str):
        self.dt, self.device = np.dtype(dtype), "cpu"

    def array(self, a):
        return np.asarray(a, dtype=self.dt)

    def firsts(self, n: int):
        return np.full(n, -1, dtype=np.int64)

    def norm(self, x, keep: bool = False):
        return np.linalg.norm(x, axis=1, keepdims=keep)

    def svd(self, m):
        return np.linalg.svd(m, full_matrices=False)

    def svdvals(self, m):
        return np.linalg.svd(m, compute_uv=False)

    sign, stack, where = staticmethod(np.sign), staticmethod(np.stack), staticmethod(np.where)
    numpy = staticmethod(np.asarray)
    floor = staticmethod(lambda x: np.maximum(x, 1e-300))
    swap = staticmethod(lambda x: x.transpose(0, 2, 1))


class _Torch:
    """The same operations in PyTorch (the CUDA path)."""

    def __init__(self, dtype: str, device):
        self.dt, self.device = getattr(torch, dtype), device

    def array(self, a):
        return torch.as_tensor(np.asarray(a), dtype=self.dt, device=self.device)

    def firsts(self, n: int):
        return torch.full((n,), -1, dtype=torch.long, device=self.device)

    def norm(self, x, keep: bool = False):
        return x.norm(dim=1, keepdim=keep)

    def svd(self, m):
        return torch.linalg.svd(m, full_matrices=False)

    sign, stack, where = staticmethod(torch.sign), staticmethod(torch.stack), staticmethod(torch.where)
    svdvals = staticmethod(torch.linalg.svdvals)
    numpy = staticmethod(lambda x: x.cpu().numpy())
    floor = staticmethod(lambda x: x.clamp_min(1e-300))
    swap = staticmethod(lambda x: x.transpose(1, 2))


def _reg_grad(cfg, w, beta, xp):
    """beta * subgradient of R at w; w (E, d), beta (E, 1)."""
    if cfg.reg == "l1":
        return beta * xp.sign(w)
    if cfg.reg == "l2":
        return beta * w / xp.floor(xp.norm(w, keep=True))
    if cfg.reg == "nuclear":
        U, _, Vh = xp.svd(w.reshape(-1, cfg.n1, cfg.n2))
        return beta * (U @ Vh).reshape(w.shape)
    return 0.0


def _norms(cfg, w, xp):
    out = {"l1_norm": abs(w).sum(1), "l2_norm": xp.norm(w)}
    if cfg.problem == "matrix":
        sv = xp.svdvals(w.reshape(-1, cfg.n1, cfg.n2))   # (E, min(n1, n2))
        out["nuclear_norm"] = sv.sum(1)
        out["singular_values"] = sv
    return out


# ---------------------------------------------------------------------------- training
def train_linear(cfg: LinearConfig, device: str = "cpu") -> xr.Dataset:
    """Train every member of `cfg` by (sub)gradient descent; curves and t_train/t_grok as a Dataset.
    On the CPU the loop runs in NumPy (`_train_numpy`): the arrays are tiny, so a step costs
    the per-operation overhead, which is several times smaller in NumPy than in PyTorch; on
    CUDA it runs in PyTorch (`_train`). Both compute the same updates in float64."""
    validate(cfg)
    if device in ("cpu", "auto") and not (device == "auto" and torch.cuda.is_available()):
        return _train_numpy(cfg)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(cfg, device)
    finally:
        torch.set_num_threads(threads)


def _train_numpy(cfg: LinearConfig) -> xr.Dataset:
    return _loop(cfg, _NumPy(cfg.dtype))


def _train(cfg: LinearConfig, device: str) -> xr.Dataset:
    return _loop(cfg, _Torch(cfg.dtype, resolve_device(device)))


def _products_but_one(A, rest) -> list:
    """For each factor l, the product of the others, multiplied left to right in index order (as
    `A[rest[l]].prod(0)`, bit for bit): with small arrays a step costs its number of operations, and
    indexing a view and multiplying takes fewer than gathering and reducing."""
    out = []
    for r in rest:
        p = A[r[0]]
        for k in r[1:]:
            p = p * A[k]
        out.append(p)
    return out


def _loop(cfg: LinearConfig, xp) -> xr.Dataset:
    """The (sub)gradient-descent loop, written once for both array backends `xp`."""
    t0 = time.perf_counter()
    members = cfg.members()
    parts = [_instance(cfg, m) for m in members]
    obs, w_star = (xp.array(np.stack([p[k] for p in parts])) for k in (0, 1))
    A = xp.array(np.stack([p[2] for p in parts]).transpose(1, 0, 2).copy())       # (L, E, d)
    lr, beta = (xp.array([[m[k]] for m in members]) for k in ("lr", "beta"))        # (E, 1)
    sparse, L = cfg.problem == "sparse", cfg.depth
    y = (obs @ w_star[:, :, None])[..., 0] if sparse else obs * w_star              # (E, N_max) or (E, d)
    y_norm, w_norm = xp.norm(y), xp.norm(w_star)
    if sparse:  # d loss / d w = X^T X w - X^T y = G w - b
        Xt = xp.swap(obs)
        G, b = Xt @ obs, (Xt @ y[:, :, None])[..., 0]                               # (E, d, d), (E, d)
    first = {k: xp.firsts(len(members)) for k in ("t_train", "t_grok")}
    schedule = set(eval_steps(cfg.steps, cfg.eval_every, cfg.eval_log_points))
    rec, steps_done = [], []
    rest = [[k for k in range(L) if k != l] for l in range(L)]

    def errors(w):
        r = (obs @ w[:, :, None])[..., 0] - y if sparse else obs * (w - w_star)
        return xp.norm(r) / y_norm, xp.norm(w - w_star) / w_norm

    step = 0
    for step in range(cfg.steps + 1):
        if L == 1:
            w = A[0]                                      # (E, d)
        else:   # d w / d A_l = prod_{k != l} A_k; w = that product for l = L-1, times A_{L-1}
            others = _products_but_one(A, rest)
            w = others[-1] * A[-1]
        record = step in schedule
        if step % cfg.check_every == 0 or record:
            train_err, test_err = errors(w)
            for key, err in (("t_train", train_err), ("t_grok", test_err)):
                first[key] = xp.where((err <= cfg.tol) & (first[key] < 0), step, first[key])
        if record:
            row = {"train_err": train_err, "test_err": test_err, **_norms(cfg, w, xp)}
            rec.append({k: xp.numpy(v) for k, v in row.items()})
            steps_done.append(step)
            t_grok = xp.numpy(first["t_grok"])
            if cfg.early_stop and (t_grok >= 0).all() and step >= 1.1 * t_grok.max() + 1:
                break
        if step == cfg.steps:
            break
        g = (G @ w[:, :, None])[..., 0] - b if sparse else obs * (w - w_star)
        if cfg.reg != "none":
            g = g + _reg_grad(cfg, w, beta, xp)
        if L == 1:
            A = A - lr * g
        else:
            A = A - lr * g * xp.stack(others)
    first = {k: xp.numpy(v) for k, v in first.items()}
    return _dataset(cfg, members, rec, steps_done, first, time.perf_counter() - t0, str(xp.device))


def _dataset(cfg, members, rec, steps, first, wall, dev) -> xr.Dataset:
    dims = ("member", "step")
    curves = {k: (dims, np.stack([r[k] for r in rec], 1)) for k in rec[0] if k != "singular_values"}
    if "singular_values" in rec[0]:
        curves["singular_values"] = (dims + ("k",), np.stack([r["singular_values"] for r in rec], 1))
    coords = {"member": np.arange(len(members)), "step": np.array(steps)}
    for k in ("seed",) + LINEAR_MEMBER_FIELDS:
        coords[k] = ("member", np.array([m[k] for m in members]))
    t_train, t_grok = (np.where(first[k] >= 0, first[k], np.nan).astype(float) for k in ("t_train", "t_grok"))
    dnf = np.where(np.isnan(t_train), "DNF_tr", np.where(np.isnan(t_grok), "DNF_te", ""))
    ds = xr.Dataset(curves, coords=coords)
    ds["t_train"], ds["t_grok"], ds["delay"] = ("member", t_train), ("member", t_grok), ("member", t_grok - t_train)
    ds["dnf"] = ("member", dnf.astype(object))
    ds.attrs.update({"config": cfg.canonical_json(), "config_hash": cfg.hash(), "device": dev,
                     "wall_time_s": wall, "steps_run": int(steps[-1])})
    return ds


# Results stored before the rename name the two times t1 / t2. They are renamed where every results
# file is read (`results.store.load` calls `upgrade`), so no other code knows the old names and the
# stored runs are read as they are, without retraining (their config hashes do not change).
STORED_TIME_NAMES = {"t1": "t_train", "t2": "t_grok"}


def upgrade(ds: xr.Dataset) -> xr.Dataset:
    """`ds` with the times of an older results file (t1, t2) under today's names (t_train, t_grok)."""
    old = {k: v for k, v in STORED_TIME_NAMES.items() if k in ds.data_vars and v not in ds.data_vars}
    return ds.rename(old) if old else ds
