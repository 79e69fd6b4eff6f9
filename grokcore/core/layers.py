"""Ensemble building blocks: every parameter is stacked as (E, ...), one slice per member.

`EnsembleModule.param` declares a parameter and how one member's copy is drawn;
`materialize` draws each member from its own seeded generator (in declaration order),
so member i of an ensemble is bit-identical at init to a single model with seed i.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "silu": F.silu,
    "quadratic": lambda x: x * x,
}


class EnsembleModule(nn.Module):
    def __init__(self):
        super().__init__()
        self._specs: list[tuple[str, tuple, str, float]] = []
        self.matrix_names: list[str] = []  # parameters that count as weight matrices (penalties, nuclear norm)

    def param(self, name, shape, init="uniform", scale=1.0, matrix=None):
        """Declare a parameter of per-member `shape`. init: 'uniform' U(-scale, scale),
        'normal' N(0, scale^2), 'zeros', 'ones'. 2-D parameters are weight matrices unless
        `matrix=False`."""
        self._specs.append((name, tuple(shape), init, float(scale)))
        if matrix if matrix is not None else len(shape) == 2:
            self.matrix_names.append(name)

    def reinit(self, rule):
        """Change how declared parameters are drawn: rule(name) -> (init, scale), or None to keep."""
        self._specs = [(n, shape, *(rule(n) or (init, scale))) for n, shape, init, scale in self._specs]

    def linear(self, name, fan_in, fan_out, bias=True):
        """PyTorch's nn.Linear default init: U(+-1/sqrt(fan_in)) for weight and bias."""
        bound = 1.0 / math.sqrt(fan_in)
        self.param(f"W_{name}", (fan_in, fan_out), "uniform", bound)
        if bias:
            self.param(f"b_{name}", (fan_out,), "uniform", bound)

    def layernorm(self, name, dim):
        self.param(f"g_{name}", (dim,), "ones", matrix=False)
        self.param(f"beta_{name}", (dim,), "zeros", matrix=False)

    def materialize(self, members: list[dict], dtype=torch.float32, device="cpu"):
        per_member = []
        for m in members:
            gen = torch.Generator().manual_seed(int(m["seed"]))
            tensors = {}
            for name, shape, init, scale in self._specs:
                if init == "uniform":
                    t = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale
                elif init == "normal":
                    t = torch.randn(shape, generator=gen, dtype=torch.float64) * scale
                elif init == "zeros":
                    t = torch.zeros(shape, dtype=torch.float64)
                else:
                    t = torch.ones(shape, dtype=torch.float64)
                tensors[name] = t * m.get("init_scale", 1.0)
            per_member.append(tensors)
        for name, *_ in self._specs:
            stacked = torch.stack([t[name] for t in per_member]).to(dtype=dtype, device=device)
            self.register_parameter(name, nn.Parameter(stacked))
        self.n_members = len(members)
        return self

    def matrices(self) -> list[torch.Tensor]:
        return [getattr(self, n) for n in self.matrix_names]


def elinear(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member affine map. x: (N, in) shared by all members, or (E, ..., in);
    W: (E, in, out); b: (E, out). Returns (E, ..., out)."""
    if x.dim() == 2:  # shared input: one matmul broadcast over members
        out = torch.matmul(x, W)  # (E, N, out)
        return out if b is None else out + b[:, None, :]
    shape = x.shape
    x2 = x.reshape(shape[0], -1, shape[-1])  # (E, M, in)
    out = torch.bmm(x2, W) if b is None else torch.baddbmm(b[:, None, :], x2, W)
    return out.reshape(*shape[:-1], W.shape[-1])


def elayernorm(x: torch.Tensor, g: torch.Tensor, beta: torch.Tensor, eps=1e-5) -> torch.Tensor:
    """LayerNorm over the last dim with per-member affine g, beta: (E, d); x: (E, ..., d)."""
    view = (g.shape[0],) + (1,) * (x.dim() - 2) + (g.shape[1],)
    return F.layer_norm(x, x.shape[-1:], eps=eps) * g.view(view) + beta.view(view)


def one_hot(tokens: torch.Tensor, n: int, dtype) -> torch.Tensor:
    """(..., ) int tokens -> (..., n) one-hot in `dtype`. A matmul with it equals an
    embedding gather exactly (one non-zero term per row), and its backward is a matmul
    rather than a scatter, which is faster on CPU."""
    return F.one_hot(tokens, n).to(dtype)


def eembed(tokens: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Per-member embedding lookup. tokens: (N, T) shared or (E, N, T); W: (E, V, d).
    Returns (E, N, T, d)."""
    E, V, d = W.shape
    N, T = tokens.shape[-2:]
    if tokens.dim() == 2:  # one index list for every member
        return torch.index_select(W, 1, tokens.reshape(-1)).view(E, N, T, d)
    # one flat row index into (E*V, d): index_select (backward: index_add) is several times
    # faster on CPU than gather/scatter_add with an index expanded over d
    rows = (tokens.reshape(E, N * T) + V * torch.arange(E, device=tokens.device)[:, None]).reshape(-1)
    return torch.index_select(W.reshape(E * V, d), 0, rows).view(E, N, T, d)


class _PairSum(torch.autograd.Function):
    """T_a[a] + T_b[b] for every example and member in one fused gather (embedding_bag), with a
    backward of two index_adds into the stacked tables: about 1.6x faster on CPU than two
    index_selects and an add under autograd (their backward also materialises the sum's grads).
    With tokens shared by all members (`shared`: (N, 2) rows into one member's 2V table rows) the
    backward adds along the token dim of (E, 2V, d) for all members at once: the same sums in the
    same order as the flat (E*2V, d) index_add, which PyTorch runs as a parallel scatter on CPU,
    2-10x slower (measured at 1 and 2 threads, issue 36)."""

    @staticmethod
    def forward(ctx, Ta, Tb, rows, shared):
        E, V, d = Ta.shape
        ctx.save_for_backward(rows, shared)
        ctx.shape = (E, V, d)
        table = torch.cat([Ta, Tb], 1).reshape(E * 2 * V, d)
        return F.embedding_bag(rows, table, mode="sum").view(E, -1, d)

    @staticmethod
    def backward(ctx, grad):
        rows, shared = ctx.saved_tensors
        E, V, d = ctx.shape
        if shared.numel():
            gt = torch.zeros(E, 2 * V, d, dtype=grad.dtype, device=grad.device)
            gt.index_add_(1, shared[:, 0], grad).index_add_(1, shared[:, 1], grad)
        else:
            g = grad.reshape(-1, d)
            gt = torch.zeros(E * 2 * V, d, dtype=grad.dtype, device=grad.device)
            gt.index_add_(0, rows[:, 0], g).index_add_(0, rows[:, 1], g)
            gt = gt.view(E, 2 * V, d)
        return gt[:, :V], gt[:, V:], None, None


def pair_sum(tokens: torch.Tensor, Ta: torch.Tensor, Tb: torch.Tensor) -> torch.Tensor:
    """Ta[a] + Tb[b] per member. tokens: (N, 2) shared or (E, N, 2) per member; Ta, Tb:
    (E, V, d). Returns (E, N, d); equals eembed(tokens[..., :1], Ta) + eembed(tokens[..., 1:], Tb)."""
    E, V, d = Ta.shape
    # row of (member e, operand j, token t) in the stacked tables: 2V*e + V*j + t; built with arange
    # on the device, as a copy of a host list would be a blocking transfer every step on CUDA
    dev = tokens.device
    within = tokens + V * torch.arange(2, device=dev)  # operand j's token t: row V*j + t of a member
    rows = within.expand(E, *tokens.shape[-2:]) + 2 * V * torch.arange(E, device=dev).view(E, 1, 1)
    shared = within.contiguous() if tokens.dim() == 2 else tokens.new_empty(0)
    return _PairSum.apply(Ta, Tb, rows.reshape(-1, 2), shared)


def eembed_onehot(tokens: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """`eembed` as a one-hot matmul: the reference the lookup is tested against."""
    E, V, d = W.shape
    N, T = tokens.shape[-2:]
    flat = one_hot(tokens, V, W.dtype).reshape(-1, N * T, V)
    out = torch.matmul(flat[0], W) if tokens.dim() == 2 else torch.bmm(flat, W)
    return out.view(E, N, T, d)
