"""Fourier structure of token embeddings along the residue axis (P1's mechanism analysis).

A network that solves (a + b) mod p with the "clock" algorithm embeds token a through
cos(2*pi*k*a/p) and sin(2*pi*k*a/p) for a few key frequencies k, so the DFT of the embedding
matrix along its residue axis concentrates its energy in those few k.

Convention [P1, as specified in papers.md]: energy(k) = sum over embedding columns of |F_k|^2,
one-sided k = 0..(p-1)/2 (k and p-k folded together, DC counted once), and the share of the
top-`top` frequencies includes DC.
"""
from __future__ import annotations

import numpy as np
import xarray as xr


def spectrum(W: np.ndarray) -> np.ndarray:
    """Energy per frequency of an embedding W (..., p, d) along its residue axis.

    Returns (..., p//2 + 1): index k holds |F_k|^2 + |F_{p-k}|^2 summed over the d columns
    (for k = 0, and k = p/2 when p is even, the single term)."""
    W = np.asarray(W, dtype=np.float64)
    p = W.shape[-2]
    F = np.fft.fft(W, axis=-2)  # (..., p, d)
    power = (np.abs(F) ** 2).sum(-1)  # (..., p)
    n = p // 2 + 1
    one = power[..., :n].copy()
    mirror = power[..., p - np.arange(1, n)]  # |F_{p-k}|^2 for k = 1..n-1
    if p % 2 == 0:
        mirror[..., -1] = 0.0  # Nyquist has no partner
    one[..., 1:] += mirror
    return one


def top_share(energy: np.ndarray, top: int = 5) -> np.ndarray:
    """Share of the total energy held by the `top` largest frequencies (DC included)."""
    e = np.asarray(energy, dtype=np.float64)
    total = e.sum(-1)
    largest = np.sort(e, axis=-1)[..., ::-1][..., :top].sum(-1)
    return np.where(total > 0, largest / np.where(total > 0, total, 1.0), np.nan)


def embedding(ds: xr.Dataset, p: int | None = None) -> np.ndarray:
    """The final token embeddings (E, p, d) of a results Dataset saved with save_params=True.
    Rows beyond p (a Transformer's '=' token) are dropped."""
    if "param_W_emb" not in ds:
        raise ValueError("no param_W_emb in this results file; rerun its config with save_params=True")
    W = ds["param_W_emb"].values  # (E, vocab, d)
    if p is None:
        import json
        p = json.loads(ds.attrs["config"])["p"]
    return W[:, :p]


def embedding_spectra(ds: xr.Dataset, top: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Per member: the normalised spectrum (E, p//2 + 1) and the top-`top` share (E,)."""
    e = spectrum(embedding(ds))
    return e / e.sum(-1, keepdims=True), top_share(e, top)


def value_at(ds: xr.Dataset, var: str, at: np.ndarray) -> np.ndarray:
    """Per member, the curve `var` at the first evaluated step >= at[member] (NaN where at is NaN),
    e.g. value_at(ds, 'rms', ds['t_grok'].values): the parameter RMS at T_grok."""
    steps = ds["step"].values
    curve = ds[var].values  # (E, S)
    out = np.full(len(at), np.nan)
    for i, t in enumerate(np.asarray(at, dtype=float)):
        if np.isfinite(t):
            j = int(np.searchsorted(steps, t))
            if j < len(steps):
                out[i] = curve[i, j]
    return out


def group_cv(groups) -> float:
    """Coefficient of variation (std, ddof=1, over mean) of the group means; NaN for < 2 groups.
    `groups`: a list of 1-D arrays (e.g. the RMS at T_grok of each config's grokked members)."""
    means = np.array([np.mean(g) for g in groups if len(g)])
    if len(means) < 2 or means.mean() == 0:
        return float("nan")
    return float(means.std(ddof=1) / means.mean())


def group_cv_ci(groups, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of group_cv, resampling the members within each group."""
    groups = [np.asarray(g, float) for g in groups if len(g)]
    if len(groups) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    boots = [group_cv([g[rng.integers(0, len(g), len(g))] for g in groups]) for _ in range(n_boot)]
    q = (1 - level) / 2
    return (float(np.nanquantile(boots, q)), float(np.nanquantile(boots, 1 - q)))


def null_top_share(p: int, d: int, top: int = 5, n: int = 200, seed: int = 0) -> float:
    """The null for a top-`top` share: its median over `n` random Gaussian embeddings (p, d) with
    no structure along the residue axis. Near top / (p//2 + 1) for wide d, higher for narrow d
    and small p (e.g. about 10% at p = 97, d = 256, far more at p = 23)."""
    W = np.random.default_rng(seed).normal(size=(n, p, d))  # (n, p, d)
    return float(np.median(top_share(spectrum(W), top)))
