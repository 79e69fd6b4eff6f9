"""The HTML book: the ledger page and claims.csv, the pruned table of contents, the Jupyter Book
build (-W -n --keep-going) and the checks a built book must pass."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from .cells import merge_parameters
from .packages import write_packages_md
from .checks import write_checks_md
from .chapters import LEDGER, Chapter, ChapterFailed, Paths, _stale, find_root
from .execute import execute, write_timings_md
from ..results._atomic import write_text
from .failed import mark_pages

def write_claims_csv(root=None) -> Path:
    """claims.csv (the book's verdicts) and, for each replication build recorded beside them,
    claims-offset-K.csv (its verdicts), into the folder copied to the site root."""
    from ..claims.ledger import ledger, replication_offsets
    p = Paths(Path(root) if root else find_root())
    p.extra.mkdir(parents=True, exist_ok=True)
    out = p.extra / "claims.csv"
    ledger(p.claims_base).to_csv(out, index=False)
    for k in replication_offsets(p.claims_base):
        ledger(p.claims_base / f"offset-{k}").to_csv(p.extra / f"claims-offset-{k}.csv", index=False)
    return out


def toc_pages(toc: dict) -> list[str]:
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return pages


def pruned_toc(root=None) -> dict:
    """The committed _toc.yml without the pages whose source does not exist (chapters not yet
    written or not executed), and without parts left empty."""
    p = Paths(Path(root) if root else find_root())
    toc = yaml.safe_load((p.root / "_toc.yml").read_text())

    def exists(f):
        return any((p.root / (f + s)).exists() for s in ("", ".md", ".ipynb"))
    parts = []
    for part in toc.get("parts", []):
        kept = [c for c in part.get("chapters", []) if exists(c["file"])]
        if kept:
            parts.append({**part, "chapters": kept})
    return {**toc, "parts": parts}


def write_papers_md(root=None) -> Path:
    """book/chapters/_papers.md (the specification, from grokcore.claims.papers), included by
    book/papers.md."""
    from ..claims import papers
    out = Paths(Path(root) if root else find_root()).chapters / "_papers.md"
    write_text(out, papers.markdown())
    return out


def build_html(root=None, log=print) -> Path:
    """Execute the ledger page, then build the HTML with Jupyter Book (-W -n --keep-going)
    from the pruned table of contents, then check the result."""
    p = Paths(Path(root) if root else find_root())
    write_claims_csv(p.root)
    write_timings_md(p.root)
    write_packages_md(p.root)
    write_papers_md(p.root)
    write_checks_md(p.root)
    ledger_nb = p.notebooks / f"{LEDGER}.ipynb"
    if ledger_nb.exists():
        ledger = Chapter(LEDGER, "Claims ledger", "", [], {}, ledger_nb)
        execute(ledger, {}, p.root, progress=False)
    for nb in sorted(p.chapters.glob("*.ipynb")):  # one parameters cell per page (book.cells)
        merge_parameters(nb)
    p.build.mkdir(parents=True, exist_ok=True)
    toc_file = p.build / "_toc.yml"
    toc_file.write_text(yaml.safe_dump(pruned_toc(p.root), sort_keys=False))
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(p.root), "--toc", str(toc_file),
           "-W", "-n", "--keep-going"]
    log("building HTML: " + " ".join(cmd))
    r = subprocess.run(cmd, cwd=p.root, capture_output=True, text=True)
    if r.returncode != 0:
        _stale(p, "the last build failed; this HTML is out of date")
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-30:])
        raise ChapterFailed(f"jupyter-book build failed (exit {r.returncode}):\n{tail}")
    problems = check_site(p.root)
    if problems:
        _stale(p, "the last build failed its checks; this HTML is out of date")
        raise ChapterFailed("built book failed its checks:\n  " + "\n  ".join(problems))
    marked = mark_pages(p.root)  # the chapters whose last attempt failed say so on their page
    if marked:
        log("pages marked as from before a failed attempt: " + ", ".join(marked))
    return p.html / "index.html"


_BADLY_FORMATTED = re.compile(r"np\.float64\(|np\.int64\(|\bNaN\b|(?<![\w.])nan(?![\w.])|\b\d+\.\d{6,}\b")


def _printed(outputs):
    """The text a reader sees in a notebook's outputs (stream, plain text, HTML tables)."""
    for o in outputs:
        if "scrapbook" in o.get("metadata", {}):  # a glued value: shown where it is formatted
            continue
        if o.get("output_type") == "stream":
            yield "".join(o.get("text", ""))
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in o.get("data", {}) and not {"image/png", "image/svg+xml"} & set(o["data"]):
                yield "".join(o["data"][mime])


def check_site(root=None) -> list[str]:
    """What is wrong with the built book (empty when nothing): every page of the pruned toc is
    an HTML file, no executed notebook holds an error or a badly formatted number (NaN,
    np.float64(...), six-decimal floats), every chapter has a figure, every image a page refers
    to exists, and claims.csv lists every claim id."""

    import pandas as pd

    from ..claims.ledger import CLAIMS
    p = Paths(Path(root) if root else find_root())
    problems = []
    toc = pruned_toc(p.root)
    for page in toc_pages(toc):
        html = p.html / f"{page}.html"
        if not html.exists():
            problems.append(f"page {page} has no HTML ({html})")
            continue
        for src in re.findall(r'<img[^>]+src="([^"]+)"', html.read_text()):
            if not src.startswith(("http:", "https:", "data:")) and not (html.parent / src).resolve().exists():
                problems.append(f"page {page}: image {src} is missing")
    for nb in sorted(p.chapters.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        outputs = [o for c in cells for o in c.get("outputs", [])]
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            problems.append(f"{nb.name}: error output {errors[0].get('ename')}: {errors[0].get('evalue')}")
        for text in _printed(outputs):
            bad = _BADLY_FORMATTED.search(text)
            if bad:
                problems.append(f"{nb.name}: printed output holds {bad.group(0)!r} (format numbers "
                                "with grokcore.claims.rules.fmt)")
                break
        figures = [o for o in outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
        if nb.stem != LEDGER and not figures:
            problems.append(f"{nb.name}: chapter has no figure")
    csv = p.html / "claims.csv"
    if not csv.exists():
        problems.append("claims.csv is missing from the site")
    else:
        missing = sorted(set(CLAIMS) - set(pd.read_csv(csv)["claim_id"]))
        if missing:
            problems.append(f"claims.csv lacks claim ids {', '.join(missing)}")
    return problems
