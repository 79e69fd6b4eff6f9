"""What a chapter's notebook calls to put numbers and data on its page: `glue` and
`publish_results`."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

from ..results._atomic import atomic_write
from .chapters import Paths, find_root


def publish_results(chapter: str, datasets, root=None, append: bool = False) -> Path:
    """Write the datasets a chapter used into book/chapters/data/<chapter>.nc (one NetCDF group
    per dataset, named by its key or config hash) so the page can offer them for download.
    With `append`, the groups are added to the file an earlier call of this chapter wrote."""
    p = Paths(Path(root) if root else find_root())
    items = datasets.items() if isinstance(datasets, dict) else ((d.attrs.get("config_hash", str(i)), d)
                                                                 for i, d in enumerate(datasets))
    out = p.data / f"{chapter}.nc"

    def write(tmp):
        if append and out.exists():
            shutil.copy(out, tmp)
        else:
            Path(tmp).unlink()
        for i, (key, ds) in enumerate(items):
            ds = ds.copy()
            ds.attrs = {k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))}
            group = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(key)).strip("_") or str(i)
            ds.to_netcdf(tmp, mode="a" if Path(tmp).exists() else "w", group=group, engine="netcdf4")
    atomic_write(out, write)
    return out


def glue(name: str, value, display: bool = False):
    """myst_nb.glue for chapter numbers. numpy scalars become plain Python first: their repr
    (np.float64(...)) cannot take a format spec such as {glue:text}`key:.3g`."""
    from myst_nb import glue as _glue
    if isinstance(value, np.generic):
        value = value.item()
    return _glue(name, value, display=display)
