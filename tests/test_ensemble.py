"""An ensemble of E members trains each member exactly as E separate single-model runs would."""
import numpy as np
import pytest
import torch

import grokcore.core.tasks as tasks
from grokcore import RunConfig, train

BASE = dict(p=11, frac=0.5, steps=25, eval_every=5, eval_log_points=2, early_stop=False, width=16, embed=8)

MODELS = {
    "mlp_concat": dict(model="mlp", combine="concat", depth=2),
    "mlp_sum_gelu": dict(model="mlp", combine="sum", act="gelu", depth=1),
    "mlp_onehot": dict(model="mlp", combine="onehot", depth=1, act="tanh"),
    "mlp_residual": dict(model="mlp", combine="sum", residual=True, res_scale=0.5, depth=2, embed=16, clip=1.0),
    "transformer_last": dict(model="transformer", depth=1, width=16, heads=2, d_mlp=32, readout="last"),
    "transformer_mean_prenorm": dict(model="transformer", depth=2, width=16, heads=2, d_mlp=32,
                                     readout="mean", norm="pre", act="gelu"),
    "lstm": dict(model="lstm", width=8, depth=1),
    "p2mlp": dict(model="p2mlp", width=16, optimizer="adam"),
    "deepmlp": dict(model="deepmlp", task="fake_images", depth=3, width=16, loss="mse", init_scale=(1.0, 2.0)),
}


def fake_images(cfg):
    """A small random image-like data set for the deepmlp tests (40 features, 10 classes)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 40)).astype(np.float32)
    y = rng.integers(0, 10, size=96)
    return x[:64], y[:64], x[64:], y[64:]


@pytest.fixture(autouse=True)
def _fake_task(monkeypatch):
    monkeypatch.setitem(tasks.IMAGE_TASKS, "fake_images", fake_images)


def single_runs(cfg):
    """One E=1 run per member of cfg, with that member's seed and hyperparameters."""
    out = []
    for m in cfg.members():
        c = cfg.replace(seeds=(m["seed"],), **{k: m[k] for k in ("lr", "wd", "l1", "l2", "nuclear", "init_scale")})
        out.append(train(c, device="cpu", progress=False))
    return out


def assert_members_match(ens, singles, rtol=1e-4, atol=1e-5):
    for i, s in enumerate(singles):
        for var in ("train_loss", "test_loss", "train_acc", "test_acc", "l2_norm"):
            np.testing.assert_allclose(ens[var].isel(member=i).values, s[var].isel(member=0).values,
                                       rtol=rtol, atol=atol, err_msg=f"member {i} {var}")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ensemble_matches_separate_runs(name):
    cfg = RunConfig(**{**BASE, "seeds": (0, 3), "lr": (1e-3, 3e-3), **MODELS[name]})
    ens = train(cfg, device="cpu", progress=False)
    assert ens.sizes["member"] == cfg.n_members
    assert_members_match(ens, single_runs(cfg))


@pytest.mark.parametrize("optimizer", ["adamw", "adam", "sgd"])
def test_per_member_wd_and_penalties_match_separate_runs(optimizer):
    cfg = RunConfig(**BASE, model="mlp", optimizer=optimizer, lr=3e-2 if optimizer == "sgd" else 1e-2,
                    wd=(0.0, 0.5), l1=(0.0, 1e-4), nuclear=(0.0, 1e-3), seeds=(1,), clip=0.5)
    assert cfg.n_members == 8
    ens = train(cfg, device="cpu", progress=False)
    assert_members_match(ens, single_runs(cfg))


def test_minibatches_depend_only_on_the_members_seed():
    cfg = RunConfig(**BASE, model="mlp", batch_size=16, seeds=(2, 5), wd=(0.0, 1.0), l2=1e-3)
    assert_members_match(train(cfg, device="cpu", progress=False), single_runs(cfg))


@pytest.mark.parametrize("noise", [dict(update_noise=1e-3), dict(weight_noise=1e-3)])
def test_noisy_optimizer_members_match_separate_runs(noise):
    """Update and weight noise come from each member's own generator (issue 20)."""
    cfg = RunConfig(**BASE, model="mlp", seeds=(0, 4), lr=(1e-3, 3e-3), **noise)
    assert_members_match(train(cfg, device="cpu", progress=False), single_runs(cfg))


def test_noise_differs_between_seeds_and_is_really_added():
    cfg = RunConfig(**BASE, model="mlp", seeds=(0,), weight_noise=1e-2)
    noisy = train(cfg, device="cpu", progress=False)
    clean = train(cfg.replace(weight_noise=0.0), device="cpu", progress=False)
    assert not np.allclose(noisy["l2_norm"].values, clean["l2_norm"].values)


def test_an_epoch_sees_every_example_once_with_a_short_last_batch():
    from grokcore.core.tasks import make_data
    from grokcore.core.train import Batcher
    cfg = RunConfig(**BASE, model="mlp", seeds=(0, 1))
    data = make_data(cfg)
    N = data.train_size()
    b = Batcher(data, cfg.members(), batch_size=N // 3 + 1, device="cpu")  # N does not divide
    assert b.per_epoch == 3
    seen = [b(step)[1] for step in (1, 2, 3)]
    assert sum(y.shape[-1] for y in seen) == N
    assert sorted(torch_cat(seen)[0].tolist()) == sorted(data.y_train.tolist())


def torch_cat(ys):
    import torch
    return torch.cat(ys, dim=-1)


def test_per_seed_splits_match_separate_runs():
    cfg = RunConfig(**BASE, model="mlp", split="per_seed", seeds=(0, 1, 2))
    assert_members_match(train(cfg, device="cpu", progress=False), single_runs(cfg))


def test_a_diverging_member_is_frozen_and_leaves_the_others_alone():
    cfg = RunConfig(**BASE, model="mlp", optimizer="sgd", momentum=0.0, lr=(1e-2, 1e6), seeds=(0,))
    ens = train(cfg, device="cpu", progress=False)
    assert ens["diverged"].values.tolist() == [0, 1]
    assert ens["dnf"].values[1] == "diverged"
    alone = train(cfg.replace(lr=1e-2), device="cpu", progress=False)
    np.testing.assert_allclose(ens["train_loss"].isel(member=0).values,
                               alone["train_loss"].isel(member=0).values, rtol=1e-5)


def test_fixed_config_is_deterministic_on_cpu():
    cfg = RunConfig(**{**BASE, "model": "transformer", "heads": 2, "d_mlp": 32, "seeds": (0, 1), "batch_size": 8})
    a, b = (train(cfg, device="cpu", progress=False) for _ in range(2))
    for var in ("train_loss", "test_acc", "rms"):
        assert np.array_equal(a[var].values, b[var].values)


def test_per_seed_splits_keep_the_short_last_batch_per_member():
    """With a split per seed every member draws its own permutation of its own training set; an
    epoch of ceil(N / B) batches still shows each member every one of its examples once, and the
    next epoch starts a fresh permutation (DataLoader, shuffle=True, drop_last=False)."""
    import torch
    from grokcore.core.tasks import make_data
    from grokcore.core.train import Batcher
    cfg = RunConfig(**{**BASE, "split": "per_seed"}, model="mlp", seeds=(0, 1))
    data = make_data(cfg)
    N = data.train_size()
    B = N // 4 + 1                                     # 4 batches, the last one short
    b = Batcher(data, cfg.members(), batch_size=B, device="cpu")
    assert b.per_epoch == 4 and N % B != 0
    batches = [b(step) for step in range(1, 5)]
    assert [y.shape[-1] for _, y in batches] == [B, B, B, N - 3 * B]
    for m in range(2):
        seen = torch.cat([x[m] for x, _ in batches])          # (N, tokens): member m's epoch
        assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, data.x_train[m].tolist()))
    first_next = b(5)[1]
    assert first_next.shape[-1] == B                            # a new epoch, a full batch again


def test_cpu_training_flushes_subnormal_numbers():
    """Weight decay drives collapsed members into subnormal floats, which are 10-30x slower on a
    CPU; `train` flushes them to zero there (grokcore.core.train)."""
    train(RunConfig(**{**BASE, "steps": 1}, model="mlp"), device="cpu", progress=False)
    tiny = torch.tensor([1e-39], dtype=torch.float32)  # subnormal in float32
    assert (tiny * torch.tensor([1.0])).item() == 0.0
