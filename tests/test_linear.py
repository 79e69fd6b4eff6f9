"""The linear problems of P2: batching, instances, recovery and the scaling fit."""
import numpy as np
import pandas as pd
import pytest

from grokcore import run
from grokcore.claims import stats
from grokcore.core import linear as L
from grokcore.results import tables
from grokcore.core.config import ConfigError

SMALL = dict(n=20, s=2, N=12, lr=0.5, init_scale=1e-6, steps=3000, eval_every=100, tol=1e-2)


def test_members_are_cartesian_product_of_grid_and_seeds():
    cfg = L.LinearConfig(lr=(0.1, 0.2), beta=(1e-5, 1e-4, 1e-3), seeds=2)
    ms = cfg.members()
    assert len(ms) == 12
    assert {(m["lr"], m["beta"], m["seed"]) for m in ms} == {(a, b, s) for a in (0.1, 0.2) for b in (1e-5, 1e-4, 1e-3) for s in (0, 1)}


def test_hash_ignores_spelling_and_tracks_values():
    assert L.LinearConfig(beta=1e-5).hash() == L.LinearConfig(beta=(1e-5,)).hash()
    assert L.LinearConfig(beta=1e-5).hash() != L.LinearConfig(beta=1e-4).hash()


def test_invalid_configs_name_the_problem():
    with pytest.raises(ConfigError, match="nuclear"):
        L.validate(L.LinearConfig(reg="nuclear"))
    with pytest.raises(ConfigError, match="N must be"):
        L.validate(L.LinearConfig(N=101))


def test_l1_recovers_sparse_signal_after_memorising_and_l2_does_not():
    ds = L.train_linear(L.LinearConfig(reg="l1", beta=5e-4, seeds=(1, 2), **SMALL))
    df = tables.linear_members_table(ds)
    assert df["grokked"].all(), df
    assert (df["t2"] > df["t1"]).all()  # memorisation comes first
    ds2 = L.train_linear(L.LinearConfig(reg="l2", beta=1e-3, seeds=(1, 2), **SMALL))
    df2 = tables.linear_members_table(ds2)
    assert (df2["final_train_err"] < 1e-2).all()  # it fits the data ...
    assert (df2["final_test_err"] > 0.1).all()    # ... with the wrong signal


def test_ensemble_matches_separate_runs():
    both = L.train_linear(L.LinearConfig(reg="l1", beta=(5e-4, 1e-3), seeds=1, **SMALL))
    alone = L.train_linear(L.LinearConfig(reg="l1", beta=1e-3, seeds=1, **SMALL))
    np.testing.assert_allclose(both["test_err"].isel(member=1).values, alone["test_err"].isel(member=0).values, rtol=1e-10)


def test_coherent_rows_are_basis_vectors_and_mask_has_N_entries():
    cfg = L.LinearConfig(n=20, s=2, N=10, tau=0.5)
    X, w, _ = L._instance(cfg, cfg.members()[0])
    assert np.allclose(np.sort(np.abs(X[:5]), 1)[:, -1], 1.0) and np.count_nonzero(X[:5]) == 5
    mc = L.LinearConfig(problem="matrix", reg="nuclear", N=40, tau=1.0)
    mask, W, _ = L._instance(mc, mc.members()[0])
    assert mask.sum() == 40 and np.linalg.matrix_rank(W.reshape(10, 10)) == 2


def test_results_are_cached_in_the_store(tmp_path):
    cfg = L.LinearConfig(reg="l1", beta=5e-4, **{**SMALL, "steps": 200})
    a = run(cfg, root=tmp_path, progress=False)
    b = run(cfg, root=tmp_path, progress=False)
    assert a.attrs["cached"] == 0 and b.attrs["cached"] == 1
    np.testing.assert_array_equal(a["test_err"].values, b["test_err"].values)


def test_slope_of_inverse_law_is_minus_one():
    ab = np.array([1e-5, 1e-4, 1e-3] * 3)
    df = pd.DataFrame({"alpha_beta": ab, "delay": 3.0 / ab * np.repeat([1.0, 1.1, 0.9], 3), "seed": np.repeat([0, 1, 2], 3)})
    point, lo, hi = stats.slope_ci(df)
    assert point == pytest.approx(-1.0, abs=1e-6) and lo <= -1.0 + 1e-9 and hi >= -1.0 - 1e-9
