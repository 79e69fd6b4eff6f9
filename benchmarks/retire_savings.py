"""How much training `RunConfig.retire='grokked'` would save on the book's own runs, exactly.

Retirement leaves every member's trajectory unchanged (tests/test_retire.py), so the steps a
member would not train are known from a run made without it: at each evaluation the trainer's own
condition (`core.retire.grokked`) is asked which members are done, from the step at which train
and test accuracy first both reached the threshold (the trainer's `grokked_at`) and whether the
loss is still finite; the ensemble still ends with its last member. This script reads the datasets a
built book published (book/chapters/data/*.nc) and prints, per chapter, the member-steps trained
and the share retirement would remove. Member-steps are machine-independent; wall time falls by
less, since an ensemble step has a cost that does not scale with its members.

usage: python benchmarks/retire_savings.py [BOOK_ROOT]
"""
import sys
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from grokcore.core import retire
from grokcore.core.config import RunConfig


def savings(ds: xr.Dataset) -> tuple[int, int]:
    """(member-steps trained, member-steps retirement would save) of one run ((0, 0) for a
    linear problem, which has no accuracy curves)."""
    if "train_acc" not in ds or "test_acc" not in ds:
        return 0, 0
    cfg = RunConfig.from_json(ds.attrs["config"])
    steps = ds["step"].values
    end = float(steps[-1])
    both = (ds["train_acc"].values >= cfg.threshold) & (ds["test_acc"].values >= cfg.threshold)  # (E, steps)
    grokked_at = np.where(both.any(1), steps[both.argmax(1)], np.nan).astype(float)
    finite = np.isfinite(ds["train_loss"].values)
    retired_at = np.full(len(both), end)
    pending = np.ones(len(both), bool)
    for j, step in enumerate(steps):
        done = pending & retire.grokked(cfg, step, grokked_at, finite[:, j])
        retired_at[done], pending = step, pending & ~done
    return int(end * len(both)), int((end - retired_at).sum())


def main(root: Path):
    total = [0, 0]
    print(f"{'chapter':22s} {'member-steps':>14s} {'saved':>12s} {'share':>7s}")
    for f in sorted((root / "book" / "chapters" / "data").glob("*.nc")):
        trained = saved = 0
        with netCDF4.Dataset(f) as nc:
            groups = list(nc.groups)
        for group in groups:
            with xr.open_dataset(f, group=group) as ds:
                t, s = savings(ds)
            trained, saved = trained + t, saved + s
        total = [total[0] + trained, total[1] + saved]
        share = saved / trained if trained else float("nan")
        print(f"{f.stem:22s} {trained:14,d} {saved:12,d} {share:7.1%}")
    print(f"{'all':22s} {total[0]:14,d} {total[1]:12,d} {total[1] / max(total[0], 1):7.1%}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
