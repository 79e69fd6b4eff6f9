"""Models trained as ensembles: MLP, Transformer, LSTM, P2's MLP and deep MLPs on vectors.

Every forward takes x of shape (N, ...) (one split shared by all members) or (E, N, ...)
and returns logits (E, N, C). `features(x)` returns the per-layer pre-activations
[(E, N, d), ...] used for feature rank and probes.
"""
from __future__ import annotations

import math

import torch

from .layers import ACTIVATIONS, EnsembleModule, eembed, eembed_onehot, elayernorm, elinear, one_hot, pair_sum


class MLP(EnsembleModule):
    """Token MLP (P1, P3). Inputs: summed or concatenated embeddings, or raw one-hots.
    Plain: depth x [Linear, act], then a linear head. Residual: an input projection when
    the input width differs, then depth pre-LN blocks h <- h + s*FC2(act(FC1(LN(h))))."""

    def __init__(self, cfg, n_tokens, n_classes):
        super().__init__()
        self.cfg, self.p = cfg, n_tokens
        if cfg.combine != "onehot":
            self.param("W_emb", (n_tokens, cfg.embed), "normal", 1.0)  # nn.Embedding default N(0, 1)
        d_in = {"sum": cfg.embed, "concat": 2 * cfg.embed, "onehot": 2 * n_tokens}[cfg.combine]
        w = cfg.width
        if cfg.residual:
            if d_in != w:
                self.linear("in", d_in, w)
            for i in range(cfg.depth):
                self.layernorm(f"ln{i}", w)
                self.linear(f"fc1_{i}", w, w)
                self.linear(f"fc2_{i}", w, w)
        else:
            for i in range(cfg.depth):
                self.linear(f"h{i}", d_in if i == 0 else w, w)
        self.linear("head", w if cfg.depth or cfg.residual else d_in, n_classes)

    def _input(self, x, emb=eembed):
        """The network input h0: (E, N, d_in)."""
        if self.cfg.combine == "onehot":  # (..., N, 2p); the first layer acts per operand
            oh = one_hot(x, self.p, self.W_head.dtype).flatten(-2)
            return oh.expand(self.n_members, *oh.shape) if oh.dim() == 2 else oh
        e = emb(x, self.W_emb)  # (E, N, 2, embed)
        return e.sum(2) if self.cfg.combine == "sum" else e.flatten(2)

    def _first_layer(self, x):
        """Pre-activation of the first plain layer without materialising h0: the layer is
        linear in each operand's embedding, so W1 folds into per-token tables
        (E, p, width) and z1 = T_a[a] + T_b[b] + b1 (exact up to float rounding)."""
        W1, k = self.W_h0, self.cfg.embed
        if self.cfg.combine == "onehot":
            Ta, Tb = W1[:, :self.p], W1[:, self.p:]
        elif self.cfg.combine == "sum":
            Ta = Tb = torch.bmm(self.W_emb, W1)
        else:
            Ta, Tb = torch.bmm(self.W_emb, W1[:, :k]), torch.bmm(self.W_emb, W1[:, k:])
        return pair_sum(x, Ta + self.b_h0[:, None, :], Tb)  # (E, N, width); bias folded into T_a

    def _trunk(self, x, feats=None, fold=True):
        act, cfg = ACTIVATIONS[self.cfg.act], self.cfg
        if cfg.residual or not cfg.depth or not fold:
            h = self._input(x, eembed if fold else eembed_onehot)
        if cfg.residual:
            if hasattr(self, "W_in"):
                h = elinear(h, self.W_in, self.b_in)
            for i in range(cfg.depth):
                z = elinear(elayernorm(h, getattr(self, f"g_ln{i}"), getattr(self, f"beta_ln{i}")),
                            getattr(self, f"W_fc1_{i}"), getattr(self, f"b_fc1_{i}"))
                if feats is not None:
                    feats.append(z)
                h = h + cfg.res_scale * elinear(act(z), getattr(self, f"W_fc2_{i}"), getattr(self, f"b_fc2_{i}"))
            return h
        for i in range(cfg.depth):
            if i == 0 and fold:
                z = self._first_layer(x)
            else:
                z = elinear(h, getattr(self, f"W_h{i}"), getattr(self, f"b_h{i}"))
            if feats is not None:
                feats.append(z)
            h = act(z)
        return h

    def forward(self, x, fold=True):
        """fold=False computes the plain way (embed, concatenate, matmul): the reference."""
        return elinear(self._trunk(x, fold=fold), self.W_head, self.b_head)

    def features(self, x):
        feats = []
        self._trunk(x, feats)
        return feats


class Transformer(EnsembleModule):
    """Decoder-style transformer on [a, b, =] read out at the last position (causal attention),
    or encoder-style on [a, b] mean-pooled (no mask). norm 'pre' adds pre-LN and a final LN."""

    def __init__(self, cfg, n_tokens, n_classes):
        super().__init__()
        self.cfg, d = cfg, cfg.width
        self.vocab = n_tokens + (cfg.readout == "last")  # '=' is token p
        self.T = 3 if cfg.readout == "last" else 2
        self.param("W_emb", (self.vocab, d), "normal", 1 / math.sqrt(d))
        self.param("W_pos", (self.T, d), "normal", 1 / math.sqrt(d))
        for i in range(cfg.depth):
            if cfg.norm == "pre":
                self.layernorm(f"ln1_{i}", d)
                self.layernorm(f"ln2_{i}", d)
            self.linear(f"qkv{i}", d, 3 * d)
            self.linear(f"o{i}", d, d)
            self.linear(f"mlp1_{i}", d, cfg.d_mlp)
            self.linear(f"mlp2_{i}", cfg.d_mlp, d)
        if cfg.norm == "pre":
            self.layernorm("lnf", d)
        self.linear("head", d, n_classes)
        if cfg.init == "gpt2":  # TransformerLens's default: one std for every weight, zero biases
            self.reinit(lambda name: ("normal", 0.8 / math.sqrt(d)) if name.startswith("W_")
                        else ("zeros", 0.0) if name.startswith("b_") else None)

    def _tokens(self, x):
        if self.cfg.readout == "last":
            eq = torch.full_like(x[..., :1], self.vocab - 1)
            x = torch.cat([x, eq], dim=-1)
        return x

    def _ln(self, h, name):
        if self.cfg.norm != "pre":
            return h
        return elayernorm(h, getattr(self, f"g_{name}"), getattr(self, f"beta_{name}"))

    def _attend(self, h_norm, i, last_only):
        """Multi-head attention. h_norm: (E, N, T, d). With last_only, queries come from the
        last position only (exact when nothing downstream reads the other positions)."""
        E, N, T, d = h_norm.shape
        H = self.cfg.heads
        qkv = elinear(h_norm, getattr(self, f"W_qkv{i}"), getattr(self, f"b_qkv{i}"))  # (E, N, T, 3d)
        q, k, v = qkv.view(E, N, T, 3, H, d // H).unbind(3)  # each (E, N, T, H, dh)
        if last_only:
            q = q[:, :, -1:]
        # Sequences are 2-3 tokens long: broadcast-multiply-sum beats millions of tiny matmuls.
        scores = (q[:, :, :, None] * k[:, :, None]).sum(-1) / math.sqrt(d // H)  # (E, N, Tq, T, H)
        if self.cfg.readout == "last" and not last_only:
            mask = torch.ones(T, T, dtype=torch.bool, device=h_norm.device).triu(1)[:, :, None]
            scores = scores.masked_fill(mask, float("-inf"))
        att = scores.softmax(3)
        z = (att[..., None] * v[:, :, None]).sum(3).reshape(E, N, q.shape[2], d)  # (E, N, Tq, d)
        return elinear(z, getattr(self, f"W_o{i}"), getattr(self, f"b_o{i}"))

    def _token_tables(self, x):
        """Exact shortcut for one block without LayerNorm read out at '=': every key, value and
        the query depend on one token only, so they are computed once per (position, token)
        (2p + 1 rows) and gathered per example instead of 3 projections per example.
        Returns the residual stream at '=' after attention, (E, N, d)."""
        E, V, d = self.W_emb.shape
        H = self.cfg.heads
        dh = d // H
        table = (self.W_emb[:, None] + self.W_pos[:, :2, None]).reshape(E, 2 * V, d)  # row t*V + token
        h_eq = self.W_emb[:, V - 1] + self.W_pos[:, 2]  # (E, d): '=' at position 2
        rows = elinear(torch.cat([table, h_eq[:, None]], 1), self.W_qkv0, self.b_qkv0)  # (E, 2V+1, 3d)
        q = rows[:, -1, :d].view(E, 1, H, dh)
        k, v = rows[..., d:2 * d], rows[..., 2 * d:]
        scores = (k.view(E, -1, H, dh) * q).sum(-1) / math.sqrt(dh)  # (E, 2V+1, H)
        tokens = x + V * torch.arange(2, device=x.device)  # row of (position, token); no host copy
        s01 = eembed(tokens, scores[:, :-1])  # (E, N, 2, H)
        N = s01.shape[1]
        s_eq = scores[:, -1:, None].expand(E, N, 1, H)  # '=' attending to itself: same for all
        att = torch.cat([s01, s_eq], 2).softmax(2)  # (E, N, 3, H)
        v01 = eembed(tokens, v[:, :-1].contiguous()).view(E, N, 2, H, dh)
        z = (att[:, :, :2, :, None] * v01).sum(2) + att[:, :, 2, :, None] * v[:, -1].view(E, 1, H, dh)
        return h_eq[:, None] + elinear(z.reshape(E, N, d), self.W_o0, self.b_o0)

    def _blocks(self, x, shortcut=True, feats=None):
        act = ACTIVATIONS[self.cfg.act]
        if shortcut and feats is None and self.cfg.depth == 1 and self.cfg.norm != "pre" and self.cfg.readout == "last":
            h = self._token_tables(x)
            z = elinear(h, self.W_mlp1_0, self.b_mlp1_0)
            return h + elinear(act(z), self.W_mlp2_0, self.b_mlp2_0)
        h = eembed(self._tokens(x), self.W_emb) + self.W_pos[:, None]  # (E, N, T, d)
        L = self.cfg.depth
        for i in range(L):
            last_only = shortcut and self.cfg.readout == "last" and i == L - 1
            a = self._attend(self._ln(h, f"ln1_{i}"), i, last_only)
            h = (h[:, :, -1:] if last_only else h) + a
            z = elinear(self._ln(h, f"ln2_{i}"), getattr(self, f"W_mlp1_{i}"), getattr(self, f"b_mlp1_{i}"))
            if feats is not None:
                feats.append(z.flatten(2))
            h = h + elinear(act(z), getattr(self, f"W_mlp2_{i}"), getattr(self, f"b_mlp2_{i}"))
        h = self._ln(h, "lnf")
        return h[:, :, -1] if self.cfg.readout == "last" else h.mean(2)  # (E, N, d)

    def forward(self, x, shortcut=True):
        return elinear(self._blocks(x, shortcut), self.W_head, self.b_head)

    def features(self, x):
        feats = []
        self._blocks(x, shortcut=False, feats=feats)
        return feats


class LSTM(EnsembleModule):
    """Embedding, `depth` stacked LSTM layers of hidden size `width` over [a, b], a linear
    head on the last hidden state. PyTorch's LSTM init: U(+-1/sqrt(hidden)) everywhere."""

    def __init__(self, cfg, n_tokens, n_classes):
        super().__init__()
        self.cfg, self.p, H = cfg, n_tokens, cfg.width
        self.param("W_emb", (n_tokens, cfg.embed), "normal", 1.0)
        bound = 1 / math.sqrt(H)
        for i in range(cfg.depth):
            self.param(f"W_ih{i}", (cfg.embed if i == 0 else H, 4 * H), "uniform", bound)
            self.param(f"W_hh{i}", (H, 4 * H), "uniform", bound)
            self.param(f"b_{i}", (4 * H,), "uniform", bound)
        self.linear("head", H, n_classes)

    def _run(self, x, feats=None):
        H = self.cfg.width
        seq = eembed(x, self.W_emb)  # (E, N, T, embed)
        for i in range(self.cfg.depth):
            xs = elinear(seq, getattr(self, f"W_ih{i}"), getattr(self, f"b_{i}"))  # (E, N, T, 4H)
            h = xs.new_zeros(xs.shape[0], xs.shape[1], H)
            c = torch.zeros_like(h)
            outs = []
            for t in range(xs.shape[2]):
                gates = xs[:, :, t] + torch.bmm(h, getattr(self, f"W_hh{i}"))
                ig, fg, gg, og = gates.chunk(4, dim=-1)  # PyTorch gate order i, f, g, o
                c = torch.sigmoid(fg) * c + torch.sigmoid(ig) * torch.tanh(gg)
                h = torch.sigmoid(og) * torch.tanh(c)
                outs.append(h)
            seq = torch.stack(outs, dim=2)
            if feats is not None:
                feats.append(h)
        return h

    def forward(self, x):
        return elinear(self._run(x), self.W_head, self.b_head)

    def features(self, x):
        feats = []
        self._run(x, feats)
        return feats


def pairwise_matmul(a: torch.Tensor, b: torch.Tensor, k: int) -> torch.Tensor:
    """Row n of the result is vec(A_n @ B_n), where A_n, B_n are rows n of a, b (E, N, k*k)
    read as k x k matrices. Computed as k broadcast multiply-adds over contiguous length-N
    vectors, which is several times faster on a CPU than E*N tiny matmuls; the sums run over
    the same terms in the same order, so the result matches `@` to float rounding."""
    E, N, _ = a.shape
    A = a.transpose(1, 2).reshape(E, k, k, N)  # A[e, i, m, n]
    B = b.transpose(1, 2).reshape(E, k, k, N)  # B[e, m, j, n]
    out = A[:, :, 0, None, :] * B[:, None, 0, :, :]
    for m in range(1, k):
        out = out + A[:, :, m, None, :] * B[:, None, m, :, :]
    return out.reshape(E, k * k, N).transpose(1, 2)  # (E, N, k*k)


class P2MLP(EnsembleModule):
    """P2's MLP as in the authors' code: bias-free one-hot encoders Linear(p, w) per operand,
    the two w-vectors reshaped to sqrt(w) x sqrt(w) and matrix-multiplied, then
    Linear(w, w) -> act -> Linear(w, p), no biases. init 'p2': the hidden and output weights drawn
    N(0, 1/fan_out) as the authors' code (std 1/8 and 1/sqrt(p)), the encoders PyTorch's default."""

    def __init__(self, cfg, n_tokens, n_classes):
        super().__init__()
        self.cfg, self.p, w = cfg, n_tokens, cfg.width
        self.k = int(round(math.sqrt(w)))
        if self.k * self.k != w:
            raise ValueError(f"p2mlp needs a square width, got {w}")
        self.linear("enc_a", n_tokens, w, bias=False)
        self.linear("enc_b", n_tokens, w, bias=False)
        self.linear("fc", w, w, bias=False)
        self.linear("head", w, n_classes, bias=False)
        if cfg.init == "p2":   # P2's code: hidden and output weights N(0, 1/fan_out); encoders as PyTorch's
            fan_out = {"W_fc": w, "W_head": n_classes}
            self.reinit(lambda name: ("normal", 1 / math.sqrt(fan_out[name])) if name in fan_out else None)

    def _hidden(self, x, reference=False):
        ea = eembed(x[..., :1], self.W_enc_a)[:, :, 0]  # (E, N, w)
        eb = eembed(x[..., 1:], self.W_enc_b)[:, :, 0]
        E, N, _ = ea.shape
        if reference:  # the plain way: E*N batched k x k matmuls (slow on CPU for k = 8)
            prod = (ea.view(E, N, self.k, self.k) @ eb.view(E, N, self.k, self.k)).reshape(E, N, -1)
        else:
            prod = pairwise_matmul(ea, eb, self.k)
        return elinear(prod, self.W_fc)

    def forward(self, x):
        return elinear(ACTIVATIONS[self.cfg.act](self._hidden(x)), self.W_head)

    def features(self, x):
        return [self._hidden(x)]


class DeepMLP(EnsembleModule):
    """MLP on float vectors (P4): `depth` Linear layers F -> width -> ... -> classes with the
    activation between them; PyTorch default init (times init_scale)."""

    def __init__(self, cfg, n_features, n_classes):
        super().__init__()
        self.cfg = cfg
        dims = [n_features] + [cfg.width] * (cfg.depth - 1) + [n_classes]
        for i in range(cfg.depth):
            self.linear(f"l{i}", dims[i], dims[i + 1])

    def _run(self, x, feats=None):
        act = ACTIVATIONS[self.cfg.act]
        h = x
        for i in range(self.cfg.depth):
            h = elinear(h, getattr(self, f"W_l{i}"), getattr(self, f"b_l{i}"))
            if feats is not None:
                feats.append(h)
            if i < self.cfg.depth - 1:
                h = act(h)
        return h

    def forward(self, x):
        return self._run(x)

    def features(self, x):
        feats = []
        self._run(x, feats)
        return feats


MODELS = {"mlp": MLP, "transformer": Transformer, "lstm": LSTM, "p2mlp": P2MLP, "deepmlp": DeepMLP}


def build_model(cfg, data, device="cpu"):
    """The ensemble model of `cfg`, one member per `cfg.members()`, on `device`."""
    if cfg.model == "deepmlp":
        n_in = data.x_train.shape[-1]
    else:
        n_in = data.n_tokens
    model = MODELS[cfg.model](cfg, n_in, data.n_classes)
    return model.materialize(cfg.members(), dtype=getattr(torch, cfg.dtype), device=device)

