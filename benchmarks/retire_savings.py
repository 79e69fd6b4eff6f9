"""How much training `RunConfig.retire='grokked'` would save on the book's own runs, exactly.

Retirement leaves every member's trajectory unchanged (tests/test_retire.py), so the steps a
member would not train are known from a run made without it: a member that grokked retires at the
first evaluation after T_grok * (1 + stop_margin), a diverged one at the evaluation where its loss
turned non-finite; the ensemble still ends with its last member. This script reads the datasets a
built book published (book/chapters/data/*.nc) and prints, per chapter, the member-steps trained
and the share retirement would remove. Member-steps are machine-independent; wall time falls by
less, since an ensemble step has a cost that does not scale with its members.

usage: python benchmarks/retire_savings.py [BOOK_ROOT]
"""
import json
import sys
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr


def savings(ds: xr.Dataset) -> tuple[int, int]:
    """(member-steps trained, member-steps retirement would save) of one run (an RNN/linear
    problem without the grokking fields gives (0, 0))."""
    if "t_grok" not in ds or "step" not in ds.dims or "train_loss" not in ds:
        return 0, 0
    cfg = json.loads(ds.attrs["config"])
    steps = ds["step"].values
    end = float(steps[-1])
    margin = float(cfg.get("stop_margin", 0.0))
    loss = ds["train_loss"].values
    saved = 0.0
    for m in range(ds.sizes["member"]):
        tg = float(ds["t_grok"].values[m])
        dead = np.flatnonzero(~np.isfinite(loss[m]))
        if np.isfinite(tg):
            after = steps[steps >= tg * (1 + margin)]
            retire = float(after[0]) if len(after) else end
        elif len(dead):
            retire = float(steps[dead[0]])
        else:
            retire = end
        saved += end - retire
    return int(end * ds.sizes["member"]), int(saved)


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
