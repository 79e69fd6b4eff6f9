"""Optimizers over stacked ensemble parameters, with per-member lr and weight decay.

Each parameter is (E, ...); lr and wd are (E,) tensors broadcast over the trailing dims,
so member i follows exactly the update PyTorch's single-model optimizer would give it:
AdamW (decoupled decay), Adam and SGD with momentum (decay coupled into the gradient, as
`torch.optim.SGD(weight_decay=...)`). A member marked dead (non-finite loss) gets a zero
update, so it is frozen and cannot disturb the others.
"""
from __future__ import annotations

import torch

def per_member(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """A per-member value (E,) shaped to broadcast against a stacked parameter p: (E, 1, ..., 1)."""
    return v.view((-1,) + (1,) * (p.dim() - 1))


def _adam_step(opt, state, p, g, lr_v):
    m, v = state
    m.lerp_(g, 1 - opt.b1)
    v.mul_(opt.b2).addcmul_(g, g, value=1 - opt.b2)
    bc1 = 1 - opt.b1 ** opt.t
    bc2 = 1 - opt.b2 ** opt.t
    denom = (v.sqrt() / bc2 ** 0.5).add_(opt.eps)
    p.sub_((lr_v / bc1) * m / denom)


def adamw(opt, state, p, g, lr_v, wd_v):
    """torch.optim.AdamW: decay decoupled from the gradient."""
    p.mul_(1 - lr_v * wd_v)
    _adam_step(opt, state, p, g, lr_v)


def adam(opt, state, p, g, lr_v, wd_v):
    """torch.optim.Adam: decay added to the gradient."""
    _adam_step(opt, state, p, g + wd_v * p, lr_v)


def sgd(opt, state, p, g, lr_v, wd_v):
    """torch.optim.SGD with momentum and coupled weight decay."""
    (buf,) = state
    g = g + wd_v * p
    if opt.t == 1:  # PyTorch starts the momentum buffer at the first gradient
        buf.copy_(g)
    else:
        buf.mul_(opt.momentum).add_(g)
    p.sub_(lr_v * buf)


# name -> (update rule, number of state buffers per parameter)
OPTIMIZERS = {"adamw": (adamw, 2), "adam": (adam, 2), "sgd": (sgd, 1)}


class EnsembleOptimizer:
    def __init__(self, params, kind, lr, wd, betas=(0.9, 0.999), momentum=0.9, eps=1e-8):
        if kind not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {kind!r}; valid: {', '.join(OPTIMIZERS)}")
        self.params = list(params)
        self.kind, self.lr, self.wd = kind, lr, wd  # lr, wd: (E,) tensors on the params' device
        self.update, n_state = OPTIMIZERS[kind]
        self.b1, self.b2 = betas
        self.momentum, self.eps = momentum, eps
        self.t = 0
        self.state = [tuple(torch.zeros_like(p) for _ in range(n_state)) for p in self.params]

    @torch.no_grad()
    def step(self, alive: torch.Tensor, lr_scale: float = 1.0):
        """One update. alive: (E,) bool; live members' gradients must be finite. Dead members get
        lr 0 (a zero update) and their non-finite gradients are zeroed in place, so their
        optimizer state stays finite."""
        self.t += 1
        lr = self.lr * (alive * lr_scale)
        # live members' gradients are finite (the trainer checks their norms): with every member
        # live the pass that zeroes non-finite values changes nothing (checked on the CPU only,
        # where reading `alive` does not wait on a device)
        clean = alive.device.type == "cpu" and bool(alive.all())
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad if clean else p.grad.nan_to_num_(0.0, 0.0, 0.0)
            self.update(self, state, p, g, per_member(lr, p), per_member(self.wd, p))


def clip_grad_norms(params, max_norm: float) -> torch.Tensor:
    """Per-member gradient-norm clipping (torch.nn.utils.clip_grad_norm_ for each member).
    Returns the per-member norms before clipping, (E,)."""
    grads = [p.grad for p in params if p.grad is not None]
    sq = sum(g.pow(2).flatten(1).sum(1) for g in grads)
    norms = sq.sqrt()
    if max_norm > 0:
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(per_member(coef, g))
    return norms
