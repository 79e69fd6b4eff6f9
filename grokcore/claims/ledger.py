"""The claims ledger: every claim id of the four papers, and the verdicts chapters record.

A chapter calls `judge(claim_id, table)` for each claim it tests and `record_claims(chapter,
profile, rows)` with the rows; the book aggregates them into claims.csv. Claims no chapter has
recorded show as 'inconclusive at this profile' with the note 'not yet run'.

A verdict is *earned* in three steps (`judge`): the rule's own verdict on the runs (`raw_verdict`);
its regime gates, measured on the same runs (a failed gate makes the claim inconclusive at this
profile, naming the gate and its measured value); and its firmness, the share of seed resamples
on which the rule gives the same verdict (below rules.FRAGILE the claim is inconclusive and marked
fragile). A row also carries the parameters that differ from the profile's (`overrides`, from
$GROK_OVERRIDES, which `grok run -p` sets) and the replication seed offset (`seed_offset`); rows
of a replication build are kept apart, under `_claims/offset-K/`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..core.config import seed_offset
from ..results._atomic import write_text
from . import p1, p2, p3, p4, rules  # noqa: F401  (importing a paper's module registers its rules)
from .papers import CLAIMS  # noqa: F401  (claim id -> papers.Claim: the specification)
from .rules import VERDICTS

COLUMNS = ("claim_id", "paper", "chapter", "claim", "paper_value", "our_value", "ci_low", "ci_high",
           "n_seeds", "profile", "verdict", "firmness", "spread", "seeds_to_firm", "note",
           "raw_verdict", "raw_firmness", "fragile", "gate", "gates", "overrides", "seed_offset")
OVERRIDES_ENV = "GROK_OVERRIDES"   # JSON object: the chapter parameters that differ from the profile



def claims_dir(offset: int | None = None) -> Path:
    """Where chapters write their verdicts: $GROK_CLAIMS_DIR, else book/chapters/_claims; a
    replication build (seed offset K > 0) writes to its `offset-K` subfolder."""
    base = Path(os.environ.get("GROK_CLAIMS_DIR") or Path("book") / "chapters" / "_claims")
    k = seed_offset() if offset is None else offset
    return base / f"offset-{k}" if k else base


def overrides() -> dict:
    """The parameters of this execution that differ from its profile's ($GROK_OVERRIDES)."""
    raw = os.environ.get(OVERRIDES_ENV, "").strip()
    return json.loads(raw) if raw else {}


def record_claims(chapter: str, profile: str, rows: list[dict], folder=None) -> pd.DataFrame:
    """Validate and save a chapter's verdict rows; returns them as a table for display.
    Each row is what `judge` returned for a claim id of the chapter; a row that carries its own
    `profile` (a reference run at the paper's setting, not the chapter's profile) keeps it."""
    over, k = overrides(), seed_offset()
    over_text = ", ".join(f"{key}={json.dumps(v)}" for key, v in sorted(over.items()))
    out = []
    for r in rows:
        cid = r["claim_id"]
        if cid not in CLAIMS:
            raise ValueError(f"unknown claim id {cid!r}; valid: {', '.join(CLAIMS)}")
        if "firmness" not in r or "raw_verdict" not in r:
            raise ValueError(f"row {cid} was not made by ledger.judge (no firmness); a chapter "
                             "records only the rows its claims' rules return")
        if r["verdict"] not in VERDICTS:
            raise ValueError(f"unknown verdict {r['verdict']!r}; valid: {', '.join(VERDICTS)}")
        spec = CLAIMS[cid]
        out.append({"claim_id": cid, "paper": spec.paper, "chapter": chapter, "claim": spec.text,
                    "paper_value": spec.paper_value, "our_value": str(r.get("our_value", "")),
                    "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high"), "n_seeds": r.get("n_seeds"),
                    "profile": r.get("profile") or profile, "verdict": r["verdict"], "firmness": r.get("firmness"),
                    "spread": r.get("spread", ""), "seeds_to_firm": r.get("seeds_to_firm", ""),
                    "note": r.get("note", ""), "raw_verdict": r["raw_verdict"],
                    "raw_firmness": r.get("raw_firmness"), "fragile": bool(r.get("fragile")),
                    "gate": r.get("gate", ""), "gates": r.get("gates", ""),
                    "overrides": over_text, "seed_offset": k})
    # `grok run/book` stage an execution's verdicts ($GROK_CLAIMS_STAGE) and move them into
    # claims_dir() only when the whole chapter succeeded: a failed run keeps the last good ones
    d = Path(folder or os.environ.get("GROK_CLAIMS_STAGE") or claims_dir())
    write_text(d / f"{chapter}.json",
               json.dumps([{k: _plain(v) for k, v in r.items()} for r in out], indent=1, allow_nan=False))
    return pd.DataFrame(out, columns=COLUMNS).set_index("claim_id")


def _plain(v):
    """JSON-safe: numpy scalars to Python, NaN/inf to null (strict JSON has no NaN)."""
    if v is None or isinstance(v, (str, bool)):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return int(f) if float(f).is_integer() and not isinstance(v, float) else f


def ledger(folder=None, offset: int | None = None) -> pd.DataFrame:
    """Every claim id, with the verdict its chapter recorded or 'not yet run' (the replication
    build's with `offset` K > 0)."""
    d = Path(folder) if folder else claims_dir(offset)
    recorded = {}
    for f in sorted(d.glob("*.json")) if d.exists() else []:
        for r in json.loads(f.read_text()):
            recorded[r["claim_id"]] = r
    rows = []
    for cid, c in CLAIMS.items():
        rows.append(recorded.get(cid) or {
            "claim_id": cid, "paper": c.paper, "chapter": c.chapter, "claim": c.text, "paper_value": c.paper_value,
            "our_value": "", "ci_low": None, "ci_high": None, "n_seeds": None, "profile": "",
            "verdict": rules.INCONCLUSIVE, "firmness": None, "spread": "", "seeds_to_firm": "",
            "note": "not yet run", "raw_verdict": "", "raw_firmness": None, "fragile": False, "gate": "",
            "gates": "", "overrides": "", "seed_offset": offset or 0})
    return pd.DataFrame(rows, columns=COLUMNS)


def replication_offsets(folder=None) -> list[int]:
    """The seed offsets of the replication builds recorded beside the default ledger."""
    d = Path(folder) if folder else claims_dir(0)
    return sorted(int(p.name.split("-", 1)[1]) for p in d.glob("offset-*") if p.is_dir()
                  and p.name.split("-", 1)[1].isdigit() and any(p.glob("*.json")))


def replication(offset: int, folder=None) -> pd.DataFrame:
    """Per claim, the default build's verdict beside the replication's (seeds moved by `offset`),
    and whether they agree (a fragile verdict is inconclusive on its side; NaN where either side
    has not run the claim)."""
    base = Path(folder) if folder else claims_dir(0)
    a = ledger(base).set_index("claim_id")
    b = ledger(base / f"offset-{offset}").set_index("claim_id")
    out = pd.DataFrame({"paper": a["paper"], "default": a["verdict"], "default_raw": a["raw_verdict"],
                        "replication": b["verdict"], "replication_raw": b["raw_verdict"]})
    ran = (a["note"] != "not yet run") & (b["note"] != "not yet run")
    out["agree"] = (out["default"] == out["replication"]).where(ran)   # NaN: not run on both sides
    out.loc[b["note"] == "not yet run", "replication"] = "not yet run"
    return out.reset_index()


def _gate_text(gates) -> str:
    return "; ".join(str(g) for g in gates)


def judge(claim_id: str, df: pd.DataFrame, n_resamples: int = rules.N_RESAMPLES, regime: str = "",
          **opts) -> dict:
    """Apply the registered rule of `claim_id` to `df` and return the ledger row (see the module
    docstring): the rule's verdict (`raw_verdict`) and its firmness; each regime gate measured on
    `df` (`gates`); the earned `verdict`, which is the rule's unless a gate failed (`gate` names
    it) or the verdict is fragile (firmness below rules.FRAGILE), both giving 'inconclusive at
    this profile' with the reason first in the note. `regime`: a deviation the chapter knows of
    (e.g. AdamW where the paper used SGD), a failed gate of its own."""
    if claim_id not in rules.RULES:
        raise ValueError(f"no rule for claim id {claim_id!r}; valid: {', '.join(sorted(rules.RULES))}")
    r = rules.RULES[claim_id]
    v = r.fn(df, **opts)
    rules.notify(claim_id, v)
    share, dist = rules.firmness(r, df, v.verdict, n=n_resamples, **opts)
    gates = [g(df) for g in r.gates]
    if regime:
        gates.append(rules.Gate("the paper's optimiser", False, regime))
    failed = [g for g in gates if not g.passed]
    spread = "; ".join(f"{k} {p:.0%}" for k, p in dist.items())
    fragile = v.verdict != rules.INCONCLUSIVE and share < rules.FRAGILE
    verdict, why = v.verdict, ""
    if failed:
        verdict = rules.INCONCLUSIVE
        why = (f"outside the paper's regime ({_gate_text(failed)}): the rule gives '{v.verdict}' "
               f"(firmness {share:.2f}), which does not test the claim.")
    elif fragile:
        verdict = rules.INCONCLUSIVE
        why = (f"fragile: the rule gives '{v.verdict}' on only {share:.0%} of seed resamples "
               f"(needs {rules.FRAGILE:.0%}; {spread}).")
    return {"claim_id": claim_id, "verdict": verdict, "raw_verdict": v.verdict, "our_value": v.our_value,
            "ci_low": v.ci_low, "ci_high": v.ci_high, "n_seeds": v.n_seeds,
            "note": f"{why} {v.note}".strip(), "firmness": round(share, 3), "raw_firmness": round(share, 3),
            "fragile": bool(fragile and not failed), "gate": _gate_text(failed), "gates": _gate_text(gates),
            "spread": spread,
            "seeds_to_firm": rules.seeds_to_firm(r, df, v.verdict, v.n_seeds, **opts) if fragile else "",
            "extra": v.extra}
