"""The claims ledger: every claim id of the four papers, and the verdicts chapters record.

A chapter calls `record_claims(chapter, profile, rows)` with one row per claim it tests; the
book aggregates them into claims.csv. Claims no chapter has recorded show as
'inconclusive at this profile' with the note 'not yet run'.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..results._atomic import write_text
from . import p1, p2, p3, p4, rules  # noqa: F401  (importing a paper's module registers its rules)
from .rules import VERDICTS

COLUMNS = ("claim_id", "paper", "chapter", "claim", "paper_value", "our_value", "ci_low", "ci_high",
           "n_seeds", "profile", "verdict", "firmness", "spread", "seeds_to_firm", "note")

# claim id -> (paper, chapter, short claim, paper's value)   [from shared/papers.md]
CLAIMS = {
    "P1-canonical": ("P1", "p1_depth", "depth-2 MLP (seed 0) memorises by ~1-2k steps and groks at ~33-34k", "T_grok ~ 33-34k, final test 99.35%"),
    "P1-depth": ("P1", "p1_depth", "depth is non-monotonic: plain d=2 groks 4/5, plain d=4 0/5, residual d=8 3/5", "4/5, 0/5, 3/5 grok"),
    "P1-arch": ("P1", "p1_arch", "Transformer vs depth-4 MLP delay ratio ~1.11x under matched tuning", "ratio 1.11x"),
    "P1-act": ("P1", "p1_activation", "GELU groks 4.32x faster than ReLU in regime B; ranking reverses in regime A", "ReLU/GELU 4.32x"),
    "P1-wd": ("P1", "p1_weight_decay", "grokking only inside a bounded weight-decay window for both MLP and Transformer", "MLP best 1e-3, Transformer best 5"),
    "P1-norm": ("P1", "p1_mechanism", "w=512 models grok at a similar parameter RMS (0.0219, CV 14.5%)", "RMS 0.0219 +- 0.0032"),
    "P1-fourier": ("P1", "p1_mechanism", "top-5 Fourier energy share of the embedding: MLP ~75%, Transformer 98.5%", "74.7% / 75.6% / 98.5%"),
    "P1-mul": ("P1", "p1_mechanism", "on multiplication GELU groks ~3.8x faster than ReLU", "ReLU/GELU 3.82x"),
    "P2-l1": ("P2", "p2_norms", "small l1 regularisation induces grokking without weight decay", "grokking with l1, wd=0"),
    "P2-nuc": ("P2", "p2_norms", "small nuclear-norm regularisation induces grokking without weight decay", "grokking with nuclear norm, wd=0"),
    "P2-scaling": ("P2", "p2_linear", "generalisation delay scales as 1/(alpha*beta): slope of log(T2-T1) vs log(alpha*beta) ~ -1", "slope -1"),
    "P2-l2proxy": ("P2", "p2_norms", "under l1 the l2 norm grows while the model generalises", "l2 grows, l1 falls"),
    "P2-depth": ("P2", "p2_linear", "depth (a = A1*...*AL) lets the model generalise without regularisation; delay vanishes for L>2", "delay small at L=2, none at L>2"),
    "P2-select": ("P2", "p2_selection", "data selection alone changes grokking (coherent samples speed matrix completion)", "samples and time fall as tau -> 1"),
    "P3-frac": ("P3", "p3_fraction", "grokking is most pronounced near alpha ~ 0.5 and absent at high alpha", "peak delay at alpha ~ 0.5"),
    "P3-arch": ("P3", "p3_architectures", "without weight decay the MLP does not grok and the LSTM never memorises", "MLP no delay; LSTM train ~0.9"),
    "P3-opt": ("P3", "p3_optimizers", "AdamW generalises best within 1,800 updates; train accuracy reached in ~100-200 updates", "AdamW best"),
    "P4-depth": ("P4", "p4_deep", "deeper MLPs grok more: the rise of train and test accuracy is more delayed (N=5000, depth 4 -> 12)",
                 "later rise with depth"),
    "P4-multistage": ("P4", "p4_deep", "at N=7000 depths 8 and 12 show two-stage generalisation, depth 4 none", "two surges at depth 8, 12"),
    "P4-rank": ("P4", "p4_rank", "test accuracy rises as feature rank falls; two-stage runs show rank double descent", "rank falls at the rise"),
    "P4-tunnel": ("P4", "p4_rank", "tunnel lengths 1/3/6 (N=5000) and 1/5/6 (N=7000) for depths 4/8/12", "1/3/6 and 1/5/6"),
    "P4-wd": ("P4", "p4_rank", "weight decay 0.005 / 0.01 / 0.05: no grokking / grokking / two-stage", "0.01 groks, 0.05 two-stage"),
    "P4-norm": ("P4", "p4_rank", "feature rank predicts generalisation better than weight norm", "rank better than norm"),
}


def claims_dir() -> Path:
    """Where chapters write their verdicts: $GROK_CLAIMS_DIR, else book/chapters/_claims."""
    return Path(os.environ.get("GROK_CLAIMS_DIR") or Path("book") / "chapters" / "_claims")


def record_claims(chapter: str, profile: str, rows: list[dict], folder=None) -> pd.DataFrame:
    """Validate and save a chapter's verdict rows; returns them as a table for display.
    Each row is what `judge` returned for a claim id of the chapter."""
    out = []
    for r in rows:
        cid = r["claim_id"]
        if cid not in CLAIMS:
            raise ValueError(f"unknown claim id {cid!r}; valid: {', '.join(CLAIMS)}")
        if "firmness" not in r:
            raise ValueError(f"row {cid} was not made by ledger.judge (no firmness); a chapter "
                             "records only the rows its claims' rules return")
        if r["verdict"] not in VERDICTS:
            raise ValueError(f"unknown verdict {r['verdict']!r}; valid: {', '.join(VERDICTS)}")
        paper, _, claim, paper_value = CLAIMS[cid]
        out.append({"claim_id": cid, "paper": paper, "chapter": chapter, "claim": claim,
                    "paper_value": paper_value, "our_value": str(r.get("our_value", "")),
                    "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high"), "n_seeds": r.get("n_seeds"),
                    "profile": profile, "verdict": r["verdict"], "firmness": r.get("firmness"),
                    "spread": r.get("spread", ""), "seeds_to_firm": r.get("seeds_to_firm", ""),
                    "note": r.get("note", "")})
    # `grok run/book` stage an execution's verdicts ($GROK_CLAIMS_STAGE) and move them into
    # claims_dir() only when the whole chapter succeeded: a failed run keeps the last good ones
    d = Path(folder or os.environ.get("GROK_CLAIMS_STAGE") or claims_dir())
    write_text(d / f"{chapter}.json",
               json.dumps([{k: _plain(v) for k, v in r.items()} for r in out], indent=1, allow_nan=False))
    return pd.DataFrame(out, columns=COLUMNS).set_index("claim_id")


def _plain(v):
    """JSON-safe: numpy scalars to Python, NaN/inf to null (strict JSON has no NaN)."""
    if v is None or isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return int(f) if float(f).is_integer() and not isinstance(v, float) else f


def ledger(folder=None) -> pd.DataFrame:
    """Every claim id, with the verdict its chapter recorded or 'not yet run'."""
    d = Path(folder) if folder else claims_dir()
    recorded = {}
    for f in sorted(d.glob("*.json")) if d.exists() else []:
        for r in json.loads(f.read_text()):
            recorded[r["claim_id"]] = r
    rows = []
    for cid, (paper, chapter, claim, paper_value) in CLAIMS.items():
        rows.append(recorded.get(cid) or {
            "claim_id": cid, "paper": paper, "chapter": chapter, "claim": claim, "paper_value": paper_value,
            "our_value": "", "ci_low": None, "ci_high": None, "n_seeds": None, "profile": "",
            "verdict": "inconclusive at this profile", "firmness": None, "spread": "",
            "seeds_to_firm": "", "note": "not yet run"})
    return pd.DataFrame(rows, columns=COLUMNS)


def judge(claim_id: str, df: pd.DataFrame, n_resamples: int = rules.N_RESAMPLES, regime: str = "",
          **opts) -> dict:
    """Apply the registered rule of `claim_id` to `df` and return the ledger row: verdict, our
    value, CI, seeds, note, firmness (share of resamples agreeing), the verdict spread over
    resamples, and, for a fragile verdict, the seeds that would firm it up.
    `regime`: how the chapter's setting leaves the regime the claim is about (e.g. AdamW where the
    paper used SGD); then the verdict is 'inconclusive at this profile' and the note says what
    the rule gave, since a verdict from another regime does not test the claim."""
    if claim_id not in rules.RULES:
        raise ValueError(f"no rule for claim id {claim_id!r}; valid: {', '.join(sorted(rules.RULES))}")
    r = rules.RULES[claim_id]
    v = r.fn(df, **opts)
    share, dist = rules.firmness(r, df, v.verdict, n=n_resamples, **opts)
    if regime:
        spread = "; ".join(f"{k} {p:.0%}" for k, p in dist.items())
        return {"claim_id": claim_id, "verdict": rules.UNCLEAR, "our_value": v.our_value,
                "ci_low": v.ci_low, "ci_high": v.ci_high, "n_seeds": v.n_seeds,
                "note": f"outside the paper's regime ({regime}): the rule gives '{v.verdict}' here "
                        f"(resamples: {spread}), which does not test the claim. {v.note}".strip(),
                "firmness": None, "spread": "", "seeds_to_firm": "", "extra": v.extra}
    row = {"claim_id": claim_id, "verdict": v.verdict, "our_value": v.our_value, "ci_low": v.ci_low,
           "ci_high": v.ci_high, "n_seeds": v.n_seeds, "note": v.note, "firmness": round(share, 3),
           "spread": "; ".join(f"{k} {p:.0%}" for k, p in dist.items()),
           "seeds_to_firm": rules.seeds_to_firm(r, df, v.verdict, v.n_seeds, **opts) if share < rules.FRAGILE else "",
           "extra": v.extra}
    return row
