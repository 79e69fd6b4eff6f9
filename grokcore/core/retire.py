"""Retiring finished members from a batched ensemble.

A config opts in with `retire`, the name of a condition in `RETIRE`. At each evaluation step
the trainer asks the condition which of the members still in the ensemble are finished; those
are removed: their parameter, optimizer-state, data, batch-stream and noise-generator slices
are dropped, so later steps compute only the members left. A retired member's curves end at
its retirement step (NaN after, not filled) and its parameters are kept as they were then.

Every member's trajectory is unchanged by the others' retirement: members share no state
(their minibatch permutations and noise come from their own generators), and the evaluation
chunking is fixed at the full ensemble's size.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def diverged(cfg, step, grokked_at, alive) -> np.ndarray:
    """Members whose loss or gradient norm turned non-finite (frozen since)."""
    return ~alive


def grokked(cfg, step, grokked_at, alive) -> np.ndarray:
    """Diverged members, and members that grokked (train and test accuracy >= threshold) and
    then ran the window the early exit gives: `stop_margin` x T_grok steps after T_grok."""
    done = ~np.isnan(grokked_at) & (step >= grokked_at * (1 + cfg.stop_margin))
    return done | ~alive


# name -> condition(cfg, step, grokked_at (n,), alive (n,) bool) -> (n,) bool, over the members
# still in the ensemble; '' keeps every member to the end (no retirement)
RETIRE = {"": None, "diverged": diverged, "grokked": grokked}


def keep_members(model, opt, keep: torch.Tensor):
    """Keep only the members at positions `keep` (an index tensor) of the model's parameters
    and the optimizer's state and per-member lr and weight decay. Returns the new parameters."""
    for name, p in list(model.named_parameters()):
        model.register_parameter(name, nn.Parameter(p.detach()[keep]))
    model.n_members = len(keep)
    params = list(model.parameters())
    opt.params = params
    opt.state = [tuple(s[keep] for s in state) for state in opt.state]
    opt.lr, opt.wd = opt.lr[keep], opt.wd[keep]
    return params


def keep_data(data, keep: torch.Tensor):
    """Per-member data (each member with its own split) keeps the rows of the members left."""
    if data.per_member:
        for k in ("x_train", "y_train", "x_test", "y_test"):
            setattr(data, k, getattr(data, k)[keep])


def scatter(values: np.ndarray, active: np.ndarray, n: int) -> np.ndarray:
    """Rows of the members in `active` (their original positions) placed in an (n, ...) array,
    NaN for the retired; `values` itself while no member has retired."""
    if len(active) == n:
        return values
    out = np.full((n,) + values.shape[1:], np.nan)
    out[active] = values
    return out
