"""Part IV's configurations: the deep MLP of P4's regime (large initialisation, AdamW, MSE), the
depth grid, the weight-decay and training-set-size sweeps, the other offline data set, and the
modular-addition token MLPs; with the settings line every P4 ledger row starts its note with.

`QUICK` holds the quick profile's shared settings once: both chapters of Part IV read the same
depth runs, so the builders' defaults are these and a chapter passes its own parameters."""
from __future__ import annotations

from ...core.config import RunConfig
from ...core.images import TRAIN_POOL

DATA_NAMES = {"digits": "digits (scikit-learn, 8x8)", "mnist1d": "MNIST-1D", "mnist": "MNIST"}
PAPER_CLOCK = 1e-3 * 0.01 * 1e5  # P4's lr * gamma * steps: AdamW shrinks every weight by exp(-lr*gamma*T)
PROBE_ALL = 100_000   # test examples for the logged feature rank: more than any test set, so all of them
QUICK = dict(width=128, init_scale=8.0, lr=4e-3, wd=0.05, batch_size=200, steps=10_000, eval_every=200,
             dtype="float32")  # the quick profile of p4_deep and p4_rank (their parameters cells)
TOKEN_MLP = dict(task="add", frac=0.5, model="mlp", lr=1e-3, wd=1.0, eval_every=50)  # P1's setting family


def data_task(dataset: str, data_dir: str = "") -> tuple[str, str]:
    """(task, display name) of a P4 chapter's data: real MNIST when `data_dir` names its IDX
    files, else `dataset` ('digits' or 'mnist1d', both built offline)."""
    task = "mnist" if data_dir else dataset
    if task not in DATA_NAMES:
        raise ValueError(f"unknown P4 data set {dataset!r}; valid: {', '.join(DATA_NAMES)}")
    return task, DATA_NAMES[task]


def clock(lr: float, wd: float, steps: int) -> float:
    """lr * gamma * T, the exponent of AdamW's decoupled weight decay over the run (the paper: 1).
    The regime of P4's large initialisation is set by how far the decay shrinks the weights, so
    a shorter run keeps this product, not the step count."""
    return float(lr) * float(wd) * float(steps)


def deep_mlp(dataset: str = "digits", data_dir: str = "", n_seeds: int = 3, **kw) -> RunConfig:
    """P4's deep MLP: ReLU, PyTorch's init times `init_scale`, AdamW, MSE on one-hot labels, no
    early exit, the feature rank of every layer logged on the whole test set and the final
    parameters saved (p4_rank reads them). `QUICK` gives the defaults; keyword arguments override
    anything (n_train, depth, width, lr, wd, probe_size, ...)."""
    task, _ = data_task(dataset, data_dir)
    base = dict(QUICK, task=task, data_dir=data_dir, model="deepmlp", act="relu", optimizer="adamw", loss="mse",
                seeds=tuple(range(n_seeds)), early_stop=False, feature_rank=True, probe_size=PROBE_ALL,
                save_params=True)
    return RunConfig(**{**base, **kw})


def depth_grid(base: RunConfig, n_trains, depths) -> dict:
    """{(n_train, depth): config}, N outer and depth inner: the depth runs both chapters read."""
    return {(n, d): base.replace(n_train=n, depth=d) for n in n_trains for d in depths}


def middle_wd(wd_grid) -> float:
    """The sweep's middle gamma (the paper's baseline 0.01 of 0.005 / 0.01 / 0.05)."""
    return sorted(wd_grid)[1]


def wd_sweep(base: RunConfig, wd_grid, n_trains, depth: int) -> dict:
    """{n_train: config}: one ensemble per N holding every gamma of `wd_grid` and every seed."""
    return {n: base.replace(depth=depth, wd=tuple(wd_grid), n_train=n) for n in n_trains}


def norm_sweep(base: RunConfig, wd_grid, n_trains, depth: int) -> dict:
    """{n_train: config}: P4-norm's runs, at the sweep's depth and middle gamma, one per N."""
    return {n: base.replace(depth=depth, wd=middle_wd(wd_grid), n_train=n) for n in n_trains}


def compare_config(cfg: RunConfig, dataset: str) -> RunConfig:
    """`cfg` on the other offline data set `dataset`, at the same share of its training set
    (`core.images.TRAIN_POOL`), without the rank logging and saved parameters nothing reads."""
    n = int(round(cfg.n_train / TRAIN_POOL[cfg.task] * TRAIN_POOL[data_task(dataset)[0]]))
    return cfg.replace(task=data_task(dataset)[0], data_dir="", n_train=n, feature_rank=False, save_params=False)


def token_mlp(p: int, width: int, steps: int, n_seeds: int, **kw) -> RunConfig:
    """The modular-addition token MLP p4_deep sets beside the deep MLPs: (a + b) mod p, half the
    pairs for training, `width`-wide embeddings and layers, AdamW lr 1e-3 with weight decay 1."""
    return RunConfig(**{**TOKEN_MLP, "p": p, "width": width, "embed": width, "steps": steps,
                        "seeds": tuple(range(n_seeds)), **kw})


def token_mlp_grid(p: int, depths, width: int, steps: int, n_seeds: int) -> dict:
    """{(depth, residual): config}: plain then residual, each at every depth."""
    return {(d, r): token_mlp(p, width, steps, n_seeds, depth=d, residual=r) for r in (False, True) for d in depths}


def settings_note(cfg: RunConfig) -> str:
    """The settings line a P4 ledger row's note starts with: data set, N and its share of the
    training set, width, budget, lr, wd and their clock, init scale, dtype."""
    lr, wd, init = cfg.lr[0], cfg.wd[0], cfg.init_scale[0]
    return (f"{DATA_NAMES[cfg.task]}, N={cfg.n_train} ({cfg.n_train / TRAIN_POOL[cfg.task]:.0%} of the training set), "
            f"width {cfg.width}, {cfg.steps} steps, lr {lr:g}, wd {wd:g} (lr*wd*T {clock(lr, wd, cfg.steps):.2f}), "
            f"init x{init:g}, {cfg.dtype}")


def sweep_note(cfgs: dict) -> str:
    """The settings line of a sweep over N ({n_train: config}, as `wd_sweep` or `norm_sweep`
    build it): the gamma grid of an ensemble holding several, else its one gamma."""
    cfg = next(iter(cfgs.values()))
    gamma = f"γ grid {list(cfg.wd)}" if len(cfg.wd) > 1 else f"γ={cfg.wd[0]:g}"
    return (f"{DATA_NAMES[cfg.task]}, depth {cfg.depth}, N {list(cfgs)}, {gamma}, width {cfg.width}, "
            f"{cfg.steps} steps, lr {cfg.lr[0]:g}, init x{cfg.init_scale[0]:g}")


def with_note(row: dict, note: str) -> dict:
    """The ledger row with `note` (a settings line) put before its own note."""
    return {**row, "note": f"{note}; {row['note']}"}
