import pytest

from grokcore.claims import p3
from grokcore.core.optim import EnsembleOptimizer


def test_transformer_config_is_the_papers_simplified_encoding():
    c = p3.transformer()
    assert (c.model, c.depth, c.width, c.heads, c.d_mlp, c.act, c.norm, c.readout, c.init) == \
        ("transformer", 1, 128, 4, 512, "relu", "none", "last", "gpt2")
    assert (c.optimizer, c.lr, c.wd, c.betas, c.loss_dtype, c.batch_size, c.p) == \
        ("adamw", (1e-3,), (1.0,), (0.9, 0.98), "float64", 0, 97)


def test_mlp_and_lstm_follow_the_paper_and_keep_overrides():
    m, l = p3.mlp(), p3.lstm(p=31)
    assert (m.model, m.depth, m.width, m.act, m.optimizer, m.lr, m.wd) == ("mlp", 2, 512, "relu", "adam", (1e-3,), (0.0,))
    assert (l.model, l.width, l.optimizer, l.lr, l.wd, l.p) == ("lstm", 20, "adam", (1e-2,), (0.0,), 31)


def test_the_five_ensembles_hold_exactly_the_eight_variants():
    base = p3.optimizer_base(seeds=(0, 1))
    assert (base.warmup, base.steps, base.betas) == (10, 1800, (0.9, 0.98))
    names = [n for c in p3.optimizer_configs(base) for n in p3.variant_names(c)]
    assert len(names) == 8 * 2  # every member is one of the variants, none wasted
    assert sorted(set(names)) == sorted([
        "Adam lr 0.0003", "Adam lr 0.001", "Adam lr 0.003", "Adam + update noise 0.001",
        "Adam + weight noise 0.01", "Adam minibatch 128", "AdamW wd 1", "AdamW wd 1 minibatch 128"])


def test_adamw_at_zero_weight_decay_is_adam():
    import torch
    torch.manual_seed(0)
    ps = [torch.randn(1, 4, 3) for _ in range(2)]
    grads = [torch.randn(1, 4, 3) for _ in range(2)]
    out = []
    for kind in ("adam", "adamw"):
        q = [p.clone().requires_grad_(True) for p in ps]
        opt = EnsembleOptimizer(q, kind, torch.tensor([1e-2]), torch.tensor([0.0]), (0.9, 0.98))
        for _ in range(3):
            for p, g in zip(q, grads):
                p.grad = g.clone()
            opt.step(torch.ones(1, dtype=torch.bool))
        out.append([p.detach() for p in q])
    for a, b in zip(*out):
        assert torch.equal(a, b)


def test_gpt2_init_is_transformerlens_default_and_only_for_the_transformer():
    """init 'gpt2': every weight N(0, (0.8/sqrt(d_model))^2), every bias 0, LayerNorm 1/0;
    'torch' keeps nn.Linear's nonzero uniform biases. Other models refuse 'gpt2'."""
    import torch
    from grokcore import ConfigError, RunConfig, validate
    from grokcore.core.models import build_model
    from grokcore.core.tasks import make_data
    cfg = RunConfig(model="transformer", p=31, width=64, d_mlp=256, norm="pre", init="gpt2", seeds=(0, 1, 2))
    model = build_model(cfg, make_data(cfg))
    for name, p in model.named_parameters():
        if name.startswith("W_"):
            assert abs(p.std().item() / (0.8 / 64 ** 0.5) - 1) < 0.1, name
        elif name.startswith("b_") or name.startswith("beta_"):
            assert torch.all(p == 0), name
        else:
            assert torch.all(p == 1), name
    torch_init = build_model(cfg.replace(init="torch"), make_data(cfg))
    assert torch_init.b_head.abs().max() > 0
    with pytest.raises(ConfigError, match="init 'gpt2' is for the transformer"):
        validate(RunConfig(model="mlp", init="gpt2"))
    with pytest.raises(ConfigError, match="valid: gpt2, p2, torch"):
        validate(RunConfig(init="xavier"))


def test_clock_is_lr_times_weight_decay_times_budget():
    assert p3.clock(p3.transformer(lr=1e-2, steps=3000)) == pytest.approx(30.0)
    assert p3.clock(p3.transformer(lr=(1e-3, 1e-2), wd=(0.0, 0.5), steps=100)) == pytest.approx(0.5)
