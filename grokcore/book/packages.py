"""The Reproducing page's list of installed packages: every distribution in the environment
that builds the book, with its version (importlib.metadata), and the hash of the lock file it
was installed from (`make install` installs requirements.lock)."""
from __future__ import annotations

from pathlib import Path

from ..core.env import lock_hash, lock_path, packages
from ..results._atomic import write_text
from .chapters import Paths, find_root


def packages_md() -> str:
    pkgs = packages()
    h = lock_hash()
    lock = (f"`{lock_path().name}` SHA-256 (first 16 hex digits) `{h}`; every results file records the same "
            "hash in its attributes (`lock_hash`)" if h else "no `requirements.lock` found beside the installed "
            "`grokcore` (installed outside a checkout), so none is recorded")
    lines = [f"Built in an environment of {len(pkgs)} installed packages; lock file: {lock}.", "",
             "| package | version | package | version | package | version |", "|---|---|---|---|---|---|"]
    items = list(pkgs.items())
    rows = -(-len(items) // 3)
    for i in range(rows):
        cells = [items[j] for j in (i, i + rows, i + 2 * rows) if j < len(items)]
        cells += [("", "")] * (3 - len(cells))
        lines.append("| " + " | ".join(f"{n} | {v}" for n, v in cells) + " |")
    return "\n".join(lines) + "\n"


def write_packages_md(root=None) -> Path:
    """book/chapters/_packages.md, included by book/reproducing.md."""
    p = Paths(Path(root) if root else find_root())
    out = p.chapters / "_packages.md"
    write_text(out, packages_md())
    return out
