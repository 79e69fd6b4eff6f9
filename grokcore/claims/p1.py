"""Part I (P1, "A Systematic Empirical Study of Grokking") helpers: the paper's configs and
the verdict rules its chapters apply. The rules are plain functions of measured numbers so
they can be tested and read in one place; the chapters state them in words as well.
"""
from __future__ import annotations

import math

from ..core.config import RunConfig

UNCLEAR = "inconclusive at this profile"

# P1's shared protocol: (a+b) mod 97, one fixed 20% split, thresholds 99%/99%.
PROTOCOL = dict(task="add", p=97, frac=0.2, split="shared", split_seed=0, threshold=0.99)


def mlp(width: int = 256, depth: int = 2, act: str = "gelu", **kw) -> RunConfig:
    """P1's MLP: summed shared embedding, `depth` GELU layers, SGD(momentum 0.9, lr 1e-2, wd 2e-3).
    Keyword arguments override anything (e.g. optimizer, lr, residual=True, steps, seeds)."""
    base = dict(PROTOCOL, model="mlp", combine="sum", embed=width, width=width, depth=depth, act=act,
                optimizer="sgd", momentum=0.9, lr=1e-2, wd=2e-3)
    return RunConfig(**{**base, **kw})


def transformer(width: int = 512, d_mlp: int = 2048, **kw) -> RunConfig:
    """P1's 1-layer pre-LN Transformer on (a, b), mean-pooled; AdamW lr 1e-3, wd 1.0, clip 1.0."""
    base = dict(PROTOCOL, model="transformer", depth=1, width=width, heads=4, d_mlp=d_mlp, act="gelu",
                norm="pre", readout="mean", optimizer="adamw", lr=1e-3, wd=1.0, clip=1.0)
    return RunConfig(**{**base, **kw})


def ratio_verdict(lo: float, hi: float, paper: float, factor: float = 2.0, n_min_ok: bool = True) -> str:
    """Verdict for a ratio claim from the bootstrap 95% CI [lo, hi] of our ratio.

    reproduced: the CI contains the paper's value and lies inside [paper/factor, paper*factor];
    partially reproduced: the CI overlaps that band but misses the rule above (too wide, or
    it excludes the paper's value); not reproduced: the CI lies wholly outside the band;
    inconclusive: no CI (too few grokked members) or `n_min_ok` is False.
    """
    if not n_min_ok or not (math.isfinite(lo) and math.isfinite(hi)):
        return UNCLEAR
    band = (paper / factor, paper * factor)
    if lo <= paper <= hi and band[0] <= lo and hi <= band[1]:
        return "reproduced"
    if hi < band[0] or lo > band[1]:
        return "not reproduced"
    return "partially reproduced"


def groks(n_grokked: int, n: int, majority: float = 0.5) -> bool | None:
    """Whether a configuration 'groks' as a group: at least `majority` of its seeds grokked.
    None when it has no members (nothing to judge)."""
    return None if n <= 0 else n_grokked / n >= majority


def pattern_verdict(observed: dict, expected: dict) -> str:
    """Compare per-config group outcomes (True groks / False fails / None unknown) to the paper's.

    reproduced: every config matches; partially reproduced: some but not all match; not
    reproduced: none matches; inconclusive: an outcome is unknown, or no config groks at all
    (then the budget, not the variable swept, may be what stops every config).
    """
    if any(observed.get(k) is None for k in expected) or not any(observed[k] for k in expected):
        return UNCLEAR
    hits = [observed[k] == v for k, v in expected.items()]
    if all(hits):
        return "reproduced"
    return "partially reproduced" if any(hits) else "not reproduced"


def within(value: float, lo: float, hi: float, slack: float = 0.0) -> bool:
    """value inside [lo*(1-slack), hi*(1+slack)]; False for NaN."""
    return math.isfinite(value) and lo * (1 - slack) <= value <= hi * (1 + slack)


def combine_verdicts(*verdicts: str) -> str:
    """One verdict for a claim with several parts: reproduced when every part is; inconclusive
    when every part is; not reproduced when no part is (even partially) reproduced and at least
    one is not; partially reproduced otherwise."""
    if all(v == "reproduced" for v in verdicts):
        return "reproduced"
    if all(v == UNCLEAR for v in verdicts):
        return UNCLEAR
    if not any(v in ("reproduced", "partially reproduced") for v in verdicts):
        return "not reproduced"
    return "partially reproduced"


def reversal_verdict(fewer: int, more: int, any_grokked: bool) -> str:
    """Regime-A reversal: reproduced when the activation that is fastest in regime B (`fewer`
    grokked seeds expected) groks in strictly fewer seeds than the other (`more`); inconclusive
    when nothing in the regime grokked (the budget may be what stops every activation)."""
    if not any_grokked:
        return UNCLEAR
    return "reproduced" if fewer < more else "not reproduced"
