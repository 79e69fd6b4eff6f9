"""Exact shortcuts in the models agree with the plain computation they replace."""
import torch

from grokcore import RunConfig
from grokcore.core.layers import eembed, eembed_onehot
from grokcore.core.models import build_model
from grokcore.core.tasks import make_data


def _model(**kw):
    cfg = RunConfig(p=13, frac=0.5, seeds=(0, 1, 2), **kw)
    data = make_data(cfg)
    return build_model(cfg, data), data


def test_embedding_lookup_equals_one_hot_matmul():
    W = torch.randn(3, 13, 8, dtype=torch.float64)
    for tokens in (torch.randint(0, 13, (20, 2)), torch.randint(0, 13, (3, 20, 2))):
        assert torch.allclose(eembed(tokens, W), eembed_onehot(tokens, W))


def test_folded_first_layer_equals_embed_then_matmul():
    cases = [(c, a, s) for c in ("sum", "concat", "onehot") for a in ("relu", "gelu") for s in ("shared", "per_seed")]
    for combine, act, split in cases:
        model, data = _model(model="mlp", combine=combine, depth=2, width=16, embed=8, dtype="float64", act=act,
                             split=split)
        x = data.x_train
        assert torch.allclose(model(x), model(x, fold=False), atol=1e-10), combine
        grads = []
        for fold in (True, False):
            model.zero_grad()
            model(x, fold=fold).pow(2).sum().backward()
            grads.append([p.grad.clone() for p in model.parameters()])
        for g1, g2 in zip(*grads):
            assert torch.allclose(g1, g2, atol=1e-9), combine


def test_pair_sum_shared_backward_equals_flat_index_add_and_plain_gathers():
    """With tokens shared by all members the table gradient adds along the token dim of
    (E, 2V, d): bit-identical to the flat index_add over (E*2V, d) used for per-member tokens, and
    equal to the gradient of two plain gathers and an add (issue 36)."""
    from grokcore.core.layers import pair_sum
    torch.manual_seed(0)
    E, V, d, N = 3, 13, 8, 40
    tokens = torch.randint(0, V, (N, 2))
    Ta, Tb = (torch.randn(E, V, d, requires_grad=True) for _ in range(2))
    w = torch.randn(E, N, d)
    grads = []
    for x in (tokens, tokens.expand(E, N, 2)):  # shared path, then the per-member (flat) path
        out = pair_sum(x, Ta, Tb)
        ga, gb = torch.autograd.grad((out * w).sum(), (Ta, Tb))
        grads.append((out, ga, gb))
    for a, b in zip(*grads):
        assert torch.equal(a, b)
    plain = eembed(tokens[:, :1], Ta)[:, :, 0] + eembed(tokens[:, 1:], Tb)[:, :, 0]
    assert torch.allclose(grads[0][0], plain)
    for g, ref in zip(grads[0][1:], torch.autograd.grad((plain * w).sum(), (Ta, Tb))):
        assert torch.allclose(g, ref, atol=1e-5)


def test_last_position_only_transformer_equals_full_computation():
    """depth 1 without LayerNorm takes the per-token tables; depth 2 and pre-LN take the
    last-position-only path. Values and gradients match the full computation, with one
    split for all members and with a split per member."""
    cases = [dict(depth=1), dict(depth=2), dict(depth=1, norm="pre"), dict(depth=1, split="per_seed")]
    for kw in cases:
        model, data = _model(model="transformer", width=16, heads=4, d_mlp=32, dtype="float64", **kw)
        x = data.x_train
        outs, grads = [], []
        for shortcut in (True, False):
            model.zero_grad()
            out = model(x, shortcut=shortcut)
            out.pow(2).sum().backward()
            outs.append(out.detach())
            grads.append([p.grad.clone() for p in model.parameters()])
        assert torch.allclose(outs[0], outs[1], atol=1e-10), kw
        for g1, g2 in zip(*grads):
            assert torch.allclose(g1, g2, atol=1e-9), kw


def test_p2mlp_pairwise_product_equals_batched_matmul():
    for per_seed in (False, True):
        model, data = _model(model="p2mlp", width=16, act="relu", dtype="float64",
                             split="per_seed" if per_seed else "shared")
        x = data.x_train
        grads = []
        for reference in (False, True):
            model.zero_grad()
            h = model._hidden(x, reference=reference)
            h.pow(2).sum().backward()
            grads.append((h.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
        assert torch.allclose(grads[0][0], grads[1][0], atol=1e-10)
        assert len(grads[0][1]) == 3
        for g1, g2 in zip(grads[0][1], grads[1][1]):
            assert torch.allclose(g1, g2, atol=1e-9)


def test_nuclear_norm_equals_sum_of_singular_values():
    from grokcore.core.metrics import nuclear_norm
    torch.manual_seed(0)
    for shape in ((4, 9, 6), (4, 6, 9)):
        W = torch.randn(shape)
        W[1] *= 1e-30  # tiny and huge members stay finite and accurate
        W[2] *= 1e30
        want = torch.linalg.svdvals(W.double()).sum(-1)
        assert torch.allclose(nuclear_norm(W), want, rtol=1e-10)
    low_rank = torch.randn(2, 8, 1) @ torch.randn(2, 1, 8)  # rank 1: the other 7 values are ~0
    assert torch.allclose(nuclear_norm(low_rank), torch.linalg.svdvals(low_rank.double()).sum(-1), rtol=1e-6)
