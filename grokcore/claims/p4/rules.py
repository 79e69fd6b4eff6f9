"""Part IV (P4, "Deep Grokking", arXiv 2405.19454): the verdict rules of its six claims,
registered by claim id, with their constants.

Every rule takes a tidy per-member table, as `p4.stage_table` makes it (one row per
member: depth, n_train, seed, t_train, t_test_rise, n_surges, t_rank_fall, ... and `budget`).
Test accuracy on MNIST-type data never reaches 99%, so P4's "generalisation time" is the onset
of the test rise after memorisation (`t_test_rise`: half of a rise of at least 10 points covered),
not the 99% threshold; `rules.outcomes` is applied with that time in place of T_grok, so a member
that memorised and never rose is censored at the budget and one that never memorised has no
delay at all (it is counted, never taken as an infinitely late rise). P4-depth, whose claim is
about when the curves rise, reads the rise onsets measured from step 0 instead (`t_rise_train`,
`t_rise_test`), and reports that delay beside.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..rules import NOT_REPRODUCED, PARTIALLY_REPRODUCED, REPRODUCED, INCONCLUSIVE, Verdict, band_verdict, combine, counts, fmt
from .. import stats
from ..rules import Gate, at_least, km_floor, km_median, no_divergence, outcomes, rule
from ...core.images import TRAIN_POOL
from .probes import PLATEAU_ALT, PLATEAU_SHARE, STAGES, stage_class

PAPER_TUNNEL = {5000: {4: 1, 8: 3, 12: 6}, 7000: {4: 1, 8: 5, 12: 6}}  # P4 Fig. 4/5, by N
RISE = "t_test_rise"
BOOT_SEED = 0  # the generator seed of the bootstraps inside the rules
DEPTH_N_BOOT = 200   # P4-depth: resamples of the deepest/shallowest ratio of Kaplan-Meier medians
TUNNEL_N_BOOT = 400  # P4-tunnel: resamples of each depth's median tunnel length
NORM_N_BOOT = 400    # P4-norm: resamples of each correlation and of their difference


def _formatted(**values):
    """Format a rule's docstring with `values` before @rule reads it (numbers derived from constants)."""
    def deco(fn):
        fn.__doc__ = fn.__doc__.format(**values)
        return fn
    return deco


def paper_tunnel_n(n_train: int, task: str) -> int:
    """The paper's N whose tunnel lengths a run is compared with: 7000 when `n_train` is at least as
    large a share of its training set as 7000 is of MNIST's, else 5000."""
    return 7000 if n_train / TRAIN_POOL[task] >= 7000 / TRAIN_POOL["mnist"] else 5000


def rise_outcomes(df: pd.DataFrame, rise: str = RISE) -> pd.DataFrame:
    """`rules.outcomes` with the test-rise onset `rise` as the generalisation time."""
    return outcomes(df.assign(t_grok=df[rise].astype(float)))


def memorised(df: pd.DataFrame) -> pd.DataFrame:
    return df[np.isfinite(df["t_train"].astype(float))]


def _largest_n(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["n_train"] == df["n_train"].max()] if "n_train" in df else df


# ------------------------------------------------------------------------------ P4-depth
def _km(d: pd.DataFrame) -> float:
    return km_median(d["delay_c"], d["event"])


def _km_floor(d: pd.DataFrame) -> float:
    return km_floor(d["delay_c"], d["event"])


def _ratio_ci(a: pd.DataFrame, b: pd.DataFrame, n_boot: int, seed: int = BOOT_SEED) -> tuple[float, float]:
    """Percentile bootstrap CI (95%) of km_median(a) / km_median(b), members resampled within
    each depth. The lower end uses `km_floor` for the numerator: where most deep members are
    censored, their median is only known to exceed the longest observed delay, so the ratio is
    only known to exceed that over the denominator; the upper end uses the median itself (an
    infinite numerator over a finite denominator is an infinite ratio)."""
    rng = np.random.default_rng(seed)
    (ta, ea), (tb, eb) = [(g["delay_c"].to_numpy(float), g["event"].to_numpy(bool)) for g in (a, b)]
    i, j = stats.resample_idx(len(ta), n_boot, rng=rng), stats.resample_idx(len(tb), n_boot, rng=rng)
    num, den = stats.km_median_rows(ta[i], ea[i]), stats.km_median_rows(tb[j], eb[j])
    floor = np.where(np.isinf(num), np.nanmax(np.where(np.isfinite(ta[i]), ta[i], np.nan), axis=1), num)
    if ((np.isinf(num) & np.isinf(den)) | (den <= 0)).any():
        return (math.nan, math.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out, low = num / den, floor / den
    q = lambda v, p: float(np.quantile(v, p, method="inverted_cdf"))  # noqa: E731  (no inf - inf)
    return (q(low, 0.025), q(out, 0.975))


RISES = {"train": "t_rise_train", "test": "t_rise_test"}  # the two curves P4-depth judges
MAJORITY = 0.5   # a depth counts (two-stage, grokking) when this share of its memorised members does, by its exact interval
UNANIMOUS = next(n for n in range(1, 100) if stats.share_at_least(n, n, MAJORITY) is not None)  # fewest that decide


def _rise_part(d: pd.DataFrame, col: str, depths: list, n_boot: int) -> tuple[str, str, dict]:
    """One curve's part of P4-depth: (verdict, text, extra) from its rise onsets `col`, measured
    from step 0 and right-censored at the budget where the curve has not risen."""
    t = d[col].astype(float).to_numpy()
    g = d.assign(delay_c=np.where(np.isfinite(t), t, d["budget"].astype(float)), event=np.isfinite(t))
    per = {k: g[g["depth"] == k] for k in depths}
    rose = {k: int(per[k]["event"].sum()) for k in depths}
    med = {k: _km(per[k]) for k in depths}
    extra = {"km_median": med, "n_rose": rose}
    text = ", ".join(f"depth {k} {fmt(med[k])} ({rose[k]}/{len(per[k])} rose)" for k in depths)
    if any(2 * rose[k] <= len(per[k]) for k in depths):  # a median the data cannot show
        return INCONCLUSIVE, text, extra
    lo, hi = _ratio_ci(per[depths[-1]], per[depths[0]], n_boot)
    extra["ratio_ci"] = (lo, hi)
    text += f"; depth {depths[-1]}/{depths[0]} CI [{fmt(lo)}, {fmt(hi)}]"
    floor = {k: _km_floor(per[k]) for k in depths}
    ordered = all(med[a] < floor[b] for a, b in zip(depths, depths[1:]))  # known to increase, not assumed
    if not (math.isfinite(lo) or math.isfinite(hi)):
        return INCONCLUSIVE, text, extra
    if hi <= 1:
        return NOT_REPRODUCED, text, extra
    if lo > 1:
        return (REPRODUCED if ordered else PARTIALLY_REPRODUCED), text, extra
    return INCONCLUSIVE, text, extra


MEMORISE_BY = 0.5  # the deeper depths must memorise by this share of the budget to show what follows


def _median_t_train(d: pd.DataFrame) -> float:
    """Median memorisation step of members, a member that never memorised counting as infinitely late."""
    t = d["t_train"].astype(float).to_numpy()
    return float(np.median(np.where(np.isfinite(t), t, np.inf))) if len(t) else math.nan


def memorise_early(df: pd.DataFrame, by: float = MEMORISE_BY) -> Gate:
    """Regime gate of the claims about what follows memorisation in the deeper networks (P4-depth's
    "the later rise is grokking", P4-multistage's second surge): at the largest N, every depth
    deeper than the shallowest memorises (median t_train, never = infinitely late) by `by` of the
    budget, so a test surge after memorisation has room to show. The value names each depth's
    median and the budget that would settle it: T >= median / `by` at the latest depth, and what
    that costs in the runs' own measured wall time (`run_wall_s`) where the table has it."""
    d = _largest_n(df)
    depths = sorted(d["depth"].unique())
    if len(depths) < 2:
        return Gate("deeper depths memorise early", False, "fewer than two depths")
    budget = float(d["budget"].max())
    deep = {k: _median_t_train(d[d["depth"] == k]) for k in depths[1:]}
    ok = all(v <= by * budget for v in deep.values())
    text = ", ".join(f"depth {k} {v / budget:.0%}" if math.isfinite(v) else f"depth {k} never (median)"
                     for k, v in deep.items())
    value = f"median memorisation step as a share of the {fmt(budget)}-step budget: {text} (needs <= {by:.0%})"
    if not ok:
        worst = max(deep.values())
        if math.isfinite(worst):
            need = worst / by
            seeds = min(int((d["depth"] == k).sum()) for k in deep)
            more = max(1.0, UNANIMOUS / max(seeds, 1))  # a majority needs UNANIMOUS members to be decided
            value += (f"; settling it needs T >= {fmt(need)} steps (x{need / budget:.2g}) and {max(seeds, UNANIMOUS)} "
                      f"seeds (now {seeds}) at depths {', '.join(map(str, deep))}: x{need / budget * more:.2g} their model-steps")
            if "run_wall_s" in d:
                wall = sum(float(d.loc[d["depth"] == k, "run_wall_s"].iloc[0]) for k in deep)
                if math.isfinite(wall):
                    value += (f", about +{(need / budget * more - 1) * wall / 60:.0f} minutes of training beyond "
                              f"the {wall / 60:.0f} minutes their runs took (wall time as run, shared CPU; or "
                              "lr*gamma raised as much, recalibrated)")
        else:
            value += "; most members of a deeper depth never memorised: a budget more than twice as long"
    return Gate("deeper depths memorise early", ok, value)


def _grokking_part(d: pd.DataFrame, depths: list) -> tuple[str, str]:
    """P4-depth's second part: at every depth deeper than the shallowest, a majority of the memorised
    members has a test surge after memorisation (`n_surges` >= 1), decided by the exact interval."""
    m = memorised(d)
    tri = {True: REPRODUCED, False: NOT_REPRODUCED, None: INCONCLUSIVE}
    parts, text = [], []
    for k in depths[1:]:
        g = m[m["depth"] == k]
        hit = int((g["n_surges"] >= 1).sum())
        parts.append(tri[stats.share_at_least(hit, len(g), MAJORITY)] if len(g) else INCONCLUSIVE)
        text.append(f"depth {k} {hit}/{len(g)}")
    v = stats.resolve(lambda p: REPRODUCED if all(x == REPRODUCED for x in p) else NOT_REPRODUCED, *parts)
    return v, "memorised members with a test surge after memorisation: " + ", ".join(text)


@rule("P4-depth", by=("n_train", "depth"), gates=(no_divergence, memorise_early))
@_formatted(memorise_by=MEMORISE_BY)
def depth_rule(df: pd.DataFrame, n_boot: int = DEPTH_N_BOOT) -> Verdict:
    """The paper's claim, "deeper MLPs grok more", at the largest N, in two necessary parts.
    (1) The rise of train accuracy and the rise of test accuracy come later as depth grows. Per
    member and curve, the rise onset is measured from step 0 (`t_rise_train`, `t_rise_test`: half of
    the curve's rise covered, see `p4.stage_table`), right-censored at the budget where the curve has
    not risen. Per depth, the Kaplan-Meier median onset; the deepest-vs-shallowest ratio of those
    medians gets a 95% bootstrap CI (members resampled within depth). Each curve: reproduced when the
    CI lies wholly above 1 and the medians strictly increase from each depth to the next; partially
    reproduced when the CI is above 1 but the order breaks in the middle; not reproduced when the CI
    is at or below 1 (ties are not wins); inconclusive when the CI straddles 1 or at some depth no
    more than half of the members rose: failing to train is not a later rise (a median the data
    cannot show). In the CI's lower end and in "strictly increase", a resampled median that is
    censored counts as no more than its longest observation (`rules.km_floor`). The two curves
    combine with `rules.combine`. (2) The later rise is grokking: at every deeper depth a majority
    of the memorised members has a surge of test accuracy after memorisation (>= 10 points, the
    surge rule of `grokcore.claims.p4.probes`), by the count's exact interval. The parts combine
    with `stats.all_of` (a failed part decides). Regime gate `memorise_early`: the deeper depths
    memorise by {memorise_by:.0%} of the budget, else part (2) has no room to show and the claim is
    inconclusive at this profile, the gate naming the budget that would settle it. The grokking
    delay after memorisation (test-rise onset minus t_train, censored at the budget) is reported
    beside, not scored."""
    d = _largest_n(df)
    depths = sorted(d["depth"].unique())
    n_seeds = stats.n_seeds(d)
    if len(depths) < 2:
        return Verdict(INCONCLUSIVE, f"one depth ({depths[0] if depths else 'none'})", n_seeds=n_seeds,
                       note="needs two depths or more")
    parts = {c: _rise_part(d, col, depths, n_boot) for c, col in RISES.items()}
    o = rise_outcomes(d)
    m = o[o["event"] | (o["outcome"] == "not generalised")]
    delay = {k: _km(m[m["depth"] == k]) for k in depths}
    extra = {c: p[2] for c, p in parts.items()}
    extra["delay_km_median"] = delay
    extra["n_memorised"] = {k: int((m["depth"] == k).sum()) for k in depths}
    value = "; ".join(f"{c} rise: {p[1]}" for c, p in parts.items())
    value += "; delay after memorisation (not scored): " + ", ".join(
        f"depth {k} {fmt(delay[k])} ({counts(o[o['depth'] == k])})" for k in depths)
    lo, hi = parts["test"][2].get("ratio_ci", (None, None))
    later = combine(*(p[0] for p in parts.values()))
    grok, grok_text = _grokking_part(d, depths)
    extra["later"], extra["grokking"] = later, grok
    value += "; " + grok_text
    return Verdict(stats.all_of(later, grok), value, lo, hi, n_seeds, extra=extra,
                   note="rise onsets from step 0, censored at the budget; Kaplan-Meier medians; "
                        + ", ".join(f"{c}: {p[0]}" for c, p in parts.items())
                        + f"; later rise: {later}; the later rise is grokking: {grok}")


# ------------------------------------------------------------------------------ P4-multistage


def _multistage(d: pd.DataFrame, depths: list, col: str) -> tuple[str, dict, dict, bool]:
    """(verdict, two-stage counts, memorised counts, any surge) of P4-multistage's rule with the
    surge counts of column `col` (the main plateau or its sensitivity variant)."""
    two = {k: int((d.loc[d["depth"] == k, col] >= 2).sum()) for k in depths}
    mem = {k: int((d["depth"] == k).sum()) for k in depths}
    if len(depths) < 2 or min(mem.values()) == 0 or not (d[col] >= 1).any():
        return INCONCLUSIVE, two, mem, False
    tri = {True: REPRODUCED, False: NOT_REPRODUCED, None: INCONCLUSIVE}
    shallow = {True: NOT_REPRODUCED, False: REPRODUCED, None: INCONCLUSIVE}[
        stats.share_at_least(two[depths[0]], mem[depths[0]], MAJORITY)]
    deep = [tri[stats.share_at_least(two[k], mem[k], MAJORITY)] for k in depths[1:]]
    v = stats.resolve(lambda p: REPRODUCED if all(x == REPRODUCED for x in p) else
                      NOT_REPRODUCED if all(x == NOT_REPRODUCED for x in p[1:]) else PARTIALLY_REPRODUCED, shallow, *deep)
    return v, two, mem, True


@rule("P4-multistage", by=("n_train", "depth"), gates=(no_divergence, memorise_early))
@_formatted(few=UNANIMOUS - 1, enough=UNANIMOUS, share=PLATEAU_SHARE, alt=PLATEAU_ALT, memorise_by=MEMORISE_BY)
def multistage_rule(df: pd.DataFrame, variant: str = "n_surges_alt") -> Verdict:
    """At the largest N, count per depth the memorised members with two or more surges of test
    accuracy after memorisation (the two-stage rule of grokcore.claims.p4.probes, on a linear step
    axis: two jumps of >= 10 points separated by a plateau of at least {share:.0%} of the budget in
    steps). Whether a depth's share is a majority is decided by its exact interval
    (`stats.share_at_least`: {few}/{few} and 0/{few} cannot decide, {enough}/{enough} and 0/{enough} can).
    Reproduced: the shallowest depth not a majority and every deeper depth a majority; not
    reproduced: no deeper depth a majority; partially reproduced otherwise; each only when undecided
    depths could not change it (`stats.resolve`), else inconclusive, as when some depth has no
    memorised member, or no member has even one surge (no generalisation stage to count). The same
    rule with the sensitivity variant (a plateau of {alt:.0%} of the budget, column `variant`) is
    shown beside, not scored. Regime gate `memorise_early`: the deeper depths memorise by
    {memorise_by:.0%} of the budget, else a second stage has no room to show."""
    big = _largest_n(df)
    d, depths = memorised(big), sorted(big["depth"].unique())
    v, two, mem, any_surge = _multistage(d, depths, "n_surges")
    value = "; ".join(f"depth {k}: {two[k]}/{mem[k]} two-stage" for k in depths)
    extra = {"two_stage": two, "memorised": mem}
    if variant in d:
        v_alt, two_alt, _, _ = _multistage(d, depths, variant)
        value += (f" (variant, plateau {PLATEAU_ALT:.0%} of the budget: "
                  + ", ".join(f"{two_alt[k]}/{mem[k]}" for k in depths) + f", {v_alt})")
        extra.update(variant=v_alt, two_stage_variant=two_alt)
    note = f"two-stage = two test jumps of >= 10 points after memorisation separated by a plateau of >= {PLATEAU_SHARE:.0%} of the budget"
    if not any_surge:
        note = "a depth never memorised, or no member has a surge after memorisation; " + note
    return Verdict(v, value, n_seeds=stats.n_seeds(big), extra=extra, note=note)


# ------------------------------------------------------------------------------ P4-rank
COINCIDE_BAND = (1 / 3, 2 / 3)  # the share of risers whose rank falls with the rise: not / partially / reproduced


def log_gap(a, b) -> np.ndarray:
    """|log10(a / b)| per member; inf where either onset is missing."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.abs(np.log10(a / b))
    return np.where(np.isfinite(g), g, np.inf)


MIN_RISERS = 5       # P4-rank: rising members needed before a share of them is read
RANK_N_PERM = 2000   # P4-rank: shuffles of the permutation null
ALPHA = 0.05         # P4-rank: the permutation null's level


@rule("P4-rank", by=("depth", "n_train", "wd"), gates=(no_divergence,))
@_formatted(min_risers=MIN_RISERS, alpha=ALPHA, n_perm=RANK_N_PERM)
def rank_rule(df: pd.DataFrame, window: float = 2.0, rise: str = RISE) -> Verdict:
    """Among the members whose test accuracy rises by >= 10 points after memorisation (the
    grokking members in P4's sense; the chapter pools its runs in the paper's regime: every depth,
    N and gamma, each member once), the rise coincides with the rank fall when the onset of the
    second-to-last layer's rank fall (`t_rank_fall`) is within a factor `window` (default 2) of
    the onset of the test rise; a rank that never falls does not coincide. The share that
    coincide is judged by its exact interval (`stats.share_band`): at or above 2/3, within
    [1/3, 2/3), below 1/3. A permutation null ({n_perm} shuffles of the rank-fall onsets among the
    risers, `stats.permutation_p`) asks whether the coincidences exceed what pairing each rise
    with another member's fall gives. Reproduced: the share at or above 2/3 and the null rejected
    (p < {alpha}); a share at or above 2/3 that the null does not reject is inconclusive (the onsets
    do not vary enough across members to tell coincidence from timing); partially reproduced:
    the share within [1/3, 2/3); not reproduced: below 1/3; inconclusive when the interval
    straddles an edge, or with fewer than {min_risers} rising members. (The rank double descent of
    two-stage runs is shown, not scored.)"""
    risers = df[np.isfinite(df[rise].astype(float))]
    limit = math.log10(window)
    gap = log_gap(risers["t_rank_fall"], risers[rise])
    hit = int((gap <= limit).sum())
    n = len(risers)
    value = f"{hit}/{n} rising members: rank fall within x{window:g} of the test rise"
    n_seeds = stats.n_seeds(df)
    extra = {"coincide": hit, "risers": n, "share": hit / n if n else math.nan}
    if n < MIN_RISERS:
        return Verdict(INCONCLUSIVE, value, n_seeds=n_seeds, extra=extra,
                       note=f"fewer than {MIN_RISERS} members rose by 10 points after memorisation")
    p = stats.permutation_p(risers[rise].to_numpy(float), risers["t_rank_fall"].to_numpy(float),
                            lambda a, b: (log_gap(b, a) <= limit).sum(-1), n_perm=RANK_N_PERM, seed=BOOT_SEED)
    extra["perm_p"] = p
    lo, hi = stats.share_ci(hit, n)
    value += f" (share CI [{fmt(lo)}, {fmt(hi)}]); permutation null p = {fmt(p)}"
    v = stats.share_band(hit, n, *COINCIDE_BAND)
    note = (f"onsets: half of the rise / of the fall covered, after memorisation; window x{window:g}; "
            "null: rank-fall onsets shuffled among the risers")
    if v == INCONCLUSIVE:
        need = stats.members_to_decide(hit, n, *COINCIDE_BAND)
        note += (f"; at this share the interval clears an edge with about {need} rising members" if need else
                 "; at this share no count of members clears an edge")
    if v == REPRODUCED and p >= ALPHA:
        v = INCONCLUSIVE
    return Verdict(v, value, n_seeds=n_seeds, extra=extra, note=note)


# ------------------------------------------------------------------------------ P4-tunnel
PAPER_CONVENTION = "all"  # PAPER_TUNNEL counts every Linear layer, the 10-unit output layer included (see tunnel_rule)
TUNNEL_COLUMNS = {"hidden": "tunnel", "all": "tunnel_all"}


def _median_ci(v, n_boot: int = TUNNEL_N_BOOT, seed: int = BOOT_SEED) -> tuple[float, float]:
    return stats.bootstrap_ci(v, np.median, n_boot=n_boot, seed=seed)


def trained(df: pd.DataFrame) -> pd.DataFrame:
    """Members whose train accuracy rose (`t_rise_train` finite): networks that trained, memorised or not."""
    return df[np.isfinite(df["t_rise_train"].astype(float))] if "t_rise_train" in df else df


def _tri(lo: float, hi: float) -> str:
    """A CI of a difference against 0: wholly above reproduced, at or below not reproduced."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return INCONCLUSIVE
    return REPRODUCED if lo > 0 else NOT_REPRODUCED if hi <= 0 else INCONCLUSIVE


@rule("P4-tunnel", by=("depth",), gates=(no_divergence,))
@_formatted(**{f"n{n}": "/".join(map(str, v.values())) for n, v in PAPER_TUNNEL.items()})
def tunnel_rule(df: pd.DataFrame, paper: dict | None = None) -> Verdict:
    """Tunnel length = layers whose final feature rank is below the threshold, over the members
    that trained (train accuracy rose). The paper's lengths ({n5000} at N=5000, {n7000} at N=7000
    for depths 4/8/12; `paper`: depth -> length, default N=5000) count every Linear layer, the
    output layer included: the authors' code logs the rank of every Linear layer and the 10-unit
    output layer is always below 300, so depth 4's length 1 is that output layer alone (a hidden
    tunnel of 0), and 3/6 are hidden tunnels of 2/5 (the paper's text is not at hand here to
    confirm this; both conventions are shown). The rule scores the paper's shape, not its counts
    (our width and input size differ): (1) growth with depth: the median length at the deepest depth
    exceeds the shallowest's by a 95% bootstrap CI above 0, and the medians strictly increase
    from depth to depth (an order broken in the middle: partially reproduced; CI at or below 0:
    not reproduced); (2) formation during training: at each depth where the paper has a hidden
    tunnel, the median over members of (final - step-0 hidden length) has a 95% CI above 0 (at or
    below 0: not reproduced). A depth where the paper has a hidden tunnel and our median hidden
    length is 0 is a miss: not reproduced. The parts combine with `stats.all_of`. Inconclusive
    with fewer than two of the paper's depths or fewer than 2 trained members at one. The exact
    counts under both conventions are shown beside the paper's, not scored."""
    paper = PAPER_TUNNEL[5000] if paper is None else paper
    hidden_paper = {k: v - 1 for k, v in paper.items()} if PAPER_CONVENTION == "all" else dict(paper)
    d = trained(df)
    depths = [k for k in sorted(df["depth"].unique()) if k in paper]
    per = {k: d[d["depth"] == k] for k in depths}
    med = {c: {k: float(np.median(per[k][col])) if len(per[k]) else math.nan for k in depths}
           for c, col in TUNNEL_COLUMNS.items() if col in d}
    value = "; ".join(f"depth {k}: all Linear {fmt(med.get('all', {}).get(k))}, hidden {fmt(med['hidden'][k])} "
                      f"(paper {paper[k]} all / {hidden_paper[k]} hidden)" for k in depths)
    n_seeds = stats.n_seeds(df)
    extra = {"median": med, "paper": {k: paper[k] for k in depths}, "paper_hidden": {k: hidden_paper[k] for k in depths}}
    if len(depths) < 2 or min(len(per[k]) for k in depths) < 2:
        return Verdict(INCONCLUSIVE, value, n_seeds=n_seeds, extra=extra,
                       note="fewer than two of the paper's depths, or fewer than 2 trained members at one")
    h = {k: per[k]["tunnel"].to_numpy(float) for k in depths}
    lo, hi = stats.diff_ci(h[depths[-1]], h[depths[0]], np.median, n_boot=TUNNEL_N_BOOT, seed=BOOT_SEED)
    growth = _tri(lo, hi)
    if growth == REPRODUCED and not all(med["hidden"][a] < med["hidden"][b] for a, b in zip(depths, depths[1:])):
        growth = PARTIALLY_REPRODUCED
    formed, missed = {}, [k for k in depths if hidden_paper[k] > 0 and med["hidden"][k] == 0]
    for k in depths:
        if hidden_paper[k] > 0:
            grew = per[k]["tunnel"].to_numpy(float) - per[k]["tunnel_at_init"].to_numpy(float)
            formed[k] = _tri(*_median_ci(grew))
    extra.update(growth=growth, growth_ci=(lo, hi), formed=formed, missed=missed)
    value += (f"; hidden length depth {depths[-1]} - depth {depths[0]}: CI [{fmt(lo)}, {fmt(hi)}]; formed during "
              "training (median final - step 0 > 0): " + ", ".join(f"depth {k} {v}" for k, v in formed.items()))
    note = "shape scored, not counts; paper's lengths read as all Linear layers"
    if missed:
        return Verdict(NOT_REPRODUCED, value, lo, hi, n_seeds, extra=extra,
                       note=f"{note}; no hidden tunnel at depth {', '.join(map(str, missed))} where the paper has one")
    return Verdict(stats.all_of(growth, *formed.values()), value, lo, hi, n_seeds, extra=extra,
                   note=f"{note}; growth with depth: {growth}")


# ------------------------------------------------------------------------------ P4-wd
EXPECTED_WD = STAGES  # smallest to largest gamma; the paper: no grokking, grokking, two-stage


@rule("P4-wd", by=("n_train", "wd"), gates=(no_divergence, at_least(
    "the sweep's depth", "depth", 8, "the paper sweeps gamma at depth 12; at quick the deeper depths memorise "
    "only near the end of the budget at the middle gamma (P4-depth's gate), so a depth-8 sweep needs the longer "
    "budget that gate names, and longer still at the smallest gamma (half the decay clock), for 9 members")))
def wd_rule(df: pd.DataFrame) -> Verdict:
    """The sweep's three gammas, smallest to largest, should give per N: no late rise (it fails
    to generalise, or generalises without grokking: no surge after memorisation), one surge
    (the paper's grokking, on a test curve that never reaches 99%: the book's k x T_train delay
    is not asked of it), two or more surges. A (N, gamma) cell matches when a majority of its
    memorised members are in the expected class, decided by the count's exact interval
    (`stats.share_at_least`); cells the counts cannot decide are resolved both ways
    (`stats.resolve`). Regime gate: the sweep runs at depth 8 or more (the paper's is at 12; by
    P4-multistage a depth-4 network shows no second stage, so the two-stage cell cannot appear). Reproduced: every cell
    matches; partially reproduced: the middle gamma matches at every N and some other cell does;
    not reproduced otherwise; inconclusive: not exactly three gammas, a cell without a memorised
    member, or no member of the sweep has a surge (the regime then groks at no gamma)."""
    gammas = sorted(df["wd"].unique())
    d = memorised(df).assign(cls=lambda t: t["n_surges"].map(stage_class))
    cells, rows = {}, []
    for n in sorted(df["n_train"].unique()):
        for g, want in zip(gammas, EXPECTED_WD):
            c = d[(d["n_train"] == n) & np.isclose(d["wd"], g)]
            hit = int((c["cls"] == want).sum())
            cells[(n, g)] = stats.share_at_least(hit, len(c), MAJORITY) if len(c) else False
            rows.append(f"N={n} wd={fmt(g)}: {hit}/{len(c)} {want}")
    n_seeds = stats.n_seeds(df)
    value = "; ".join(rows)
    extra = {"match": {f"N={n} wd={fmt(g)}": ok for (n, g), ok in cells.items()}}
    empty = any(not ((d["n_train"] == n) & np.isclose(d["wd"], g)).any() for n, g in cells)
    if len(gammas) != 3 or empty or not (d["n_surges"] >= 1).any():
        return Verdict(INCONCLUSIVE, value, n_seeds=n_seeds, extra=extra,
                       note="needs three gammas, a memorised member per cell and at least one surge")
    keys = list(cells)
    tri = {True: REPRODUCED, False: NOT_REPRODUCED, None: INCONCLUSIVE}

    def verdict_of(p):
        ok = {k: x == REPRODUCED for k, x in zip(keys, p)}
        mid = [ok[k] for k in keys if k[1] == gammas[1]]
        other = [ok[k] for k in keys if k[1] != gammas[1]]
        return REPRODUCED if all(ok.values()) else PARTIALLY_REPRODUCED if all(mid) and any(other) else NOT_REPRODUCED
    v = stats.resolve(verdict_of, *(tri[cells[k]] for k in keys))
    return Verdict(v, value, n_seeds=n_seeds, extra=extra, note="classes by surges after memorisation")



# ------------------------------------------------------------------------------ P4-norm
NORM_MIN_MEMBERS = 5  # P4-norm: memorised members needed for a correlation across them
INDICATORS = {"rank": "rank_mean", "norm": "norm_mean"}


def _members_to_clear(n: int, lo: float, hi: float, effect: float) -> str:
    """Words for roughly how many members would make a CI [lo, hi] at `n` members clear 0 around
    `effect`, its half-width shrinking as 1/sqrt(members)."""
    half = (hi - lo) / 2
    need = n * (half / max(abs(effect), 1e-3)) ** 2
    return f"with roughly {fmt(need)} members (CI half-width {fmt(half)} at {n}, shrinking as 1/sqrt(members))"


@rule("P4-norm", by=("n_train",), gates=(no_divergence,))
@_formatted(min_members=NORM_MIN_MEMBERS)
def norm_rule(df: pd.DataFrame) -> Verdict:
    """Across the members of every N (memorised ones), how well each indicator tracks
    generalisation: Spearman's rho of the step-averaged rank of the second-to-last layer
    (`rank_mean`) and of the step-averaged log weight norm (`norm_mean`) with final test accuracy,
    each with a 95% bootstrap CI (members resampled), and the CI of |rho_rank| - |rho_norm| (paired
    resamples). A lower rank should go with better generalisation. Reproduced: rho_rank's CI wholly
    below 0 and the difference's CI above 0 (the rank is the better indicator); partially
    reproduced: rho_rank's CI below 0 but the difference's CI straddles 0; not reproduced: the
    difference's CI at or below 0 (the norm tracks generalisation at least as well) or rho_rank's
    CI wholly above 0 (the wrong sign); inconclusive otherwise, with a single N, or with fewer than
    {min_members} memorised members. The gap in median test accuracy between the largest and the
    smallest N (points) is shown beside: the difference in generalisation the indicators should see."""
    ns = sorted(df["n_train"].unique())
    d = memorised(df)
    n_seeds = stats.n_seeds(df)
    if len(ns) < 2:
        return Verdict(INCONCLUSIVE, f"one N ({ns[0] if ns else 'none'})", n_seeds=n_seeds,
                       note="needs curves at more than one N")
    if len(d) < NORM_MIN_MEMBERS:
        return Verdict(INCONCLUSIVE, f"{len(d)} memorised members", n_seeds=n_seeds,
                       note=f"fewer than {NORM_MIN_MEMBERS} memorised members")
    y = d["final_test_acc"].to_numpy(float)
    rho = {k: stats.spearman_ci(d[c], y, n_boot=NORM_N_BOOT, seed=BOOT_SEED) for k, c in INDICATORS.items()}
    lo, hi = stats.abs_spearman_diff_ci(d["rank_mean"], d["norm_mean"], y, n_boot=NORM_N_BOOT, seed=BOOT_SEED)
    gap = 100 * (d.loc[d["n_train"] == ns[-1], "final_test_acc"].median() - d.loc[d["n_train"] == ns[0], "final_test_acc"].median())
    value = (", ".join(f"rho({k}, test acc) {fmt(r[0])} [{fmt(r[1])}, {fmt(r[2])}]" for k, r in rho.items())
             + f"; |rho_rank| - |rho_norm| CI [{fmt(lo)}, {fmt(hi)}]; {len(d)} members; test accuracy "
               f"N={ns[-1]} minus N={ns[0]}: {gap:+.1f} points (medians)")
    extra = {"rho": rho, "diff_ci": (lo, hi), "test_gap_points": gap}
    r_lo, r_hi = rho["rank"][1], rho["rank"][2]
    if not all(math.isfinite(x) for x in (lo, hi, r_lo, r_hi)):
        v = INCONCLUSIVE
    elif hi <= 0 or r_lo > 0:
        v = NOT_REPRODUCED
    elif r_hi < 0:
        v = REPRODUCED if lo > 0 else PARTIALLY_REPRODUCED
    else:
        v = INCONCLUSIVE
    note = "indicators: curves summarised by their step averages; Spearman across members, bootstrap CIs"
    diff = abs(rho["rank"][0]) - abs(rho["norm"][0])
    if v == INCONCLUSIVE and rho["rank"][0] > 0:
        note += ("; rho_rank's point estimate has the wrong sign (a higher rank with better test accuracy): its "
                 "CI clears 0 (not reproduced) " + _members_to_clear(len(d), r_lo, r_hi, rho["rank"][0]))
    elif v == INCONCLUSIVE and math.isfinite(diff) and math.isfinite(hi - lo):
        note += f"; a difference of {fmt(diff)} clears 0 " + _members_to_clear(len(d), lo, hi, diff)
    return Verdict(v, value, lo, hi, n_seeds, extra=extra, note=note)
