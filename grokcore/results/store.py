"""Results store: one NetCDF file per configuration, named by the hash of its canonical config.

Writes are atomic (`_atomic.atomic_write`), so a killed job leaves no partial file; a config
whose file exists is loaded instead of trained (by `grokcore.results.run_many`). HDF5 file
locking is off (one writer per file by construction), which avoids lock failures on shared
file systems.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import xarray as xr  # noqa: E402

from ._atomic import atomic_write  # noqa: E402
from ..core.linear_problems import upgrade  # noqa: E402
from .kinds import kind_of  # noqa: E402

ENGINE = "netcdf4"


class StoreError(RuntimeError):
    """A results file that cannot be read; the message names it and how to drop it."""


def results_dir(root: str | os.PathLike | None = None) -> Path:
    """The store's folder: `root`, else $GROK_RESULTS, else ./results."""
    return Path(root or os.environ.get("GROK_RESULTS") or "results")


def path_for(cfg, root=None) -> Path:
    """The results file of a config of any kind (RunConfig, LinearConfig)."""
    return results_dir(root) / f"{kind_of(cfg).prefix(cfg)}-{cfg.hash()}.nc"


def check_writable(root) -> Path:
    """Create the store folder if needed and prove a file can be written there."""
    d = results_dir(root)
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".probe-"):
            pass
    except OSError as e:
        raise StoreError(f"cannot write results to {d}: {e.strerror or e}") from None
    return d


def save(ds: xr.Dataset, path: Path) -> Path:
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine=ENGINE))


def load(path: Path, cfg=None) -> xr.Dataset:
    """The Dataset of a results file, checked against `cfg` when given. Every file is read here, so
    this is the one place older files are brought to today's names (`linear_problems.upgrade`: a
    linear problem stored with t1 / t2 is read with t_train / t_grok; its hash is unchanged)."""
    path = Path(path)
    try:
        ds = xr.load_dataset(path, engine=ENGINE)
    except FileNotFoundError:
        raise
    except Exception as e:  # HDF5/NetCDF errors have many types
        raise StoreError(f"corrupt results file {path} ({type(e).__name__}); delete it "
                         f"(rm '{path}') and rerun to recompute it") from None
    if cfg is not None and ds.attrs.get("config_hash") != cfg.hash():
        raise StoreError(f"results file {path} holds config {ds.attrs.get('config_hash')}, "
                         f"expected {cfg.hash()}; delete it and rerun")
    return upgrade(ds)
