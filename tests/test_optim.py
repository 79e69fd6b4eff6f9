"""The ensemble optimizers reproduce PyTorch's single-model optimizers member by member."""
import pytest
import torch

from grokcore.core.optim import EnsembleOptimizer, clip_grad_norms


def _grad_fn(p):
    return (p.sin() * torch.arange(p.numel(), dtype=p.dtype).view_as(p)).sum()


@pytest.mark.parametrize("kind", ["adamw", "adam", "sgd"])
def test_matches_torch_optim_for_every_member(kind):
    torch.manual_seed(0)
    E = 3
    lr = torch.tensor([1e-2, 3e-2, 1e-1], dtype=torch.float64)
    wd = torch.tensor([0.0, 0.1, 1.0], dtype=torch.float64)
    init = torch.randn(E, 4, 5, dtype=torch.float64)
    ens = torch.nn.Parameter(init.clone())
    opt = EnsembleOptimizer([ens], kind, lr, wd, betas=(0.9, 0.98), momentum=0.9)
    refs = [torch.nn.Parameter(init[i].clone()) for i in range(E)]
    cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}[kind]
    extra = {"momentum": 0.9} if kind == "sgd" else {"betas": (0.9, 0.98)}
    ref_opts = [cls([r], lr=float(lr[i]), weight_decay=float(wd[i]), **extra) for i, r in enumerate(refs)]
    alive = torch.ones(E, dtype=torch.bool)
    for _ in range(10):
        ens.grad = None
        sum(_grad_fn(ens[i]) for i in range(E)).backward()
        opt.step(alive)
        for r, o in zip(refs, ref_opts):
            o.zero_grad()
            _grad_fn(r).backward()
            o.step()
    for i in range(E):
        assert torch.allclose(ens[i], refs[i], atol=1e-12), i


def test_per_member_clipping_matches_clip_grad_norm():
    g = torch.randn(3, 6, 2, dtype=torch.float64) * torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64).view(3, 1, 1)
    p = torch.nn.Parameter(torch.zeros_like(g))
    p.grad = g.clone()
    clip_grad_norms([p], 1.0)
    for i in range(3):
        q = torch.nn.Parameter(torch.zeros_like(g[i]))
        q.grad = g[i].clone()
        torch.nn.utils.clip_grad_norm_([q], 1.0)
        assert torch.allclose(p.grad[i], q.grad)


def test_dead_members_are_not_updated():
    p = torch.nn.Parameter(torch.ones(2, 3))
    p.grad = torch.tensor([[1.0, 1.0, 1.0], [float("nan")] * 3])
    opt = EnsembleOptimizer([p], "adamw", torch.tensor([0.1, 0.1]), torch.tensor([0.0, 0.0]))
    opt.step(torch.tensor([True, False]))
    assert torch.equal(p[1], torch.ones(3)) and (p[0] < 1).all()
