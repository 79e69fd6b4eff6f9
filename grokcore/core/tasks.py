"""Tasks: modular binary operations over Z_p, split into train and test tensors on the device.

A task is one entry of `TASKS` (name -> `Task`); a new operation is one more entry.
Image classification data for the deep-MLP chapters live in `grokcore.core.images` and are
reached through `IMAGE_TASKS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass(frozen=True)
class Task:
    label: Callable[[np.ndarray, np.ndarray, int], np.ndarray]  # (a, b, p) -> labels in 0..p-1
    nonzero_b: bool = False      # domain excludes b = 0
    nonzero_a: bool = False      # domain excludes a = 0
    needs_prime: bool = False    # labels only defined for prime p


def _inverse(b: np.ndarray, p: int) -> np.ndarray:
    # Fermat: b^(p-2) = b^-1 mod p for prime p and b != 0.
    return np.array([pow(int(x), p - 2, p) for x in b], dtype=np.int64)


TASKS: dict[str, Task] = {
    "add": Task(lambda a, b, p: (a + b) % p),
    "sub": Task(lambda a, b, p: (a - b) % p),
    "mul": Task(lambda a, b, p: (a * b) % p),
    "mul_nonzero": Task(lambda a, b, p: (a * b) % p, nonzero_a=True, nonzero_b=True),
    "div": Task(lambda a, b, p: (a * _inverse(b, p)) % p, nonzero_b=True, needs_prime=True),
    "sq_sum": Task(lambda a, b, p: (a * a + b * b) % p),
    "cube_ab": Task(lambda a, b, p: (a ** 3 + a * b) % p),
}

# Image data sets: name -> the function of grokcore.core.images returning (x_train, y_train,
# x_test, y_test) numpy arrays (imported only when an image task is used), or such a function.
IMAGE_TASKS: dict[str, str] = {
    "mnist": "load_mnist",
    "mnist1d": "load_mnist1d",
    "digits": "load_digits",
}


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, int(n ** 0.5) + 1))


def all_pairs(task: str, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Every valid (a, b) as an (n, 2) int64 array, and its labels (n,)."""
    t = TASKS[task]
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    a, b = a.ravel(), b.ravel()
    keep = np.ones_like(a, dtype=bool)
    if t.nonzero_a:
        keep &= a != 0
    if t.nonzero_b:
        keep &= b != 0
    a, b = a[keep].astype(np.int64), b[keep].astype(np.int64)
    return np.stack([a, b], axis=1), t.label(a, b, p).astype(np.int64)


def split_indices(n: int, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random split of range(n): round(frac * n) train indices, the rest test."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(frac * n))
    return perm[:n_train], perm[n_train:]


def diagonal_indices(x: np.ndarray, p: int, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A structured selection of the pairs x (N, 2): the training set is k = round(frac * p) whole
    diagonals {(a, a + d mod p)} of the operation table, offsets d drawn by `seed`. Every value of
    a and of b then appears exactly k times (and, for a + b, every sum too), where a random split
    of the same size leaves these counts uneven. Pairs missing from x (e.g. b = 0 for division)
    are skipped. Train indices are in random order."""
    rng = np.random.default_rng(seed)
    k = int(round(frac * p))
    offsets = rng.permutation(p)[:k]
    on = np.isin((x[:, 1] - x[:, 0]) % p, offsets)
    tr, te = np.flatnonzero(on), np.flatnonzero(~on)
    return rng.permutation(tr), te


def select_indices(cfg, x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into the pairs x by the config's `select` rule and split seed."""
    if cfg.select == "diagonal":
        return diagonal_indices(x, cfg.p, cfg.frac, seed)
    return split_indices(len(x), cfg.frac, seed)


@dataclass
class Data:
    """Train/test tensors. x is (N, 2) tokens or (N, F) floats when every member shares the
    split, and (E, N, ...) when each member has its own; y likewise (N,) or (E, N)."""
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    n_tokens: int                # vocabulary size for token inputs (0 for float inputs)
    per_member: bool = False

    def train_size(self) -> int:
        return self.y_train.shape[-1]


def make_data(cfg, device: torch.device | str = "cpu") -> Data:
    """The train/test tensors of a config, on `device`."""
    if cfg.task in IMAGE_TASKS:
        return _image_data(cfg, device)
    x, y = all_pairs(cfg.task, cfg.p)
    if cfg.split == "shared":
        tr, te = select_indices(cfg, x, cfg.split_seed)
        t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        return Data(t(x[tr]), t(y[tr]), t(x[te]), t(y[te]), cfg.p, cfg.p)
    parts = [select_indices(cfg, x, m["split_seed"]) for m in cfg.members()]
    stack = lambda idx, arr: torch.as_tensor(np.stack([arr[i] for i in idx]), device=device)  # noqa: E731
    trs, tes = [p[0] for p in parts], [p[1] for p in parts]
    return Data(stack(trs, x), stack(trs, y), stack(tes, x), stack(tes, y), cfg.p, cfg.p, per_member=True)


def _image_data(cfg, device) -> Data:
    from . import images
    loader = IMAGE_TASKS[cfg.task]
    loader = loader if callable(loader) else getattr(images, loader)
    x_tr, y_tr, x_te, y_te = loader(cfg)
    dt = getattr(torch, cfg.dtype)
    t = lambda a, d=None: torch.as_tensor(a, device=device, dtype=d)  # noqa: E731
    return Data(t(x_tr, dt), t(y_tr, torch.long), t(x_te, dt), t(y_te, torch.long), 10, 0)
