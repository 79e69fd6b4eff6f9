import numpy as np
import xarray as xr

from grokcore.claims.p1 import fourier


def cosine_embedding(p, k, d=8, seed=0):
    """Every column a cosine/sine of frequency k with a random phase and amplitude."""
    rng = np.random.default_rng(seed)
    a = np.arange(p)[:, None]
    return rng.uniform(0.5, 2, d) * np.cos(2 * np.pi * k * a / p + rng.uniform(0, 2 * np.pi, d))


def test_pure_cosine_embedding_has_all_energy_in_its_frequency():
    p, k = 97, 7
    e = fourier.spectrum(cosine_embedding(p, k))
    assert e.shape == (p // 2 + 1,)
    assert e[k] / e.sum() > 0.999
    assert fourier.top_share(e, 1) > 0.999


def test_random_embedding_spreads_energy():
    W = np.random.default_rng(0).normal(size=(97, 256))
    share = fourier.top_share(fourier.spectrum(W), 5)
    # white noise: ~ 5 of 49 one-sided bins hold ~ 10% of the energy (fourier.null_top_share)
    assert 0.05 < share < 0.2


def test_spectrum_conserves_energy_parseval():
    W = np.random.default_rng(1).normal(size=(3, 23, 5))  # (E, p, d), p odd
    e = fourier.spectrum(W)
    assert e.shape == (3, 12)
    np.testing.assert_allclose(e.sum(-1), 23 * (W ** 2).sum((-2, -1)))


def test_dc_counts_as_a_frequency():
    p = 11
    W = np.ones((p, 4)) + 1e-3 * cosine_embedding(p, 3, d=4)
    assert fourier.spectrum(W).argmax() == 0


def test_three_frequency_embedding_top5_share_is_one():
    p = 31
    W = np.concatenate([cosine_embedding(p, k, d=4, seed=k) for k in (2, 5, 11)], axis=1)
    assert set(np.argsort(fourier.spectrum(W))[-3:]) == {2, 5, 11}
    assert fourier.top_share(fourier.spectrum(W), 5) > 0.999


def test_value_at_reads_curve_at_first_step_at_or_after_time():
    ds = xr.Dataset({"rms": (("member", "step"), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))},
                    coords={"step": [0, 10, 20]})
    out = fourier.value_at(ds, "rms", np.array([10.0, np.nan]))
    assert out[0] == 2.0 and np.isnan(out[1])
    assert fourier.value_at(ds, "rms", np.array([15.0, 25.0]))[0] == 3.0


def test_group_cv_is_zero_for_equal_means_and_grows_with_spread():
    same = [np.array([1.0, 1.2]), np.array([1.1, 1.1]), np.array([0.9, 1.3])]
    assert abs(fourier.group_cv(same)) < 1e-12
    spread = [np.array([1.0]), np.array([2.0]), np.array([3.0])]
    assert abs(fourier.group_cv(spread) - 0.5) < 1e-12
    assert np.isnan(fourier.group_cv([np.array([1.0])]))
    groups = [np.array([1.0, 1.1]), np.array([2.0, 2.1]), np.array([3.0, 2.9])]
    lo, hi = fourier.group_cv_ci(groups)
    assert 0.4 < lo <= fourier.group_cv(groups) <= hi < 0.6


def test_embedding_spectra_drops_extra_tokens_and_reads_p_from_config():
    p, k = 13, 4
    W = np.stack([cosine_embedding(p, k, d=6, seed=s) for s in range(2)])  # (E, p, d)
    W = np.concatenate([W, np.full((2, 1, 6), 50.0)], axis=1)  # an '=' token row, not a residue
    ds = xr.Dataset({"param_W_emb": (("member", "W_emb_0", "W_emb_1"), W)}, attrs={"config": '{"p": 13}'})
    spec, share = fourier.embedding_spectra(ds, top=1)
    assert spec.shape == (2, p // 2 + 1)
    np.testing.assert_allclose(spec.sum(-1), 1.0)
    assert (spec.argmax(-1) == k).all() and (share > 0.999).all()


def test_null_top_share_is_near_top_over_bins_for_wide_embeddings_and_higher_at_small_p():
    wide = fourier.null_top_share(97, 256, n=50)
    assert 0.08 < wide < 0.15
    assert fourier.null_top_share(23, 16, n=50) > 0.4
