"""Results store: one NetCDF file per configuration, named by the hash of its canonical config.

Writes are atomic (a temp file in the same folder, then a rename), so a killed job leaves no
partial file; a run whose file exists is loaded instead of trained. HDF5 file locking is
off (one writer per file by construction), which avoids lock failures on shared file systems.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import xarray as xr  # noqa: E402

from .config import RunConfig  # noqa: E402

ENGINE = "netcdf4"


class StoreError(RuntimeError):
    """A results file that cannot be read; the message names it and how to drop it."""


def results_dir(root: str | os.PathLike | None = None) -> Path:
    """The store's folder: `root`, else $GROK_RESULTS, else ./results."""
    return Path(root or os.environ.get("GROK_RESULTS") or "results")


def path_for(cfg: RunConfig, root=None) -> Path:
    return results_dir(root) / f"{cfg.model}-{cfg.task}-{cfg.hash()}.nc"


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=ENGINE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load(path: Path, cfg: RunConfig | None = None) -> xr.Dataset:
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
    return ds


def run(cfg: RunConfig, root=None, device: str = "auto", progress: bool = True,
        force: bool = False) -> xr.Dataset:
    """The results of `cfg`: read from the store when present, else trained and saved."""
    path = path_for(cfg, root)
    if path.exists() and not force:
        ds = load(path, cfg)
        ds.attrs["cached"] = 1
        return ds
    from .train import train
    ds = train(cfg, device=device, progress=progress)
    save(ds, path)
    ds.attrs["cached"] = 0
    return ds


def run_many(cfgs, root=None, device: str = "auto", progress: bool = True, executor=None,
             plan: str | None = None, allow_missing: bool = False) -> list[xr.Dataset]:
    """The results of every config, in order (cached ones are loaded, the rest trained).
    With an executor (or $GROK_EXECUTOR), a plan name (or $GROK_PLAN) or allow_missing, the
    jobs go through grokcore.executors.run_jobs (local, dask or slurm; failures collected)."""
    if executor or plan or allow_missing or os.environ.get("GROK_EXECUTOR") or os.environ.get("GROK_PLAN"):
        from .executors import run_jobs
        return run_jobs(cfgs, root=root, device=device, progress=progress, executor=executor,
                        plan=plan, allow_missing=allow_missing)
    return [run(c, root=root, device=device, progress=progress) for c in cfgs]
