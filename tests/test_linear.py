"""The linear problems of P2: batching, instances, recovery and the scaling fit."""
import numpy as np
import pandas as pd
import pytest

from grokcore import run
from grokcore.claims import stats
from grokcore.core import linear_problems as L
from grokcore.results import tables
from grokcore.core.config import ConfigError

SMALL = dict(n=20, s=2, N=12, lr=0.3, init_scale=2e-7, steps=3000, eval_every=100, tol=1e-2)  # authors scaling


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
    ds = L.train_linear(L.LinearConfig(reg="l1", beta=2e-4, seeds=(1, 2), **SMALL))
    df = tables.linear_members_table(ds)
    assert df["reached"].all(), df
    assert (df["t_grok"] > df["t_train"]).all()  # memorisation comes first
    ds2 = L.train_linear(L.LinearConfig(reg="l2", beta=4e-4, seeds=(1, 2), **SMALL))
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


def test_unit_scaling_maps_onto_authors_scaling(monkeypatch):
    """(alpha, beta, init) under 'unit' == (alpha*N/n, beta*sqrt(n)/N, init/sqrt(n)) under 'authors':
    the same relative errors at every step, and w_authors = w_unit / sqrt(n), with the same init signs."""
    n, N, alpha, beta, init = 20, 12, 0.5, 5e-4, 1e-6
    unit = L.LinearConfig(reg="l1", n=n, s=2, N=N, lr=alpha, beta=beta, init_scale=init, steps=2000,
                          eval_every=50, tol=1e-2, early_stop=False, seeds=(1,), scaling="unit")
    authors = unit.replace(scaling="authors", lr=alpha * N / n, beta=beta * np.sqrt(n) / N, init_scale=init / np.sqrt(n))
    real = L._instance

    def all_positive(cfg, m):   # the authors' init signs (all +) for the 'unit' run too
        obs, w, a0 = real(cfg, m)
        return obs, w, np.abs(a0)

    monkeypatch.setattr(L, "_instance", all_positive)
    du, da = L.train_linear(unit), L.train_linear(authors)
    np.testing.assert_allclose(du["test_err"].values, da["test_err"].values, rtol=1e-8)
    np.testing.assert_allclose(du["train_err"].values, da["train_err"].values, rtol=1e-8)
    np.testing.assert_allclose(du["l1_norm"].values / np.sqrt(n), da["l1_norm"].values, rtol=1e-8)
    assert du["test_err"].values[0, -1] < 1e-2   # a trajectory that goes somewhere


def test_authors_scaling_draws_the_stated_variances_and_positive_init():
    cfg = L.LinearConfig(n=400, s=50, N=200, init_scale=1e-6)
    X, w, a0 = L._instance(cfg, cfg.members()[0])
    assert X.var() == pytest.approx(1 / 200, rel=0.05)
    assert w[w != 0].std() == pytest.approx(1 / np.sqrt(400), rel=0.3)
    assert np.all(a0 == 1e-6)
    with pytest.raises(ConfigError, match="scaling"):
        L.validate(cfg.replace(scaling="other"))


def test_basis_pursuit_recovers_easy_instances_and_not_impossible_ones():
    easy = L.LinearConfig(n=40, s=2, N=25)
    assert L.basis_pursuit_error(easy, easy.members()[0]) < 1e-6 and L.recoverable(easy).all()
    # tau = 1: every measurement is one coordinate; 5 of 40 coordinates cannot see a 3-sparse signal
    blind = L.LinearConfig(n=40, s=3, N=5, tau=1.0, seeds=(0, 1, 2, 3))
    assert not L.recoverable(blind).all()


def test_plateau_steps_follow_the_authors_rule():
    steps = [0, 10, 20, 30, 40, 50, 60]
    err = np.array([[1.0, 0.5, 0.104, 0.2, 0.101, 0.1, 0.1],     # a single record inside does not count: a pair
                    [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4],          # still falling: final checkpoint, censored
                    [1.0, 0.3, 0.02, 0.0205, 0.02, 0.02, 0.02]])   # settles early
    t, settled = L.plateau_steps(steps, err)
    assert list(t) == [40, 60, 20] and list(settled) == [False, False, True]
    # a plateau entered before the last three records is settled
    t, settled = L.plateau_steps(steps + [70, 80], np.c_[err, err[:, -1:], err[:, -1:]])
    assert t[0] == 40 and settled[0]


def test_matrix_instance_with_a_row_seen_fewer_than_rank_times_is_flagged():
    mask = np.ones((10, 10))
    assert L.completable(mask.ravel(), 10, 10, 2)
    mask[3, :] = 0
    mask[3, 7] = 1                                  # row 3 observed once, rank 2: cannot be completed
    assert not L.completable(mask.ravel(), 10, 10, 2)
    rows, cols = L.observed_counts(mask.ravel(), 10, 10)
    assert rows[3] == 1 and cols.min() == 9
    # recoverable() applies it to each matrix member: at N = 20 of 100 some row or column is short
    cfg = L.LinearConfig(problem="matrix", reg="nuclear", N=(20, 100), seeds=(0, 1))
    ok = L.recoverable(cfg)
    assert not any(L.completable(L._instance(cfg, m)[0], 10, 10, 2) for m in cfg.members() if m["N"] == 20)
    assert not ok[[m["N"] == 20 for m in cfg.members()]].any() and ok[[m["N"] == 100 for m in cfg.members()]].all()


def test_nuclear_norm_minimisation_recovers_what_the_observations_determine():
    # every entry observed: the programme returns W* itself
    full = L.LinearConfig(problem="matrix", reg="nuclear", N=100, normalize=True)
    assert L.nuclear_norm_error(full, full.members()[0]) < 1e-8
    # 36 degrees of freedom in a 10x10 rank-2 matrix: 30 entries cannot pin it down, 90 do
    few = L.LinearConfig(problem="matrix", reg="nuclear", N=(30, 90), seeds=(0, 1, 2), normalize=True)
    err = {(m["N"], m["seed"]): L.nuclear_norm_error(few, m) for m in few.members()}
    assert all(err[30, s] > 0.1 for s in (0, 1, 2)) and all(err[90, s] < 1e-6 for s in (0, 1, 2))
    # every row and column seen >= rank times is not enough: at N = 70 with uniform entries some
    # instances pass the count and still fail the convex programme, and recoverable() flags them
    mid = L.LinearConfig(problem="matrix", reg="nuclear", N=70, seeds=tuple(range(6)), normalize=True, tol=1e-2)
    counted = [L.completable(L._instance(mid, m)[0], 10, 10, 2) for m in mid.members()]
    ok = L.recoverable(mid)
    assert all(counted) and not ok.all()
    assert list(ok) == [L.nuclear_norm_error(mid, m) <= 1e-2 for m in mid.members()]
    assert np.isnan(L.nuclear_norm_error(L.LinearConfig(), L.LinearConfig().members()[0]))


def test_normalize_scales_w_star_to_the_authors_norm_and_keeps_old_hashes():
    cfg = L.LinearConfig(problem="matrix", reg="nuclear", N=70)
    assert "normalize" not in cfg.canonical_json()          # stored results keep their hash
    _, w, _ = L._instance(cfg.replace(normalize=True), cfg.members()[0])
    assert np.linalg.norm(w) == pytest.approx(10.0)
    assert cfg.replace(normalize=True).hash() != cfg.hash()


def test_numpy_loop_matches_the_torch_loop():
    """The CPU path (NumPy) and the PyTorch path compute the same updates: curves and t_train/t_grok agree.
    The nuclear-norm subgradient U V^T is not unique where singular values repeat (the +-init sign
    matrix at step 0), so the two LAPACKs may pick different ones: there the curves agree to 1e-3 (and 1e-4 absolute, the
    subgradient's jitter at the error floor)."""
    cases = [L.LinearConfig(reg="l1", beta=(2e-4, 1e-3), seeds=(1, 2), **SMALL),
             L.LinearConfig(reg="l2", beta=4e-4, seeds=1, **SMALL),
             L.LinearConfig(problem="matrix", reg="nuclear", N=60, lr=0.5, beta=1e-3, steps=600, eval_every=50, seeds=(0, 1)),
             L.LinearConfig(reg="none", beta=0.0, depth=3, seeds=1, **{**SMALL, "init_scale": 0.1})]
    for cfg in cases:
        fast, ref = L._train_numpy(cfg), L._train(cfg, "cpu")
        rtol, atol = (1e-3, 1e-4) if cfg.reg == "nuclear" else (1e-8, 1e-12)   # nuclear: + the floor's jitter
        for v in ("train_err", "test_err", "l1_norm", "l2_norm"):
            np.testing.assert_allclose(fast[v].values, ref[v].values, rtol=rtol, atol=atol, err_msg=v)
        for v in ("t_train", "t_grok"):
            np.testing.assert_array_equal(fast[v].values, ref[v].values)


def test_a_results_file_stored_with_t1_t2_is_read_with_t_train_t_grok(tmp_path):
    """Linear problems stored before the rename (times named t1 / t2) are read by `store.load`
    under today's names, with the same values, so stored runs need no retraining."""
    from grokcore.results import store
    cfg = L.LinearConfig(reg="l1", beta=2e-4, seeds=1, **{**SMALL, "steps": 300})
    ds = L.train_linear(cfg)
    old = ds.rename({"t_train": "t1", "t_grok": "t2"})
    path = store.save(old, tmp_path / "old.nc")
    back = store.load(path, cfg)
    assert "t1" not in back and "t2" not in back
    np.testing.assert_array_equal(back["t_train"].values, ds["t_train"].values)
    np.testing.assert_array_equal(back["t_grok"].values, ds["t_grok"].values)
    assert L.upgrade(ds) is ds            # a file with today's names is left as it is


def test_recoverable_by_n_counts_instances_and_unrecoverable_lists_the_programmes_error():
    import pandas as pd
    from grokcore.claims import p2
    cfg = L.LinearConfig(problem="matrix", reg="nuclear", N=70, beta=(1e-3, 1e-2), seeds=tuple(range(4)),
                         normalize=True, tol=1e-2)
    by_n = p2.recoverable_by_n(cfg, [30, 70, 100])
    assert list(by_n.N) == [30, 70, 100] and (by_n.instances == 4).all()
    assert by_n.recoverable.tolist()[0] == 0 and by_n.recoverable.tolist()[2] == 4
    ok70 = L.recoverable(cfg.replace(beta=1e-3))
    assert by_n.recoverable.tolist()[1] == int(ok70.sum())
    # a member table: two members per instance; the unrecoverable instances come back once each,
    # with nuclear-norm minimisation's error (above tol) beside the members' final errors
    table = pd.DataFrame({"seed": [m["seed"] for m in cfg.members()], "N": 70, "final_test_err": 0.5,
                          "recoverable": L.recoverable(cfg)})
    bad = p2.unrecoverable(table, cfg)
    assert sorted(bad.seed) == sorted(s for s, ok in zip(range(4), ok70) if not ok)
    assert (bad.convex_error > 1e-2).all() and (bad.final_err_max == 0.5).all()


def test_instance_checks_follow_the_seeds_a_dataset_was_trained_on():
    # the replication moves seeds inside the executor; a table built from the chapter's config must
    # still check the instances the members trained on (here seeds 100-103, not 0-3)
    from grokcore.claims import p2
    from grokcore.core.config import with_seed_offset
    cfg = L.LinearConfig(problem="matrix", reg="nuclear", N=70, seeds=(0, 1, 2, 3), normalize=True, tol=1e-2,
                         steps=20, eval_every=10)
    moved = with_seed_offset(cfg, 100)
    ds = L.train_linear(moved)
    assert p2.run_config(ds) == moved
    t = p2.linear_table(ds, cfg)
    assert list(t.seed) == [100, 101, 102, 103]
    assert list(t.recoverable) == list(L.recoverable(moved)) != list(L.recoverable(cfg))


@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_products_of_the_other_factors_are_the_reduction_bit_for_bit(depth):
    """The depth-L update multiplies each factor's gradient by the product of the other factors. The
    loop forms those products by views and multiplies (`_products_but_one`), fewer operations per step
    than gathering and reducing; the results are the reduction's bit for bit, so runs stored before
    the change are the same runs."""
    A = np.random.default_rng(depth).standard_normal((depth, 4, 7)) * 1.7
    rest = [[k for k in range(depth) if k != l] for l in range(depth)]
    got = L._products_but_one(A, rest)
    for l, r in enumerate(rest):
        np.testing.assert_array_equal(got[l], A[r].prod(0))
    np.testing.assert_array_equal(got[-1] * A[-1], A.prod(0))      # w itself, as the loop forms it
