"""Checks run outside the book that a chapter reads (`page.reference_run`): their numbers and
verdicts for book/reproducing.md, from the run itself (the user's store, else book/reference/)
and from the ledger row the chapter recorded on it, so the page types none of them."""
from __future__ import annotations

from pathlib import Path

from ..results._atomic import write_text
from .chapters import Paths, find_root
from .page import reference_run


def _reference_checks():
    """(claim id, what, config) for every reference run a chapter judges a claim on."""
    from ..claims import p1
    return [("P1-canonical", f"P1's depth-2 MLP at the paper's exact setting, seeds {p1.seed_span(cfg.seeds)} "
             "(one ensemble)", cfg) for cfg in p1.canonical_parts()]


def checks_md(root=None) -> str:
    """A table: per reference run, where it was read from, its steps, wall time and speed, and the
    ledger's verdict with our value (or 'not yet run')."""
    from ..claims import ledger
    from ..claims.rules import fmt
    p = Paths(Path(root) if root else find_root())
    rows = ledger.ledger(p.claims_base).set_index("claim_id")
    lines = ["| claim | run | read from | steps run | training time | ours | verdict |", "|---|---|---|---|---|---|---|"]
    for cid, what, cfg in _reference_checks():
        ds, source = reference_run(cfg, p.root)
        r = rows.loc[cid]
        if ds is None:
            lines.append(f"| {cid} | {what} | not in the store or book/reference | | | | {r['verdict']} |")
            continue
        wall, speed = float(ds.attrs.get("wall_time_s", "nan")), float(ds.attrs.get("model_steps_per_s", "nan"))
        lines.append(f"| {cid} | {what} (`{ds.attrs.get('config_hash', '')}`) | {source} | "
                     f"{fmt(float(ds['step'].values[-1]))} | {fmt(wall)} s at {fmt(speed)} steps/s on "
                     f"{ds.attrs.get('device_name', '?')} | {r['our_value']} | **{r['verdict']}** ({r['note']}) |")
    return "\n".join(lines) + "\n"


def write_checks_md(root=None) -> Path:
    """book/chapters/_checks.md, included by book/reproducing.md."""
    out = Paths(Path(root) if root else find_root()).chapters / "_checks.md"
    write_text(out, checks_md(root))
    return out
