"""A chapter's failed attempt, kept apart from its last good page.

When a chapter raises during execution, `execute` leaves its last successful output, verdicts,
stamp and the built HTML in place, moves the partly executed notebook to
`_build/failed/<name>.ipynb` and writes a record `book/chapters/_failed/<name>.json` (when,
profile, parameters, error, that notebook, the command to retry); the next successful execution
of the chapter removes both. The ledger page (`notice_html`) and the chapter's page
(`mark_pages`, after the HTML build) say that the last attempt failed and when.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import shlex
from pathlib import Path

from ..results._atomic import write_json
from .chapters import Paths, find_root

MARK = "grok-failed-attempt"  # brackets the notice written into a chapter's HTML page


def retry_command(name: str, params: dict, profile_defaults: dict | None = None) -> str:
    """The `grok run` command that repeats an execution with `params` (the composed ones);
    values the profile sets anyway (`profile_defaults`) are left out."""
    profile = params.get("profile", "quick")
    words = ["grok", "run", name, "--profile", profile]
    for k, v in params.items():
        if k != "profile" and (profile_defaults or {}).get(k, object()) != v:
            words += ["-p", k, v if isinstance(v, str) else repr(v)]
    return " ".join(shlex.quote(w) for w in words)


def record(name: str, params: dict, error: str, partial: Path | None, retry: str, root=None) -> dict:
    """Write the failure record of chapter `name` (atomically) and return it."""
    p = Paths(Path(root) if root else find_root())
    rec = {"chapter": name, "when_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
           "profile": params.get("profile", ""), "params": params, "error": error,
           "partial_notebook": str(partial) if partial else None, "retry": retry}
    write_json(p.failures / f"{name}.json", rec)
    return rec


def clear(name: str, root=None) -> None:
    """Forget a failed attempt of `name`: its record and its partly executed notebook."""
    p = Paths(Path(root) if root else find_root())
    (p.failures / f"{name}.json").unlink(missing_ok=True)
    (p.failed / f"{name}.ipynb").unlink(missing_ok=True)


def failures(root=None) -> dict[str, dict]:
    """The chapters whose last attempt failed: name -> record (see `record`), oldest name first."""
    p = Paths(Path(root) if root else find_root())
    if not p.failures.is_dir():
        return {}
    return {f.stem: json.loads(f.read_text()) for f in sorted(p.failures.glob("*.json"))}


def _tame(text: str) -> str:
    """Numbers in an error as the built book's checks want them printed (no long decimals, no
    bare nan)."""
    text = re.sub(r"\b\d+\.\d{6,}\b", lambda m: f"{float(m.group()):.4g}", text)
    return re.sub(r"(?<![\w.])(nan|NaN)(?![\w.])", "not-a-number", text)


def _shown(params: dict) -> str:
    def one(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(one(x) for x in v) + "]"
        return repr(v) if isinstance(v, str) else str(v)
    return ", ".join(f"{k}={one(v)}" for k, v in params.items() if k != "profile") or "its defaults"


def describe(rec: dict) -> str:
    """One sentence (HTML) on a failed attempt: when, with what, what went wrong, how to retry."""
    return (f"the last attempt, at {html.escape(rec['when_utc'])} UTC with profile "
            f"{html.escape(str(rec['profile']))} and {html.escape(_shown(rec['params']))}, failed: "
            f"<code>{html.escape(_tame(rec['error']))}</code>. Retry with "
            f"<code>{html.escape(rec['retry'])}</code>")


def notice_html(root=None) -> str:
    """The ledger's warning naming every chapter whose last attempt failed ('' when none)."""
    p = Paths(Path(root) if root else find_root())
    recs = failures(p.root)
    if not recs:
        return ""
    items = []
    for name, rec in recs.items():
        page = (f'<a href="{name}.html">{name}</a>' if (p.chapters / f"{name}.ipynb").exists()
                else f"{name} (no page: it never executed successfully)")
        items.append(f"<li>{page}: {describe(rec)}.</li>")
    return ('<div class="admonition warning"><p class="admonition-title">Failed attempts</p>'
            "<p>The last attempt to execute these chapters failed; their pages and the verdicts "
            "below are those of their last successful execution.</p>"
            f"<ul>{''.join(items)}</ul></div>")


def mark_pages(root=None) -> list[str]:
    """Put a warning at the top of each built chapter page whose last attempt failed, and take
    it off the others; returns the pages marked."""
    p = Paths(Path(root) if root else find_root())
    recs = failures(p.root)
    marked = []
    for page in sorted((p.html / "book" / "chapters").glob("*.html")):
        before = page.read_text()
        text = re.sub(rf"<!-- {MARK} -->.*?<!-- /{MARK} -->", "", before, flags=re.S)
        rec = recs.get(page.stem)
        if rec:
            notice = (f'<!-- {MARK} --><div class="admonition warning"><p class="admonition-title">'
                      f"The last attempt failed</p><p>This page is from the last successful "
                      f"execution of {page.stem}; {describe(rec)}.</p></div><!-- /{MARK} -->")
            anchor = re.search(r'<article class="bd-article"[^>]*>|<body[^>]*>', text)
            at = anchor.end() if anchor else 0
            text = text[:at] + notice + text[at:]
            marked.append(page.stem)
        if text != before:
            page.write_text(text)
    return marked
