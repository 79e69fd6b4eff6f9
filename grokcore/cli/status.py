"""`grok status [CHAPTER]`: which jobs of a chapter's sweep are done, failed, running or missing,
and the compute each took. Reads the plans that `run_many(..., plan=)` / $GROK_PLAN recorded in
<results>/plans/ and the job records in <results>/jobs/; executes nothing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..results import executors as ex
from ..results import store
from .common import check_seed_offset, fail

STATES = ("done", "failed", "running", "missing", "corrupt")


def register(sub):
    s = sub.add_parser("status", help="done / failed / missing jobs of a chapter's sweep, and their compute",
                       description="Without CHAPTER: one line per recorded plan (chapter-profile). With "
                       "CHAPTER: one row per planned job. 'running' means started and not finished: "
                       "still running, or killed (rerun the chapter to redo it).")
    s.add_argument("chapter", nargs="?", help="chapter name, or a full plan name such as p3_fraction-quick")
    s.add_argument("--profile", default=None, help="only this profile's plan (default: every profile)")
    s.add_argument("--seed-offset", type=int, default=None, metavar="K", help="only the plan of the "
                   "replication at seed offset K (0: the default build; default: every plan)")
    s.add_argument("--out", default=None, help="results folder (default: $GROK_RESULTS or ./results)")
    s.add_argument("--check", action="store_true", help="open every results file and report corrupt ones")
    s.add_argument("--clean", action="store_true", help="delete corrupt results files (implies --check) "
                   "and temp files left by killed writes, so a rerun recomputes them")
    s.add_argument("--json", action="store_true", help="print JSON instead of tables")
    s.set_defaults(func=cmd_status)


def _offset(name: str) -> int:
    """The seed offset a plan name records ('p2_norms-quick-offset100' -> 100; none -> 0)."""
    tail = name.rsplit("-offset", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0


def plans(root, chapter=None, profile=None, offset=None) -> list[str]:
    d = store.results_dir(root) / "plans"
    names = sorted(p.stem for p in d.glob("*.json")) if d.exists() else []
    if offset is not None:
        names = [n for n in names if _offset(n) == offset]
    if chapter is None:
        return names
    if chapter in names and profile is None:
        return [chapter]
    want = f"{chapter}-{profile}" if profile else None
    return [n for n in names if (n.removesuffix(f"-offset{_offset(n)}") == want if want
                                 else n.startswith(chapter + "-"))]


def summary(table) -> dict:
    counts = table["state"].value_counts().to_dict() if len(table) else {}
    wall = table["wall_s"].dropna().astype(float).sum() if len(table) else 0.0
    return {"jobs": len(table), **{s: int(counts.get(s, 0)) for s in STATES}, "compute_s": round(float(wall), 1)}


def cmd_status(args):
    import pandas as pd
    root = args.out
    if args.seed_offset is not None:
        check_seed_offset(args.seed_offset)
    names = plans(root, args.chapter, args.profile, args.seed_offset)
    if args.chapter and not names:
        known = ", ".join(plans(root)) or "none"
        at = (f" at profile {args.profile}" if args.profile else "") + (
            f" at seed offset {args.seed_offset}" if args.seed_offset is not None else "")
        fail(f"no plan recorded for {args.chapter!r}{at} "
             f"in {store.results_dir(root) / 'plans'} (recorded plans: {known}); run the chapter first")
    check = args.check or args.clean
    tables = {n: ex.jobs_table(ex.load_plan(n, root), root, check=check) for n in names}
    stray = ex.stray_tmp_files(root)
    if args.clean:
        for t in tables.values():
            for f in t.loc[t["state"] == "corrupt", "file"]:
                Path(f).unlink(missing_ok=True)
                print(f"removed corrupt {f}", file=sys.stderr)
        for f in stray:
            f.unlink(missing_ok=True)
        if stray:
            print(f"removed {len(stray)} temp files left by killed writes", file=sys.stderr)
        stray = []
    if args.json:
        out = {n: {"summary": summary(t), "jobs": json.loads(t.to_json(orient="records"))} for n, t in tables.items()}
        print(json.dumps({"plans": out, "stray_tmp_files": [str(f) for f in stray]}, indent=1))
        return 0
    if args.chapter:
        for n, t in tables.items():
            s = summary(t)
            print(f"{n}: {s['done']}/{s['jobs']} done, {s['failed']} failed, {s['running']} running or lost, "
                  f"{s['missing']} missing" + (f", {s['corrupt']} corrupt" if check else "")
                  + f"; compute {s['compute_s']:.1f} s")
            show = t.drop(columns=["file"] + [c for c in ("error", "log") if not t[c].astype(bool).any()])
            print(show.to_string(index=False, na_rep="-"))
    elif tables:
        rows = [{"plan": n, **summary(t)} for n, t in tables.items()]
        print(pd.DataFrame(rows).to_string(index=False))
    else:
        print(f"no plans recorded in {store.results_dir(root) / 'plans'}")
    if stray:
        print(f"{len(stray)} temp files left by killed writes (never counted as results; "
              "`grok status --clean` removes them)")
    return 0
