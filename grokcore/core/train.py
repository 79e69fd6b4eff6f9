"""The batched-ensemble training loop: one forward/backward step trains every member.

Members are independent: the summed loss has per-member gradients, each member has its own
lr, weight decay, penalties, clipping and init, and a member whose loss turns non-finite is
frozen without touching the others. The step loop never waits on the device; metrics are
computed and copied to the host on the evaluation schedule only.
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

from .config import MEMBER_FIELDS, RunConfig, validate
from .env import VERSION, lock_hash
from .metrics import eval_steps, feature_rank, grok_times, param_norms, penalty
from .models import build_model
from . import retire
from .optim import EnsembleOptimizer, clip_grad_norms, per_member
from .tasks import make_data

CURVES = ("train_loss", "train_acc", "test_loss", "test_acc", "l2_norm", "rms", "l1_norm", "nuclear_norm")


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available; valid: auto, cpu")
    return dev


def per_member_loss(logits: torch.Tensor, y: torch.Tensor, kind: str, dtype) -> torch.Tensor:
    """logits (E, N, C), y (N,) or (E, N) -> mean loss per member (E,), computed in `dtype`."""
    logits = logits.to(dtype)
    E, N, C = logits.shape
    y = y.expand(E, N)
    if kind == "ce":
        return F.cross_entropy(logits.reshape(E * N, C), y.reshape(-1), reduction="none").view(E, N).mean(1)
    target = F.one_hot(y, C).to(dtype)
    return (logits - target).pow(2).mean((1, 2))  # nn.MSELoss's mean over N x C, per member


# Salts added to a member's seed for its own random streams, so the streams of one member differ
# from each other and from its initialisation (seeded by the seed itself). Fixed: results depend on them.
BATCH_SALT = 1_000_003         # minibatch permutations (Batcher)
UPDATE_NOISE_SALT = 2_000_003  # Gaussian noise added to every gradient (cfg.update_noise)
WEIGHT_NOISE_SALT = 3_000_017  # Gaussian noise added to every weight after an update (cfg.weight_noise)
EVAL_BUDGET = 2 ** 24          # evaluation chunk: about this many activations (E x chunk x width) at a time
MIN_EVAL_CHUNK = 256


class MemberNoise:
    """Gaussian noise for the optimizer variants (update and weight noise), drawn per member from
    the member's own generator (seeded by its seed and `salt`), so a seed's run does not depend
    on the rest of the ensemble, as with minibatches."""

    def __init__(self, members, salt: int, device):
        self.gens = [torch.Generator(device=device).manual_seed(salt + int(m["seed"])) for m in members]
        self.device = device

    def like(self, p: torch.Tensor) -> torch.Tensor:
        """(E, ...) standard normal noise shaped like `p`; member i's from generator i."""
        return torch.stack([torch.randn(p.shape[1:], generator=g, device=self.device, dtype=p.dtype)
                            for g in self.gens])

    def keep(self, keep: list[int]):
        self.gens = [self.gens[i] for i in keep]


class Batcher:
    """Per-member minibatches: each member draws its own epoch permutations from a generator
    seeded by its seed, so its batch sequence does not depend on the rest of the ensemble.
    Data-loader semantics (PyTorch's DataLoader with shuffle=True, drop_last=False): an epoch is
    ceil(N / B) batches and the last one holds the N mod B examples left, so every training
    example is seen once per epoch."""

    def __init__(self, data, members, batch_size, device):
        self.data, self.B, self.device = data, batch_size, device
        self.N = data.train_size()
        self.full = batch_size <= 0 or batch_size >= self.N
        if not self.full:
            self.gens = [torch.Generator().manual_seed(BATCH_SALT + int(m["seed"])) for m in members]
            self.per_epoch = -(-self.N // batch_size)
            self.rows = torch.arange(len(members), device=device)[:, None]

    def __call__(self, step: int):
        d = self.data
        if self.full:
            return d.x_train, d.y_train
        k = (step - 1) % self.per_epoch
        if k == 0:
            self.perm = torch.stack([torch.randperm(self.N, generator=g) for g in self.gens]).to(self.device)
        idx = self.perm[:, k * self.B:min((k + 1) * self.B, self.N)]  # (E, B), shorter at an epoch's end
        if d.per_member:
            return d.x_train[self.rows, idx], d.y_train[self.rows, idx]
        return d.x_train[idx], d.y_train[idx]

    def keep(self, keep: list[int]):
        """Keep the streams of the members at positions `keep` (the rest retired)."""
        if not self.full:
            self.gens = [self.gens[i] for i in keep]
            self.rows = self.rows[:len(keep)]
            if hasattr(self, "perm"):
                self.perm = self.perm[torch.as_tensor(keep, device=self.perm.device)]


@torch.no_grad()
def evaluate(model, data, cfg, chunk: int) -> dict[str, torch.Tensor]:
    """Loss and accuracy on the full train and test sets, per member (E,)."""
    out = {}
    ldt = getattr(torch, cfg.loss_dtype)
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        n = y.shape[-1]
        loss_sum, correct = 0.0, 0.0
        for s in range(0, n, chunk):
            xs = x[..., s:s + chunk, :]  # x always has a trailing token/feature dim
            ys = y[..., s:s + chunk]
            logits = model(xs)
            loss_sum = loss_sum + per_member_loss(logits, ys, cfg.loss, ldt) * ys.shape[-1]
            correct = correct + (logits.argmax(-1) == ys).to(torch.float64).sum(-1)
        out[f"{split}_loss"] = loss_sum / n
        out[f"{split}_acc"] = correct / n
    return out


def train(cfg: RunConfig, device: str = "auto", progress: bool = True) -> xr.Dataset:
    """Train every member of `cfg` and return its curves and grokking times as a Dataset."""
    validate(cfg)
    dev = resolve_device(device)
    torch.backends.cuda.matmul.allow_tf32 = False  # TF32 can change grokking times
    torch.backends.cudnn.allow_tf32 = False
    if dev.type == "cpu":
        # Members that weight decay drives towards zero fill the CPU's float units with subnormal
        # numbers (below ~1e-38), which run 10-30x slower (measured: 180 -> 6 steps/s after 1.5k
        # steps of SGD at lambda 5e-3); flushing them to zero changes nothing above that scale.
        torch.set_flush_denormal(True)
    t0 = time.perf_counter()
    data = make_data(cfg, dev)
    members = cfg.members()
    E = len(members)
    model = build_model(cfg, data, dev)
    params = list(model.parameters())
    pdt = params[0].dtype
    col = lambda k: torch.tensor([m[k] for m in members], dtype=pdt, device=dev)  # noqa: E731
    opt = EnsembleOptimizer(params, cfg.optimizer, col("lr"), col("wd"), cfg.betas, cfg.momentum, cfg.eps)
    coef = {k: col(k) for k in ("l1", "l2", "nuclear")}
    use = tuple(bool((coef[k] > 0).any()) for k in ("l1", "l2", "nuclear"))
    loss_dtype = getattr(torch, cfg.loss_dtype)
    batcher = Batcher(data, members, cfg.batch_size, dev)
    grad_noise = MemberNoise(members, UPDATE_NOISE_SALT, dev) if cfg.update_noise else None
    param_noise = MemberNoise(members, WEIGHT_NOISE_SALT, dev) if cfg.weight_noise else None
    schedule = eval_steps(cfg.steps, cfg.eval_every, cfg.eval_log_points)
    width = max(cfg.width, cfg.d_mlp if cfg.model == "transformer" else 0, 1)
    chunk = max(MIN_EVAL_CHUNK, int(EVAL_BUDGET // (E * width * (3 if cfg.model == "transformer" else 1))))
    alive = torch.ones(E, dtype=torch.bool, device=dev)  # over the members still in the ensemble
    active = np.arange(E)  # their positions in `members`; retired members leave both
    records, ranks, steps_done = [], [], []
    grokked_at = np.full(E, np.nan)
    diverged = np.zeros(E, dtype=bool)
    kept = {}  # save_params: name -> (E, ...) parameters, retired members' filled at retirement
    member_steps = 0

    def record(step):
        with torch.no_grad():
            m = evaluate(model, data, cfg, chunk)
            m.update(param_norms(model))
            if cfg.feature_rank:
                probe = data.x_test[..., :cfg.probe_size, :]
                r = torch.stack([feature_rank(f) for f in model.features(probe)], 1).cpu().numpy()
                ranks.append(retire.scatter(r, active, E))
        dead = ~alive
        row = {k: retire.scatter(torch.where(dead, torch.nan, v.to(torch.float64)).cpu().numpy(), active, E)
               for k, v in m.items()}
        records.append(row)
        steps_done.append(step)
        ok = (row["test_acc"] >= cfg.threshold) & (row["train_acc"] >= cfg.threshold)
        grokked_at[np.isnan(grokked_at) & ok] = step
        return row

    def settle(rows):
        """Record the diverged flags (and parameters) of the members at positions `rows`."""
        diverged[active[rows]] = ~alive.cpu().numpy()[rows]
        if cfg.save_params:
            for name, p in model.named_parameters():
                kept.setdefault(name, np.zeros((E,) + tuple(p.shape[1:]), np.float64 if cfg.dtype == "float64"
                                               else np.float32))[active[rows]] = p.detach()[rows].cpu().numpy()

    condition = retire.RETIRE[cfg.retire]
    bar = _progress(cfg, E, progress)
    record(0)
    next_eval = 1
    step = 0
    for step in range(1, cfg.steps + 1):
        member_steps += len(active)
        xb, yb = batcher(step)
        logits = model(xb)
        total = per_member_loss(logits, yb, cfg.loss, loss_dtype)
        if any(use):
            total = total + penalty(model, coef["l1"], coef["l2"], coef["nuclear"], use).to(total.dtype)
        alive &= torch.isfinite(total)
        for p in params:
            p.grad = None
        torch.where(alive, total, 0.0).sum().backward()
        if grad_noise is not None:
            for p in params:
                p.grad.add_(grad_noise.like(p.grad), alpha=cfg.update_noise)
        norms = clip_grad_norms(params, cfg.clip)
        alive &= torch.isfinite(norms)
        scale = min(1.0, step / cfg.warmup) if cfg.warmup else 1.0
        opt.step(alive, scale)
        if cfg.weight_noise:
            with torch.no_grad():
                for p in params:
                    p.add_(torch.where(per_member(alive, p), param_noise.like(p) * cfg.weight_noise, 0.0))
        if step == schedule[next_eval]:
            next_eval += 1
            row = record(step)
            bar.update(step - bar.n)
            done = ~np.isnan(grokked_at)
            test = row["test_acc"][np.isfinite(row["test_acc"])]
            bar.set_postfix(grokked=f"{int(done.sum())}/{E}", test=f"{np.median(test):.3f}" if test.size else "nan")
            live = np.zeros(E, dtype=bool)
            live[active[alive.cpu().numpy()]] = True
            if _should_stop(cfg, live, done, grokked_at, step):
                break
            if condition is not None:
                out = condition(cfg, step, grokked_at[active], alive.cpu().numpy())
                if out.any():
                    settle(np.flatnonzero(out))
                    left = np.flatnonzero(~out)
                    if not left.size:
                        active = active[left]
                        break
                    keep = torch.as_tensor(left, device=dev)
                    params = retire.keep_members(model, opt, keep)
                    retire.keep_data(data, keep)
                    batcher.keep(left.tolist())
                    for noise in (grad_noise, param_noise):
                        if noise is not None:
                            noise.keep(left.tolist())
                    coef = {k: v[keep] for k, v in coef.items()}
                    alive, active = alive[keep], active[left]
    bar.close()
    wall = time.perf_counter() - t0
    settle(np.arange(len(active)))
    ds = _to_dataset(cfg, members, records, ranks, steps_done, diverged, dev, wall, member_steps)
    for name, values in kept.items():
        dims = ("member",) + tuple(f"{name}_{i}" for i in range(values.ndim - 1))
        ds[f"param_{name}"] = (dims, values)
    return ds


def model_from_dataset(ds: xr.Dataset, device: str = "cpu"):
    """Rebuild the trained ensemble of a results Dataset saved with save_params=True."""
    cfg = RunConfig.from_json(ds.attrs["config"])
    if not cfg.save_params:
        raise ValueError("this results file has no parameters; rerun its config with save_params=True")
    dev = resolve_device(device)
    model = build_model(cfg, make_data(cfg, dev), dev)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.as_tensor(ds[f"param_{name}"].values))
    return model


def _should_stop(cfg, live, done, grokked_at, step) -> bool:
    """live, done, grokked_at: (E,) over all members; live = in the ensemble and finite."""
    if not live.any():
        return True
    if not cfg.early_stop:
        return False
    if not done[live].all():
        return False
    last = np.nanmax(grokked_at[live])
    return step >= last * (1 + cfg.stop_margin)


def _progress(cfg, E, enabled):
    """A text progress bar on stderr; off inside `grok run/book` (GROK_NO_PROGRESS), where papermill
    reports progress per cell and a bar would end up in the published page."""
    from tqdm import tqdm  # plain text bar: tqdm.auto needs ipywidgets in a notebook
    enabled = enabled and not os.environ.get("GROK_NO_PROGRESS")
    return tqdm(total=cfg.steps, desc=f"{cfg.model} {cfg.task} p={cfg.p} E={E}", unit="step",
                file=sys.stderr, disable=not enabled, mininterval=0.5, leave=False)


def _versions() -> dict:
    return {"grokcore": VERSION, "torch": torch.__version__, "numpy": np.__version__,
            "xarray": xr.__version__, "python": platform.python_version()}


def _to_dataset(cfg, members, records, ranks, steps, diverged, dev, wall, model_steps) -> xr.Dataset:
    dims = ("member", "step")
    data_vars = {k: (dims, np.stack([r[k] for r in records], axis=1)) for k in CURVES}
    data_vars["diverged"] = (("member",), diverged.astype(np.int8))
    if ranks:
        data_vars["feature_rank"] = (("member", "step", "layer"), np.stack(ranks, 1))
    coords = {"member": np.arange(len(members)), "step": np.array(steps)}
    for k in ("seed", "split_seed") + MEMBER_FIELDS:
        coords[k] = ("member", np.array([m[k] for m in members]))
    ds = xr.Dataset(data_vars, coords=coords)
    ds = ds.merge(grok_times(ds, cfg.threshold))
    ds.attrs.update({
        "config": cfg.canonical_json(), "config_hash": cfg.hash(), "dtype": cfg.dtype,
        "loss_dtype": cfg.loss_dtype, "device": str(dev), "versions": json.dumps(_versions()),
        "lock_hash": lock_hash(),
        "wall_time_s": wall, "model_steps": int(model_steps),
        "model_steps_per_s": model_steps / wall if wall > 0 else math.nan,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
    })
    return ds
