"""One frozen config per run; list-valued fields expand into ensemble members.

A `RunConfig` describes one *ensemble*: the architecture, task and schedule are shared
by every member, while the fields in `MEMBER_FIELDS` may hold a tuple of values. The
members are the cartesian product of those tuples and the seeds, so a grid over
lr x wd x 5 seeds is one config, one training loop and one results file.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field, fields

# Fields that may vary per member (a scalar or a tuple of values).
MEMBER_FIELDS = ("lr", "wd", "l1", "l2", "nuclear", "init_scale")
# Fields added after results were stored: left out of the canonical form (and so of the hash)
# while at these defaults, so every earlier config keeps its hash and its results file.
LATE_DEFAULTS = {"retire": ""}


class ConfigError(ValueError):
    """A config value that cannot run; the message names the field and valid choices."""


@dataclass(frozen=True)
class RunConfig:
    # --- task and data
    task: str = "add"            # name in grokcore.core.tasks.TASKS
    p: int = 97                  # modulus
    frac: float = 0.5            # train fraction of all valid pairs
    split: str = "shared"        # 'shared': one split for all members; 'per_seed': split seed = init seed
    split_seed: int = 0          # used when split == 'shared'
    select: str = "random"       # which pairs train: 'random', or 'diagonal' (whole diagonals, see tasks)
    n_train: int = 0             # image tasks: first N training examples (0 = all)
    data_dir: str = ""           # image tasks: folder with MNIST IDX files ('' = MNIST-1D)
    # --- model
    model: str = "mlp"           # name in grokcore.core.models.MODELS
    depth: int = 1               # MLP: hidden layers; transformer: blocks; LSTM: layers; deepmlp: Linear layers
    width: int = 128             # MLP hidden width; transformer d_model; LSTM hidden size
    embed: int = 128             # token embedding width (MLP)
    combine: str = "concat"      # MLP input: 'sum' | 'concat' embeddings, or 'onehot'
    act: str = "relu"            # name in grokcore.core.layers.ACTIVATIONS
    residual: bool = False       # MLP: pre-LayerNorm residual blocks h <- h + s*FC2(act(FC1(LN(h))))
    res_scale: float = 1.0       # the residual scale s
    heads: int = 4               # transformer
    d_mlp: int = 512             # transformer FFN width
    norm: str = "none"           # transformer: 'pre' (LayerNorm) | 'none'
    readout: str = "last"        # transformer: 'last' ([a, b, =], last position) | 'mean' ([a, b] mean-pooled)
    init: str = "torch"          # transformer: 'torch' (nn.Linear/Embedding-style) | 'gpt2' (TransformerLens:
    #                              every weight N(0, (0.8/sqrt(d_model))^2), biases 0); p2mlp: 'torch' |
    #                              'p2' (P2's code: hidden and output weights N(0, 1/fan_out), encoders torch)
    # --- optimisation; MEMBER_FIELDS may be tuples
    optimizer: str = "adamw"     # name in grokcore.core.optim.OPTIMIZERS
    lr: float | tuple = 1e-3
    wd: float | tuple = 0.0
    l1: float | tuple = 0.0      # coefficient of sum_W ||W||_1 added to the loss
    l2: float | tuple = 0.0      # coefficient of sum_W ||W||_F (unsquared)
    nuclear: float | tuple = 0.0  # coefficient of sum_W ||W||_*
    init_scale: float | tuple = 1.0  # every parameter multiplied by this at init
    betas: tuple = (0.9, 0.999)
    momentum: float = 0.9        # SGD
    eps: float = 1e-8
    warmup: int = 0              # linear lr warmup steps
    clip: float = 0.0            # per-member gradient-norm clip (0 = off)
    batch_size: int = 0          # 0 = full batch
    update_noise: float = 0.0    # std of Gaussian noise added to every gradient (P3's "update noise")
    weight_noise: float = 0.0    # std of Gaussian noise added to every weight after each update
    loss: str = "ce"             # 'ce' | 'mse' (on one-hot targets)
    loss_dtype: str = "float32"  # dtype the loss is computed in
    dtype: str = "float32"       # parameter dtype
    # --- schedule
    steps: int = 10_000
    eval_every: int = 100
    eval_log_points: int = 20    # extra log-spaced evaluations before eval_every
    seeds: tuple = (0,)
    early_stop: bool = True      # stop once every live member has grokked (plus a margin)
    stop_margin: float = 0.1     # keep training this fraction of the last T_grok after it
    threshold: float = 0.99      # accuracy counted as memorised / generalised
    feature_rank: bool = False   # log per-layer feature rank at evaluation steps
    probe_size: int = 512        # test examples used for feature metrics
    save_params: bool = False    # store the final parameters (param_<name>, dims member, ...)
    retire: str = ""             # name in grokcore.core.retire.RETIRE: when a finished member leaves the
    #                              ensemble ('grokked': T_grok plus the stop_margin window, or diverged;
    #                              'diverged'); its curves end there (NaN after). '' = train all to the end

    def __post_init__(self):
        # Normalise member fields and seeds to tuples so the hash does not depend on spelling.
        for name in MEMBER_FIELDS:
            v = getattr(self, name)
            v = tuple(float(x) for x in v) if isinstance(v, (list, tuple)) else (float(v),)
            object.__setattr__(self, name, v)
        seeds = self.seeds
        seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds)
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    # ------------------------------------------------------------------ members
    def members(self) -> list[dict]:
        """One dict per ensemble member: its seed and its value of every member field."""
        grid = [getattr(self, n) for n in MEMBER_FIELDS]
        out = []
        for values in itertools.product(*grid, self.seeds):
            m = dict(zip(MEMBER_FIELDS, values[:-1]))
            m["seed"] = values[-1]
            m["split_seed"] = values[-1] if self.split == "per_seed" else self.split_seed
            out.append(m)
        return out

    @property
    def n_members(self) -> int:
        n = len(self.seeds)
        for name in MEMBER_FIELDS:
            n *= len(getattr(self, name))
        return n

    # ------------------------------------------------------------------ identity
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def canonical_json(self) -> str:
        d = {k: v for k, v in self.to_dict().items() if LATE_DEFAULTS.get(k, ...) != v}
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    def hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        d = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known})


def validate(cfg: RunConfig) -> None:
    """Raise ConfigError with a one-line message for a config that cannot run."""
    from .models import ACTIVATIONS, MODELS
    from .optim import OPTIMIZERS
    from .retire import RETIRE
    from .tasks import TASKS, IMAGE_TASKS, is_prime

    def choice(name, value, valid):
        if value not in valid:
            raise ConfigError(f"unknown {name} {value!r}; valid: {', '.join(sorted(valid))}")

    choice("task", cfg.task, list(TASKS) + list(IMAGE_TASKS))
    choice("model", cfg.model, MODELS)
    choice("activation", cfg.act, ACTIVATIONS)
    choice("optimizer", cfg.optimizer, OPTIMIZERS)
    choice("combine", cfg.combine, ("sum", "concat", "onehot"))
    choice("split", cfg.split, ("shared", "per_seed"))
    choice("select", cfg.select, ("random", "diagonal"))
    if cfg.select == "diagonal" and cfg.task in TASKS and not 1 <= round(cfg.frac * cfg.p) < cfg.p:
        raise ConfigError(f"select 'diagonal' trains on round(frac*p) whole diagonals; frac={cfg.frac} "
                          f"gives {round(cfg.frac * cfg.p)} of p={cfg.p} (valid: 1 to p-1)")
    choice("norm", cfg.norm, ("pre", "none"))
    choice("readout", cfg.readout, ("last", "mean"))
    choice("init", cfg.init, ("torch", "gpt2", "p2"))
    if cfg.init == "gpt2" and cfg.model != "transformer":
        raise ConfigError(f"init 'gpt2' is for the transformer; model {cfg.model!r} takes init 'torch'")
    if cfg.init == "p2" and cfg.model != "p2mlp":
        raise ConfigError(f"init 'p2' is for p2mlp; model {cfg.model!r} takes init 'torch'")
    choice("loss", cfg.loss, ("ce", "mse"))
    choice("retire", cfg.retire, RETIRE)
    choice("dtype", cfg.dtype, ("float32", "float64"))
    choice("loss_dtype", cfg.loss_dtype, ("float32", "float64"))
    if cfg.task in TASKS:
        if cfg.p < 3:
            raise ConfigError(f"p must be at least 3, got {cfg.p}")
        if TASKS[cfg.task].needs_prime and not is_prime(cfg.p):
            raise ConfigError(f"task {cfg.task!r} needs a prime p (division), got {cfg.p}")
    if not 0.0 < cfg.frac < 1.0:
        raise ConfigError(f"frac must be in (0, 1), got {cfg.frac}")
    if cfg.steps <= 0:
        raise ConfigError(f"steps must be positive, got {cfg.steps}")
    if cfg.eval_every <= 0:
        raise ConfigError(f"eval_every must be positive, got {cfg.eval_every}")
    for name in MEMBER_FIELDS:
        bad = [v for v in getattr(cfg, name) if v < 0 or v != v]
        if bad:
            raise ConfigError(f"{name} must be non-negative, got {bad[0]}")
    for name in ("depth", "width", "embed", "heads", "d_mlp"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(cfg, name)}")
    if cfg.model == "transformer" and cfg.width % cfg.heads:
        raise ConfigError(f"width (d_model) {cfg.width} is not divisible by heads {cfg.heads}")
    if not cfg.seeds:
        raise ConfigError("seeds must name at least one seed")
    if min(cfg.batch_size, cfg.clip, cfg.warmup, cfg.update_noise, cfg.weight_noise) < 0:
        raise ConfigError("batch_size, clip, warmup and noise levels must be non-negative")


# ------------------------------------------------------------------------------ replication
SEED_OFFSET_ENV = "GROK_SEED_OFFSET"


def seed_offset() -> int:
    """The replication offset of this process: $GROK_SEED_OFFSET (0 when unset), set by
    `grok run/book --seed-offset K`."""
    raw = os.environ.get(SEED_OFFSET_ENV, "").strip() or "0"
    try:
        k = int(raw)
    except ValueError:
        raise ConfigError(f"{SEED_OFFSET_ENV} must be a non-negative integer, got {raw!r}") from None
    if k < 0:
        raise ConfigError(f"{SEED_OFFSET_ENV} must be a non-negative integer, got {k}")
    return k


def with_seed_offset(cfg, k: int):
    """`cfg` (any config with `seeds`, and `split_seed` where it has one) with every seed moved by
    `k`: initialisation seeds, the per-member noise and batch streams keyed by them, and the shared
    split seed. Refuses an offset whose seeds would overlap the config's own, so a replication
    never reuses a member of the default build."""
    if not k:
        return cfg
    seeds = tuple(s + k for s in cfg.seeds)
    if set(seeds) & set(cfg.seeds):
        raise ConfigError(f"seed offset {k} overlaps the seeds {list(cfg.seeds)}; use an offset "
                          f"of at least {max(cfg.seeds) - min(cfg.seeds) + 1}")
    changes = {"seeds": seeds}
    if getattr(cfg, "split", None) == "shared" and hasattr(cfg, "split_seed"):
        changes["split_seed"] = cfg.split_seed + k
    return dataclasses.replace(cfg, **changes)
