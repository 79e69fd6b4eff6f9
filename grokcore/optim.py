"""Optimizers over stacked ensemble parameters, with per-member lr and weight decay.

Each parameter is (E, ...); lr and wd are (E,) tensors broadcast over the trailing dims,
so member i follows exactly the update PyTorch's single-model optimizer would give it:
AdamW (decoupled decay), Adam and SGD with momentum (decay coupled into the gradient, as
`torch.optim.SGD(weight_decay=...)`). A member marked dead (non-finite loss) gets a zero
update, so it is frozen and cannot disturb the others.
"""
from __future__ import annotations

import torch

OPTIMIZERS = ("adamw", "adam", "sgd")


def _view(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return v.view((-1,) + (1,) * (p.dim() - 1))  # (E,) -> (E, 1, ..., 1)


class EnsembleOptimizer:
    def __init__(self, params, kind, lr, wd, betas=(0.9, 0.999), momentum=0.9, eps=1e-8):
        if kind not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {kind!r}; valid: {', '.join(OPTIMIZERS)}")
        self.params = list(params)
        self.kind, self.lr, self.wd = kind, lr, wd  # lr, wd: (E,) tensors on the params' device
        self.b1, self.b2 = betas
        self.momentum, self.eps = momentum, eps
        self.t = 0
        if kind == "sgd":
            self.state = [torch.zeros_like(p) for p in self.params]
        else:
            self.state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]

    @torch.no_grad()
    def step(self, alive: torch.Tensor, lr_scale: float = 1.0):
        """One update. alive: (E,) bool. Dead members get lr 0 (a zero update) and their
        non-finite gradients are zeroed in place, so their optimizer state stays finite."""
        self.t += 1
        lr = self.lr * (alive * lr_scale)
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            g = g.nan_to_num_(0.0, 0.0, 0.0)
            lr_v, wd_v = _view(lr, p), _view(self.wd, p)
            if self.kind == "adamw":
                p.mul_(1 - lr_v * wd_v)
                self._adam(i, p, g, lr_v)
            elif self.kind == "adam":
                self._adam(i, p, g + wd_v * p, lr_v)
            else:
                g = g + wd_v * p
                buf = self.state[i]
                if self.t == 1:  # PyTorch starts the momentum buffer at the first gradient
                    buf.copy_(g)
                else:
                    buf.mul_(self.momentum).add_(g)
                p.sub_(lr_v * buf)

    def _adam(self, i, p, g, lr_v):
        m, v = self.state[i]
        m.lerp_(g, 1 - self.b1)
        v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
        bc1 = 1 - self.b1 ** self.t
        bc2 = 1 - self.b2 ** self.t
        denom = (v.sqrt() / bc2 ** 0.5).add_(self.eps)
        p.sub_((lr_v / bc1) * m / denom)


def clip_grad_norms(params, max_norm: float) -> torch.Tensor:
    """Per-member gradient-norm clipping (torch.nn.utils.clip_grad_norm_ for each member).
    Returns the per-member norms before clipping, (E,)."""
    grads = [p.grad for p in params if p.grad is not None]
    sq = sum(g.pow(2).flatten(1).sum(1) for g in grads)
    norms = sq.sqrt()
    if max_norm > 0:
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(_view(coef, g))
    return norms
