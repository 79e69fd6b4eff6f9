"""The baseline: one model at a time in a plain PyTorch loop, the way public grokking code
trains (nn.Module, torch.optim.AdamW or SGD, full batch or shuffled minibatches, evaluation
every k steps)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class PlainMLP(nn.Module):
    """Embed a and b, concatenate, hidden ReLU layers, linear head."""

    def __init__(self, p, embed, width, depth):
        super().__init__()
        self.emb = nn.Embedding(p, embed)
        dims = [2 * embed] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(dims[-1], p)

    def forward(self, x):  # x: (N, 2)
        h = self.emb(x).flatten(1)
        for layer in self.hidden:
            h = F.relu(layer(h))
        return self.head(h)


class PlainSumMLP(nn.Module):
    """P1's MLP: one embedding for both operands, summed, `depth` GELU layers, linear head."""

    def __init__(self, p, width, depth):
        super().__init__()
        self.emb = nn.Embedding(p, width)
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.head = nn.Linear(width, p)

    def forward(self, x):  # x: (N, 2)
        h = self.emb(x).sum(1)
        for layer in self.hidden:
            h = F.gelu(layer(h))
        return self.head(h)


class PlainDeepMLP(nn.Module):
    """P4's MLP on vectors: `depth` Linear layers with ReLU between, every parameter x init_scale."""

    def __init__(self, n_in, width, depth, n_out, init_scale):
        super().__init__()
        dims = [n_in] + [width] * (depth - 1) + [n_out]
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        with torch.no_grad():
            for q in self.parameters():
                q.mul_(init_scale)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class PlainTransformer(nn.Module):
    """One-layer decoder on [a, b, =], no LayerNorm, ReLU MLP, read out at the last position."""

    def __init__(self, p, d, heads, d_mlp):
        super().__init__()
        self.p, self.heads = p, heads
        self.emb = nn.Embedding(p + 1, d)
        self.pos = nn.Parameter(torch.randn(3, d) / math.sqrt(d))
        self.qkv, self.o = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp1, self.mlp2 = nn.Linear(d, d_mlp), nn.Linear(d_mlp, d)
        self.head = nn.Linear(d, p)
        mask = torch.ones(3, 3, dtype=torch.bool).triu(1)
        self.register_buffer("mask", mask)

    def forward(self, x):
        x = torch.cat([x, torch.full_like(x[:, :1], self.p)], 1)
        h = self.emb(x) + self.pos  # (N, 3, d)
        N, T, d = h.shape
        q, k, v = self.qkv(h).view(N, T, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (N, H, T, dh)
        att = (q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)).masked_fill(self.mask, float("-inf"))
        h = h + self.o((att.softmax(-1) @ v).transpose(1, 2).reshape(N, T, d))
        h = h + self.mlp2(F.relu(self.mlp1(h)))
        return self.head(h[:, -1])


def train_plain(make_model, data, steps, eval_every, lr, wd, betas, seed, device, optimizer="adamw",
                momentum=0.9, loss="ce", batch_size=0):
    """Train one model; returns its final test accuracy. data: (x_tr, y_tr, x_te, y_te) on device.
    batch_size > 0: shuffled minibatches, a new permutation each epoch (DataLoader, shuffle=True)."""
    torch.manual_seed(seed)
    model = make_model().to(device)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd, betas=betas)
    x_tr, y_tr, x_te, y_te = data
    N = len(y_tr)
    B = batch_size if 0 < batch_size < N else N
    gen = torch.Generator().manual_seed(seed)
    acc = 0.0
    for step in range(1, steps + 1):
        k = (step - 1) % -(-N // B)
        if B < N and k == 0:
            perm = torch.randperm(N, generator=gen).to(device)
        xb, yb = (x_tr, y_tr) if B == N else (x_tr[perm[k * B:(k + 1) * B]], y_tr[perm[k * B:(k + 1) * B]])
        out = model(xb)
        if loss == "mse":
            loss_v = F.mse_loss(out, F.one_hot(yb, out.shape[-1]).to(out.dtype))
        else:
            loss_v = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss_v.backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                acc = (model(x_te).argmax(-1) == y_te).float().mean().item()
                (model(x_tr).argmax(-1) == y_tr).float().mean().item()
    return acc
