"""Keep freed tensor memory in the process on Linux/glibc.

A training step allocates and frees the same large activations every step. glibc serves big
blocks with mmap and returns freed heap to the OS, so every step faults its pages back in
(measured: ~30% of a reference-MLP step on 2 CPU cores spent in the kernel). Raising the mmap
and trim thresholds keeps that memory for reuse. Set GROK_MALLOC=default to leave malloc alone.
"""
from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def tune() -> bool:
    """Apply the thresholds once; True when applied (glibc found and not opted out)."""
    if os.environ.get("GROK_MALLOC") == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    ok = libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)  # glibc's largest allowed mmap threshold
    ok &= libc.mallopt(M_TRIM_THRESHOLD, 2**30)
    return bool(ok)
