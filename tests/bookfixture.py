"""A copy of the book's sources built once per test session at the smoke profile (shared by
test_book.py and test_browser.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GROK = Path(sys.executable).with_name("grok")


def copy_sources(dest: Path) -> Path:
    """The book's sources (toc, config, prose, chapter templates) without any build output."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in ("_toc.yml", "_config.yml"):
        shutil.copy(REPO / f, dest / f)
    shutil.copytree(REPO / "notebooks", dest / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(REPO / "book", dest / "book", ignore=shutil.ignore_patterns("chapters"))
    only = os.environ.get("GROK_TEST_CHAPTERS")  # e.g. "intro_grokking": a faster local check
    if only:
        keep = set(only.split(",")) | {"claims_ledger"}
        for f in (dest / "notebooks").iterdir():
            if f.stem not in keep:
                f.unlink()
    return dest


def grok(root: Path, *args, timeout=1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "GROK_BOOK_ROOT": str(root), "GROK_RESULTS": str(root / "results")}
    return subprocess.run([str(GROK), *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def smoke_book(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Build the whole book at the smoke profile once per session; later calls reuse it."""
    root = tmp_path_factory.getbasetemp() / "smoke_book"
    done = root / ".built"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        copy_sources(root)
        r = grok(root, "book", "--profile", "smoke")
        (root / "book_stdout.txt").write_text(r.stdout + "\n--- stderr\n" + r.stderr)
        done.write_text(str(r.returncode))
    log = (root / "book_stdout.txt").read_text()
    return root, subprocess.CompletedProcess([], int(done.read_text()), log, "")
