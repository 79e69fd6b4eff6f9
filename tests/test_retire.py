"""Retiring finished members (issue 36): a retired member's curves end at its retirement step,
and every member, retired or not, follows exactly the trajectory it follows without retirement."""
import numpy as np
import pytest

import grokcore.core.retire as retire
import grokcore.core.tasks as tasks
from grokcore import RunConfig, train
from grokcore.claims import rules

from test_ensemble import BASE, fake_images

CURVES = ("train_loss", "test_loss", "train_acc", "test_acc", "l2_norm", "rms", "l1_norm", "nuclear_norm")
CASES = {
    "mlp_adamw": dict(model="mlp", depth=2, optimizer="adamw", wd=(0.0, 1.0), seeds=(0, 1)),
    "mlp_adam_penalties": dict(model="mlp", optimizer="adam", wd=(0.0, 0.5), l1=1e-4, clip=0.5, seeds=(0, 1)),
    "mlp_sgd_momentum": dict(model="mlp", combine="sum", act="gelu", depth=2, optimizer="sgd", momentum=0.9,
                             lr=3e-2, wd=(5e-4, 5e-3), seeds=(0, 1)),
    "mlp_per_seed_minibatch_noise": dict(model="mlp", split="per_seed", batch_size=16, update_noise=1e-3,
                                         weight_noise=1e-3, seeds=(0, 1, 2, 3)),
    "transformer": dict(model="transformer", depth=1, width=16, heads=2, d_mlp=32, seeds=(0, 1), lr=(1e-3, 3e-3)),
    "deepmlp_minibatch": dict(model="deepmlp", task="fake_images", depth=4, width=16, loss="mse", batch_size=16,
                              init_scale=(1.0, 2.0), seeds=(0, 1), feature_rank=True, save_params=True),
}


@pytest.fixture(autouse=True)
def _fake_task(monkeypatch):
    monkeypatch.setitem(tasks.IMAGE_TASKS, "fake_images", fake_images)


def staggered(cfg, step, grokked_at, alive):
    """Retire the member at position 1 at step 10 (from the middle), then position 0 at step 20."""
    out = np.zeros(len(alive), bool)
    if step in (10, 20):
        out[1 if step == 10 else 0] = True
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_members_are_bit_identical_with_and_without_retirement(name, monkeypatch):
    monkeypatch.setitem(retire.RETIRE, "staggered", staggered)
    cfg = RunConfig(**{**BASE, **CASES[name]})
    assert cfg.n_members >= 4
    full = train(cfg, device="cpu", progress=False)
    ret = train(cfg.replace(retire="staggered"), device="cpu", progress=False)
    steps = full["step"].values
    assert np.array_equal(ret["step"].values, steps)
    until = {0: 20, 1: 10}  # original member -> retirement step; the others run to the end
    for i in range(cfg.n_members):
        last = until.get(i, steps[-1])
        upto, after = steps <= last, steps > last
        for var in CURVES + (("feature_rank",) if cfg.feature_rank else ()):
            a, b = full[var].isel(member=i).values, ret[var].isel(member=i).values
            assert np.array_equal(a[upto], b[upto]), f"member {i} {var}"
            assert np.isnan(b[after]).all(), f"member {i} {var} after its retirement"
    for i in (2, 3):
        assert ret["t_train"].values[i] == full["t_train"].values[i] or np.isnan(full["t_train"].values[i])
    assert ret.attrs["model_steps"] == cfg.n_members * 25 - 15 - 5  # member 1 skips 15 steps, member 0 5
    if cfg.save_params:  # retired members keep their parameters of the retirement step
        at10 = train(cfg.replace(steps=10), device="cpu", progress=False)
        for name_ in [v for v in ret.data_vars if v.startswith("param_")]:
            assert np.array_equal(ret[name_].values[1], at10[name_].values[1])
            assert np.array_equal(ret[name_].values[2:], full[name_].values[2:])


def test_a_diverged_member_is_retired_and_recorded_as_diverged():
    cfg = RunConfig(**BASE, model="mlp", optimizer="sgd", momentum=0.0, lr=(1e-2, 1e6), seeds=(0, 1))
    full = train(cfg, device="cpu", progress=False)
    ret = train(cfg.replace(retire="diverged"), device="cpu", progress=False)
    assert ret["diverged"].values.tolist() == full["diverged"].values.tolist() == [0, 0, 1, 1]
    assert list(ret["dnf"].values[2:]) == ["diverged", "diverged"]
    for var in CURVES:  # the diverged members' curves are NaN from divergence on in both
        np.testing.assert_array_equal(ret[var].values, full[var].values)
    assert ret.attrs["model_steps"] < full.attrs["model_steps"] == 4 * 25  # they left the ensemble


def test_grokked_condition_waits_for_the_window_after_t_grok():
    cfg = RunConfig(stop_margin=0.5)
    grokked_at = np.array([np.nan, 100.0, 100.0, np.nan])
    alive = np.array([True, True, True, False])
    assert retire.grokked(cfg, 149, grokked_at, alive).tolist() == [False, False, False, True]
    assert retire.grokked(cfg, 150, grokked_at, alive).tolist() == [False, True, True, True]
    assert retire.diverged(cfg, 150, grokked_at, alive).tolist() == [False, False, False, True]


def separable(cfg):
    """Linearly separable vectors (3 classes): a deep MLP learns them within a few dozen steps."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    y = (x @ rng.normal(size=(8, 3))).argmax(1)
    return x[:200], y[:200], x[200:], y[200:]


def test_grokked_members_retire_after_their_window_and_keep_their_grokking_times(monkeypatch):
    monkeypatch.setitem(tasks.IMAGE_TASKS, "separable", separable)
    cfg = RunConfig(task="separable", model="deepmlp", depth=2, width=16, lr=(3e-3, 1e-2, 3e-2), seeds=(0, 1),
                    steps=150, eval_every=10, early_stop=False, stop_margin=0.2, threshold=0.9)
    full = train(cfg, device="cpu", progress=False)
    ret = train(cfg.replace(retire="grokked"), device="cpu", progress=False)
    t = np.fmax(full["t_grok"].values, full["t_train"].values)  # both accuracies >= 0.9 from here
    assert not np.isnan(t).any() and len(set(t)) >= 3, "the test needs members grokking at different steps"
    for v in ("t_train", "t_grok", "delay", "diverged"):  # (t_grok95 is above this threshold of 0.9)
        np.testing.assert_array_equal(ret[v].values, full[v].values)
    steps = ret["step"].values
    assert np.array_equal(steps, full["step"].values[:len(steps)])
    assert steps[-1] == steps[steps >= t.max() * 1.2][0] < 150  # the ensemble ends with its last member
    for i in range(cfg.n_members):
        last = steps[steps >= t[i] * 1.2][0]  # the first evaluation after its window
        for var in CURVES:
            a, b = full[var].values[i, :len(steps)], ret[var].values[i]
            assert np.array_equal(a[steps <= last], b[steps <= last]), f"member {i} {var}"
            assert np.isnan(b[steps > last]).all()
    assert ret.attrs["model_steps"] < full.attrs["model_steps"]
    # the member table reads a retired member where its curve ends, so no gate sees a NaN there
    from grokcore.results.tables import members_table
    table = members_table(ret)
    assert table["final_train_acc"].notna().all() and (table["final_train_acc"] >= 0.9).all()
    assert not rules.outcomes(table)["unstable"].any()


def test_retire_default_leaves_the_config_hash_unchanged():
    cfg = RunConfig(model="mlp", seeds=3)
    assert "retire" not in cfg.canonical_json()
    assert cfg.replace(retire="grokked").hash() != cfg.hash()
    assert RunConfig.from_json(cfg.replace(retire="grokked").canonical_json()).retire == "grokked"
    assert RunConfig.from_json(cfg.canonical_json()) == cfg
    assert cfg.hash() == "aac01e24382af62b"  # the hash before the field existed (issue 36)


def test_retire_savings_counts_the_steps_after_each_members_window():
    """benchmarks/retire_savings.py: a grokked member saves the steps after its window, a diverged
    one those after its loss went non-finite, the rest nothing."""
    import importlib.util
    from pathlib import Path

    import xarray as xr
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "retire_savings.py"
    spec = importlib.util.spec_from_file_location("retire_savings", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    steps = np.arange(0, 1001, 100)
    loss = np.ones((3, len(steps)))
    loss[2, 4:] = np.nan                                   # diverged at step 400
    acc = np.full((3, len(steps)), 0.5)
    acc[0, 2:] = 1.0                                       # member 0: both accuracies >= 0.99 from step 200
    acc[2, 4:] = np.nan
    curves = {k: (("member", "step"), v) for k, v in (("train_loss", loss), ("train_acc", acc), ("test_acc", acc))}
    ds = xr.Dataset(curves, coords={"step": steps},
                    attrs={"config": RunConfig(stop_margin=0.5).canonical_json()})
    assert mod.savings(ds) == (3000, (1000 - 300) + 0 + (1000 - 400))
