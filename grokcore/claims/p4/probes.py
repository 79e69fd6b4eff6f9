"""Diagnostics for the deep-MLP chapters (P4): linear probes per layer, tunnel length, and the
detection of multi-stage generalisation and of onsets in curves.

Linear probe: for each layer, a fresh linear head (weights and bias) fitted on the train-set
features by ridge-regularised least squares onto one-hot labels (closed form, so it is
deterministic and needs no learning rate), scored by accuracy on the test-set features. The
fit is batched over ensemble members: one (E, d+1, d+1) solve per layer.

Two-stage rule (P4-multistage), on a linear step axis as the authors read their curves: after
memorisation (steps >= t_train) take the running maximum c of test accuracy. A step s is on a
plateau when c gains less than `flat` between s and s + w, where the plateau length w is
PLATEAU_SHARE of the budget (the run's last step) in steps (5,000 of the paper's 1e5). The
non-plateau runs between plateaus are the surges; a surge counts when c gains at least `jump`
over it (a window shorter than the record's spacing reaches the next record). Near the end of the record the look-ahead window is cut at the last step, so a surge
that starts in the final w steps is still found (its top is the last record) and the plateau
before it still has to last w. Two-stage = at least two counted surges: two jumps of >= 10
points separated by a plateau of at least w steps. PLATEAU_ALT is the sensitivity variant shown
beside every verdict that counts surges (a plateau twice as long).
"""
from __future__ import annotations

import math

import numpy as np
import torch

RANK_FRACTION = 0.75  # the paper's tunnel threshold 300 of width 400 (MNIST, 784 inputs)
PROBE_CHUNK = 2048    # examples per batch of features in a probe's fit and scoring
PLATEAU_SHARE = 0.05  # the shortest plateau between two surges, as a share of the budget (linear steps)
PLATEAU_ALT = 0.10    # the sensitivity variant of PLATEAU_SHARE shown beside the verdicts
STAGES = ("no late rise", "one surge", "two or more surges")  # by counted surges after memorisation: 0, 1, 2+


# ---------------------------------------------------------------------------- linear probes
@torch.no_grad()
def probe_accuracy(features, x_train, y_train, x_test, y_test, n_classes: int,
                   ridge: float = 1e-3, chunk: int = PROBE_CHUNK) -> np.ndarray:
    """Test accuracy (E, L) of a linear probe on each of the L layers returned by
    `features(x) -> [(E, n, d_l), ...]`. x: (N, F) tensors shared by all members."""
    grams, cross = None, None
    for s in range(0, len(y_train), chunk):
        fs = [_aug(f) for f in features(x_train[s:s + chunk])]  # each (E, n, d+1), float64
        Y = torch.nn.functional.one_hot(y_train[s:s + chunk], n_classes).double()  # (n, C)
        g = [f.transpose(1, 2) @ f for f in fs]  # (E, d+1, d+1)
        c = [f.transpose(1, 2) @ Y for f in fs]  # (E, d+1, C)
        grams = g if grams is None else [a + b for a, b in zip(grams, g)]
        cross = c if cross is None else [a + b for a, b in zip(cross, c)]
    heads = [_solve(G, B, ridge) for G, B in zip(grams, cross)]  # (E, d+1, C)
    correct = torch.zeros(heads[0].shape[0], len(heads), dtype=torch.float64)
    for s in range(0, len(y_test), chunk):
        for j, f in enumerate(features(x_test[s:s + chunk])):
            pred = (_aug(f) @ heads[j]).argmax(-1)  # (E, n)
            correct[:, j] += (pred == y_test[s:s + chunk]).double().sum(-1).cpu()
    return (correct / len(y_test)).numpy()


def _aug(f):
    """Features (E, n, d) with a column of ones appended (the probe's bias), in float64."""
    f = f.double()
    return torch.cat([f, torch.ones_like(f[..., :1])], -1)


def _solve(G, B, ridge):
    """Ridge solution of (G + lam*D) W = B per member; D penalises the weights, not the bias;
    lam = ridge * mean diagonal of the weight block, so the penalty is scale free."""
    d = G.shape[-1] - 1
    scale = torch.diagonal(G[:, :d, :d], dim1=1, dim2=2).mean(-1).clamp_min(1e-300)  # (E,)
    D = torch.diag(torch.cat([torch.ones(d, dtype=G.dtype), torch.zeros(1, dtype=G.dtype)])).to(G.device)
    A = G + ridge * scale[:, None, None] * D
    return torch.linalg.lstsq(A, B).solution  # lstsq: robust when features are rank deficient


def probe_accuracy_of(model, data, **kw) -> np.ndarray:
    """probe_accuracy for a trained ensemble `model` on `data` (a grokcore.core.tasks.Data)."""
    return probe_accuracy(model.features, data.x_train, data.y_train, data.x_test, data.y_test,
                          data.n_classes, **kw)


# ---------------------------------------------------------------------------- tunnel
def rank_threshold(width: int, n_features: int, fraction: float = RANK_FRACTION, depth: int | None = None):
    """Rank below which a layer counts as a tunnel layer: `fraction` of the most rank the layer's
    features can have. The first Linear layer maps an `n_features`-dim input, so its outputs have
    rank at most min(width, n_features); every later layer reads `width` ReLU features, so at most
    `width`. With `depth`, one threshold per Linear layer (depth,); without, the first layer's.
    MNIST at width 400 gives 300 at every layer, as in the paper; the 64-pixel digits at width
    128 give 48 for the first layer and 96 after it."""
    first = fraction * min(width, n_features)
    if depth is None:
        return first
    return np.array([first] + [fraction * width] * (depth - 1), dtype=float)


TUNNEL_CONVENTIONS = ("hidden", "all")  # hidden layers only; every Linear layer, the output layer included


def tunnel_length(ranks, threshold, convention: str = "hidden") -> np.ndarray:
    """Number of layers with rank < threshold. ranks (..., L) over all Linear layers; threshold:
    one number, or one per layer (L,). `convention` 'hidden' counts the hidden layers only (the
    output layer, rank <= classes, excluded); 'all' counts every Linear layer, as the authors'
    code logs them (the output layer, always below a threshold above the class count, included)."""
    if convention not in TUNNEL_CONVENTIONS:
        raise ValueError(f"unknown tunnel convention {convention!r}; valid: {', '.join(TUNNEL_CONVENTIONS)}")
    r = np.asarray(ranks, dtype=float)
    t = np.asarray(threshold, dtype=float)
    if convention == "hidden":
        r, t = r[..., :-1], (t[:-1] if t.ndim else t)
    return (r < t).sum(-1)


def rank_eval_cost(ds, cfg) -> tuple[float, float, int]:
    """(seconds, share, examples): the wall time of one feature-rank evaluation of the trained ensemble
    `ds` (saved parameters) on the probe examples of its config `cfg`, every layer and member at
    once, and that time times the run's evaluations over the run's wall time (the share of the
    run spent logging the rank; timings on a shared CPU are inflated by contention), and the number
    of probe examples."""
    import time
    from ...core.metrics import feature_rank
    from ...core.tasks import make_data
    from ...core.train import model_from_dataset
    model, x = model_from_dataset(ds), make_data(cfg).x_test[:cfg.probe_size]
    t0 = time.perf_counter()
    with torch.no_grad():
        [feature_rank(f) for f in model.features(x)]
    seconds = time.perf_counter() - t0
    return seconds, seconds * ds.sizes["step"] / max(ds.attrs["wall_time_s"], 1e-9), len(x)


# ---------------------------------------------------------------------------- stages
def surges(steps, acc, start_step: float = 0.0, jump: float = 0.10, flat: float = 0.02,
           plateau: float | None = None, budget: float | None = None,
           share: float = PLATEAU_SHARE) -> list[tuple[float, float, float]]:
    """The surges of test accuracy after `start_step` (see the module's rule):
    [(first step, last step, gain), ...] for every surge gaining >= jump. `plateau`: the
    plateau length in steps; by default `share` of `budget` (default: the record's last step)."""
    steps, acc = np.asarray(steps, float), np.asarray(acc, float)
    if plateau is None:
        plateau = share * float(budget if budget is not None else (steps[-1] if len(steps) else 0.0))
    keep = (steps >= start_step) & np.isfinite(acc)
    steps, acc = steps[keep], acc[keep]
    if len(acc) < 2:
        return []
    c = np.maximum.accumulate(acc)
    ahead = np.maximum(np.searchsorted(steps, steps + plateau, side="right") - 1,  # at least the next record
                       np.arange(1, len(c) + 1)).clip(max=len(c) - 1)
    on_plateau = (c[ahead] - c) < flat
    out, k = [], 0
    while k < len(c):
        if on_plateau[k]:
            k += 1
            continue
        k0 = k
        while k < len(c) and not on_plateau[k]:
            k += 1
        end = min(k, len(c) - 1)  # first plateau point after the run (or the last record): the top of the surge
        gain = c[end] - c[k0]
        if gain >= jump:
            out.append((steps[k0], steps[end], float(gain)))
    return out


def n_surges(steps, acc, t_train: float, **kw) -> float:
    """Counted surges after memorisation; NaN when the member never memorised."""
    if not np.isfinite(t_train):
        return np.nan
    return float(len(surges(steps, acc, start_step=t_train, **kw)))


def onset(steps, y, rising: bool = True, frac: float = 0.5, min_change: float = 0.0) -> float:
    """First step at which a curve has covered `frac` of its rise (from its first value to its
    maximum) or of its fall (from its maximum to the minimum after it). NaN when the change is
    smaller than `min_change`."""
    steps, y = np.asarray(steps, float), np.asarray(y, float)
    ok = np.isfinite(y)
    steps, y = steps[ok], y[ok]
    if len(y) < 2:
        return np.nan
    if rising:
        lo, hi = y[0], y.max()
        hit = y >= lo + frac * (hi - lo)
    else:
        top = int(y.argmax())
        hi, lo = y[top], y[top:].min()
        hit = (y <= hi - frac * (hi - lo)) & (np.arange(len(y)) >= top)
    if hi - lo < max(min_change, 1e-12):
        return np.nan
    return float(steps[hit.argmax()])


def stage_class(n_surges) -> str:
    """A member's stage by its counted surges after memorisation (one of STAGES), or 'no
    memorisation' (n_surges NaN)."""
    n = float(n_surges)
    return "no memorisation" if not math.isfinite(n) else STAGES[min(int(n), 2)]
