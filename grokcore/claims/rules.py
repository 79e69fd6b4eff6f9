"""The verdict rules' shared machinery: the definitions every rule uses, the registry of rules by
claim id, and firmness (how often a rule gives the same verdict on resampled seeds).

Definitions (the book's introduction states the same):
- *grokked*: memorised (train >= 99%) and then generalised (test >= 99%) with
  T_grok >= K_DELAY * T_train. Reaching both with T_grok < K_DELAY * T_train is *generalised
  without delay*, its own outcome, not grokking.
- A member that memorised and never generalised is right-censored at its budget: its delay is
  "more than budget - T_train", never dropped. A member that never memorised has no delay.
- A value claim (ratio, slope, level) is *reproduced* when its 95% CI lies inside a stated band
  around the paper's value; *not reproduced* when the CI lies wholly outside the band;
  *inconclusive* when the CI is missing or wider than the band; *partially reproduced* otherwise.
  Ties are not wins.

A rule is a function `fn(df, **options) -> Verdict` of a tidy per-member table (one row per
member, a column naming each configuration); `@rule(claim_id, by=[columns])` registers it with
the columns that define its configurations, which is what `firmness` resamples within.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

REPRODUCED, PARTIAL, NOT, UNCLEAR = ("reproduced", "partially reproduced", "not reproduced",
                                     "inconclusive at this profile")
VERDICTS = (REPRODUCED, PARTIAL, NOT, UNCLEAR)
K_DELAY = 2.0           # grokked: T_grok >= K_DELAY * T_train
FRAGILE = 0.8           # a verdict that fewer resamples than this reproduce is fragile
N_RESAMPLES = 200      # seed resamples per firmness estimate
OUTCOMES = ("grokked", "no delay", "not generalised", "not memorised", "diverged")


# ------------------------------------------------------------------------------ outcomes
def outcomes(df: pd.DataFrame, k: float = K_DELAY) -> pd.DataFrame:
    """The member table with `outcome` (one of OUTCOMES), `grokked` (outcome == 'grokked'),
    `event` (generalised within the budget) and `delay_c` (the delay, or budget - T_train for a
    censored member; NaN for one that never memorised)."""
    d = df.copy()
    tr, te = d["t_train"].to_numpy(float), d["t_grok"].to_numpy(float)
    budget = d["budget"].to_numpy(float) if "budget" in d else np.full(len(d), np.nan)
    div = d["dnf"].eq("diverged").to_numpy() if "dnf" in d else np.zeros(len(d), bool)
    out = np.where(~np.isfinite(tr), "not memorised",
                   np.where(~np.isfinite(te), "not generalised",
                            np.where(te >= k * np.maximum(tr, 1.0), "grokked", "no delay")))
    out = np.where(div & ~np.isfinite(te), "diverged", out)
    d["outcome"] = out
    d["grokked"] = out == "grokked"
    d["event"] = np.isfinite(tr) & np.isfinite(te)
    with np.errstate(invalid="ignore"):
        d["delay_c"] = np.where(d["event"], te - tr, np.where(np.isfinite(tr), budget - tr, np.nan))
    return d


def counts(d: pd.DataFrame) -> str:
    """'3 grokked, 1 no delay, 1 not generalised' (outcomes present only)."""
    c = d["outcome"].value_counts()
    return ", ".join(f"{int(c[o])} {o}" for o in OUTCOMES if o in c)


# ------------------------------------------------------------------------------ censored statistics
def km_median(times, events) -> float:
    """Kaplan-Meier median of right-censored times (event False = censored at that time): the
    first time the survival estimate falls to 0.5 or below; inf when it never does (more than
    half the members are still waiting at their censoring time); NaN with no members."""
    t, e = np.asarray(times, float), np.asarray(events, bool)
    ok = np.isfinite(t)
    t, e = t[ok], e[ok]
    if len(t) == 0:
        return float("nan")
    order = np.lexsort((~e, t))  # events before censorings at the same time
    t, e = t[order], e[order]
    at_risk = len(t) - np.arange(len(t))
    surv = np.cumprod(np.where(e, 1 - 1 / at_risk, 1.0))
    hit = np.nonzero(surv <= 0.5 + 1e-12)[0]
    return float(t[hit[0]]) if len(hit) else float("inf")


def km_floor(times, events) -> float:
    """What the data can vouch for about the Kaplan-Meier median: the median itself when it is
    finite; when it is not (more than half the members censored), the largest observed time, the
    most that is known ("the median exceeds this"), not the budget. A member censored 200 steps
    after memorising says its delay exceeds 200 steps, not that it exceeds every finite delay."""
    m = km_median(times, events)
    if not math.isinf(m):
        return m
    t = np.asarray(times, float)
    t = t[np.isfinite(t)]
    return float(t.max()) if len(t) else float("nan")


def km_median_ci(times, events, n_boot: int = 1000, level: float = 0.95, seed: int = 0):
    """Percentile bootstrap CI of `km_median` over members (inf bounds stay inf)."""
    t, e = np.asarray(times, float), np.asarray(events, bool)
    ok = np.isfinite(t)
    t, e = t[ok], e[ok]
    if len(t) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(t), size=(n_boot, len(t)))
    boots = np.array([km_median(t[i], e[i]) for i in idx])
    q = (1 - level) / 2
    return (float(np.quantile(boots, q)), float(np.quantile(boots, 1 - q)))


# ------------------------------------------------------------------------------ value claims
def band_verdict(lo: float, hi: float, band_lo: float, band_hi: float, log: bool = True) -> str:
    """Equivalence against the band [band_lo, band_hi] around the paper's value (see module doc).
    `log`: widths compared on a log scale (ratios, times)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        return UNCLEAR
    if hi < band_lo or lo > band_hi:
        return NOT
    if band_lo <= lo and hi <= band_hi:
        return REPRODUCED
    width = (math.log(hi / lo) if lo > 0 else math.inf) if log else hi - lo
    band = math.log(band_hi / band_lo) if log else band_hi - band_lo
    return UNCLEAR if width > band else PARTIAL


def ratio_band_verdict(lo: float, hi: float, paper: float, factor: float = 1.5) -> str:
    """A ratio claim: the band is [paper / factor, paper * factor]."""
    return band_verdict(lo, hi, paper / factor, paper * factor, log=True)


def combine(*verdicts: str) -> str:
    """One verdict for a claim with parts: reproduced when every part is; inconclusive when any
    part is inconclusive and none is 'not reproduced'; not reproduced when none is (even
    partially) reproduced; partially reproduced otherwise."""
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    if any(v == UNCLEAR for v in verdicts) and NOT not in verdicts:
        return UNCLEAR
    if not any(v in (REPRODUCED, PARTIAL) for v in verdicts):
        return NOT
    return PARTIAL


# ------------------------------------------------------------------------------ formatting
def fmt(v, digits: int = 3) -> str:
    """A number for a page or the ledger: 3 significant digits, thousands as 12.3k, no NaN."""
    if v is None:
        return "n/a"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "n/a"
    if math.isinf(f):
        return "> budget" if f > 0 else "-inf"
    if abs(f) >= 1e4:
        return f"{f / 1e3:.{max(digits - 2, 0)}f}k"
    if abs(f) >= 1e3:
        return f"{f:,.0f}"
    if 0 < abs(f) < 1e-2:
        return f"{f:.{max(digits - 1, 0)}e}"
    return f"{f:.{digits}g}"


# ------------------------------------------------------------------------------ the registry
@dataclass
class Verdict:
    verdict: str
    our_value: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    n_seeds: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)  # numbers a chapter may glue

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; valid: {', '.join(VERDICTS)}")


@dataclass
class Rule:
    claim_id: str
    fn: Callable
    by: tuple = ()
    text: str = ""


RULES: dict[str, Rule] = {}


def rule(claim_id: str, by=()):
    """Register `fn` as the rule of `claim_id`; `by`: the columns naming configurations."""
    def deco(fn):
        RULES[claim_id] = Rule(claim_id, fn, tuple(by), inspect.cleandoc(fn.__doc__ or ""))
        return fn
    return deco


# ------------------------------------------------------------------------------ firmness
def resample(df: pd.DataFrame, by, rng, size: float = 1.0) -> pd.DataFrame:
    """Members drawn with replacement within each configuration (`by` columns), `size` times
    as many as it has."""
    groups = [g for _, g in df.groupby(list(by), sort=False, dropna=False)] if by else [df]
    parts = [g.iloc[rng.integers(0, len(g), max(1, int(round(size * len(g)))))] for g in groups if len(g)]
    return pd.concat(parts, ignore_index=True) if parts else df.iloc[:0]


def firmness(r: Rule, df: pd.DataFrame, verdict: str, n: int = 200, seed: int = 0,
             size: float = 1.0, **opts) -> tuple[float, dict]:
    """Share of `n` seed resamples (fixed generator seed) on which the rule gives `verdict`, and
    the share of each verdict. Reruns the rule only, never the training."""
    rng = np.random.default_rng(seed)
    got = [r.fn(resample(df, r.by, rng, size), **opts).verdict for _ in range(n)]
    dist = {v: got.count(v) / n for v in VERDICTS if got.count(v)}
    return dist.get(verdict, 0.0), dist


def seeds_to_firm(r: Rule, df: pd.DataFrame, verdict: str, n_seeds, n: int = 100, **opts) -> str:
    """The seed count at which resamples drawn with 2x, 4x or 8x as many members per configuration
    (from the same members) give `verdict` at least FRAGILE of the time; '' when none does."""
    for mult in (2, 4, 8):
        share, _ = firmness(r, df, verdict, n=n, size=mult, **opts)
        if share >= FRAGILE:
            return f"about {int(mult * n_seeds)}" if n_seeds else f"{mult}x"
    return ""
