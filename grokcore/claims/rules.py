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

import contextlib
import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .stats import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE, combine, km_floor, km_median  # noqa: F401  (re-exported)
from .stats import min_per_config

VERDICTS = (REPRODUCED, PARTIALLY_REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
K_DELAY = 2.0           # grokked: T_grok >= K_DELAY * T_train
FRAGILE = 0.8           # a verdict that fewer resamples than this reproduce is fragile: inconclusive
N_RESAMPLES = 200      # seed resamples per firmness estimate
COLLAPSE_ACC = 0.5      # a memorised member whose final train accuracy is below this has collapsed
OUTCOMES = ("grokked", "no delay", "not generalised", "not memorised", "diverged")


# ------------------------------------------------------------------------------ outcomes
def outcomes(df: pd.DataFrame, k: float = K_DELAY) -> pd.DataFrame:
    """The member table with `outcome` (one of OUTCOMES), `grokked` (outcome == 'grokked'),
    `unstable` (its loss went non-finite, or it memorised and its final train accuracy fell below
    COLLAPSE_ACC), `event` (generalised within the budget) and `delay_c` (the delay, or
    budget - T_train for a member censored while it still waits; NaN for one that never memorised
    or diverged).

    *diverged* is an outcome of its own: an unstable member that had not generalised. It is never
    censored as still waiting and never counts as a delay: a run that blew up says nothing about
    when it would have generalised. An unstable member that generalised first keeps its outcome
    and is flagged `unstable` (the regime gate `no_divergence` counts both)."""
    d = df.copy()
    tr, te = d["t_train"].to_numpy(float), d["t_grok"].to_numpy(float)
    budget = d["budget"].to_numpy(float) if "budget" in d else np.full(len(d), np.nan)
    blown = d["dnf"].eq("diverged").to_numpy() if "dnf" in d else np.zeros(len(d), bool)
    final = d["final_train_acc"].to_numpy(float) if "final_train_acc" in d else np.full(len(d), np.nan)
    with np.errstate(invalid="ignore"):
        collapsed = np.isfinite(tr) & (final < COLLAPSE_ACC)
    unstable = blown | collapsed
    out = np.where(~np.isfinite(tr), "not memorised",
                   np.where(~np.isfinite(te), "not generalised",
                            np.where(te >= k * np.maximum(tr, 1.0), "grokked", "no delay")))
    diverged = unstable & ~np.isfinite(te)
    out = np.where(diverged, "diverged", out)
    d["outcome"] = out
    d["grokked"] = out == "grokked"
    d["unstable"] = unstable
    d["event"] = np.isfinite(tr) & np.isfinite(te)
    with np.errstate(invalid="ignore"):
        waiting = np.isfinite(tr) & ~diverged
        d["delay_c"] = np.where(d["event"], te - tr, np.where(waiting, budget - tr, np.nan))
    return d


def counts(d: pd.DataFrame) -> str:
    """'3 grokked, 1 no delay, 1 not generalised' (outcomes present only)."""
    c = d["outcome"].value_counts()
    return ", ".join(f"{int(c[o])} {o}" for o in OUTCOMES if o in c)


# ------------------------------------------------------------------------------ value claims
def band_verdict(lo: float, hi: float, band_lo: float, band_hi: float, log: bool = True) -> str:
    """Equivalence against the band [band_lo, band_hi] around the paper's value (see module doc).
    `log`: widths compared on a log scale (ratios, times)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        return INCONCLUSIVE
    if hi < band_lo or lo > band_hi:
        return NOT_REPRODUCED
    if band_lo <= lo and hi <= band_hi:
        return REPRODUCED
    width = (math.log(hi / lo) if lo > 0 else math.inf) if log else hi - lo
    band = math.log(band_hi / band_lo) if log else band_hi - band_lo
    return INCONCLUSIVE if width > band else PARTIALLY_REPRODUCED


def ratio_band_verdict(lo: float, hi: float, paper: float, factor: float = 1.5) -> str:
    """A ratio claim: the band is [paper / factor, paper * factor]."""
    return band_verdict(lo, hi, paper / factor, paper * factor, log=True)


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
class Gate:
    """One piece of regime evidence, measured from the runs a rule judges: `passed` False means
    the runs left the paper's regime in this respect, and the claim is inconclusive at this
    profile whatever the rule says; `value` is what was measured, in words."""
    name: str
    passed: bool
    value: str

    def __str__(self):
        return f"{self.name}: {self.value} ({'passes' if self.passed else 'FAILS'})"


@dataclass
class Rule:
    claim_id: str
    fn: Callable
    by: tuple = ()
    text: str = ""
    gates: tuple = ()      # functions table -> Gate, measured on the rule's own table


RULES: dict[str, Rule] = {}
_OBSERVERS: list[Callable] = []


def rule(claim_id: str, by=(), gates=()):
    """Register `fn` as the rule of `claim_id`; `by`: the columns naming configurations; `gates`:
    functions of the same table returning a `Gate` (the evidence that the runs stayed in the
    paper's regime, as code). The registry keeps `fn` itself (firmness reruns it); the name in the
    module is `fn` reporting each verdict it returns to `observe`."""
    def deco(fn):
        RULES[claim_id] = Rule(claim_id, fn, tuple(by), inspect.cleandoc(fn.__doc__ or ""), tuple(gates))

        @functools.wraps(fn)
        def observed(*args, **kw):
            v = fn(*args, **kw)
            notify(claim_id, v)
            return v
        return observed
    return deco


def notify(claim_id: str, v: "Verdict"):
    """Tell every `observe` block that the rule of `claim_id` returned `v` (seed resamples are not
    reported: they are not verdicts on the runs)."""
    for callback in _OBSERVERS:
        callback(claim_id, v.verdict)


@contextlib.contextmanager
def observe():
    """Within the block, collect (claim_id, verdict) for every verdict a rule returns, whether
    called by name or through ledger.judge: the coverage test reads which verdicts each rule's
    tests actually reach."""
    seen: list[tuple[str, str]] = []
    _OBSERVERS.append(lambda cid, v: seen.append((cid, v)))
    try:
        yield seen
    finally:
        _OBSERVERS.pop()


# ------------------------------------------------------------------------------ regime gates
def no_divergence(df: pd.DataFrame) -> Gate:
    """No member the rule judges went unstable: its loss never went non-finite and, once
    memorised, its train accuracy did not collapse (`outcomes`' `unstable`). A proxy whose
    learning rate makes members blow up has left the paper's regime, whatever they show before."""
    if "t_train" not in df:
        return Gate("no member diverged", True, "no member curves in this table")
    d = outcomes(df)
    n = int(d["unstable"].sum())
    return Gate("no member diverged", n == 0, f"{n} of {len(d)} members unstable (diverged or collapsed)")


def min_members(n: int, by) -> Callable:
    """A gate: every configuration (`by` columns) has at least `n` members, the fewest from which
    the rule's per-configuration statistics are trusted."""
    def gate(df: pd.DataFrame) -> Gate:
        k = min_per_config(df, by)
        return Gate(f"at least {n} members per configuration", k >= n, f"fewest {k}")
    return gate


def min_grokked(n: int, by) -> Callable:
    """A gate: every configuration (`by` columns) has at least `n` members that grokked (with
    delay), the fewest from which a per-configuration statistic of grokked members is trusted."""
    def gate(df: pd.DataFrame) -> Gate:
        d = outcomes(df) if "t_train" in df else df.assign(grokked=False)
        k = d.groupby(list(by))["grokked"].sum() if len(d) else pd.Series(dtype=int)
        fewest = int(k.min()) if len(k) else 0
        where = ", ".join(f"{key if not isinstance(key, tuple) else '/'.join(map(str, key))} {int(v)}" for key, v in k.items())
        return Gate(f"at least {n} grokked members per configuration", fewest >= n, f"grokked: {where or 'none'}")
    return gate


def _operating_point(where: str, select: Callable, min_share: float, verb: str, hit: Callable, what: Callable):
    """A gate on the members `select(outcomes(df))` picks (an operating point of the paper): at least
    `min_share` of them `hit` (a boolean per member); fails when none are in the table."""
    def gate(df: pd.DataFrame) -> Gate:
        d = select(outcomes(df))
        if d.empty:
            return Gate(f"{where} {verb}", False, "not run in this profile")
        share = float(np.mean(hit(d)))
        return Gate(f"{where} {verb}", share >= min_share, f"{share:.0%} of {len(d)} members {what(d)}")
    return gate


def trains(where: str, select: Callable, min_share: float = 0.5) -> Callable:
    """A gate: the members `select(df)` picks (an operating point of the paper, e.g. its best
    weight decay) memorise in at least `min_share` of cases; fails when none are in the table."""
    return _operating_point(where, select, min_share, "trains",
                            lambda d: np.isfinite(d["t_train"].to_numpy(float)), lambda d: "memorise")


def groks_at(where: str, select: Callable, min_share: float = 0.5) -> Callable:
    """A gate: the members `select(df)` picks (an operating point of the paper where it grokked,
    e.g. its best weight decay) grok (with delay) in at least `min_share` of cases; fails when
    none are in the table."""
    return _operating_point(where, select, min_share, "groks",
                            lambda d: d["grokked"].to_numpy(bool), lambda d: f"grok ({counts(d)})")


def at_least(name: str, column: str, minimum: float, why: str = "") -> Callable:
    """A gate: the table's largest `column` value (e.g. depth) is at least `minimum`."""
    def gate(df: pd.DataFrame) -> Gate:
        top = float(pd.to_numeric(df[column], errors="coerce").max()) if column in df and len(df) else float("nan")
        ok = math.isfinite(top) and top >= minimum
        return Gate(name, ok, f"largest {column} {fmt(top)}, needs >= {minimum:g}" + (f" ({why})" if why else ""))
    return gate


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
