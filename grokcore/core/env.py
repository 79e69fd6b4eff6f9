"""What a result was computed with: the lock file's hash and the installed packages.

`requirements.lock` (pip-compile, at the repository root) pins every package the book and the
tests use; `make install` installs from it. Results record the first 16 hex digits of its
SHA-256 next to `versions`, so a results file names the environment that made it. Outside a
checkout (grokcore installed without the repository) there is no lock and the hash is ''.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

LOCK_NAME = "requirements.lock"
VERSION = "0.1.0"   # grokcore's version: the root package's __version__, the same as pyproject.toml's


def lock_path() -> Path:
    """Where the lock lives in a checkout: the folder above the grokcore package."""
    return Path(__file__).resolve().parents[2] / LOCK_NAME


@lru_cache(maxsize=1)
def lock_hash() -> str:
    """SHA-256 of requirements.lock, first 16 hex digits; '' when there is none."""
    try:
        return hashlib.sha256(lock_path().read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def packages() -> dict[str, str]:
    """Every installed distribution and its version (importlib.metadata), by lower-case name."""
    from importlib.metadata import distributions
    out = {}
    for d in distributions():
        name = (d.metadata["Name"] or "").strip()
        if name:
            out.setdefault(name.lower(), d.version)
    return dict(sorted(out.items()))
