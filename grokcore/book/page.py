"""What a chapter's notebook calls to put numbers and data on its page: `glue`,
`publish_results`, and `reference_run` for the checks run outside the book."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..results._atomic import atomic_write
from .chapters import Paths, find_root


def publish_results(chapter: str, datasets, root=None, append: bool = False) -> Path:
    """Write the datasets a chapter used into book/chapters/data/<chapter>.nc (one NetCDF group
    per dataset, named by its key or config hash) so the page can offer them for download.
    With `append`, the groups are added to the file an earlier call of this chapter wrote.
    Under `grok run/book` the file goes to $GROK_DATA_STAGE first, moved into book/chapters/data/
    only when the whole chapter succeeded."""
    p = Paths(Path(root) if root else find_root())
    items = datasets.items() if isinstance(datasets, dict) else ((d.attrs.get("config_hash", str(i)), d)
                                                                 for i, d in enumerate(datasets))
    out = Path(os.environ.get("GROK_DATA_STAGE") or p.data) / f"{chapter}.nc"

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


def reference_run(cfg, root=None):
    """A check run outside the book (`book/reproducing.md` gives its command) that a chapter reads:
    `(dataset, source)` from the results store when the user trained `cfg` there, else from the
    copy the book ships in `book/reference/`; `(None, "")` when neither holds it. Nothing is
    trained here: such runs take longer than a chapter's share of the quick budget. Under a
    replication ($GROK_SEED_OFFSET) the config's seeds are moved first, so the shipped default
    run is never read as a replicated one."""
    from ..core.config import seed_offset, with_seed_offset
    from ..results import store
    cfg = with_seed_offset(cfg, seed_offset())
    shipped = (Path(root) if root else find_root()) / "book" / "reference"
    for source, folder in (("results store", None), ("book/reference", shipped)):
        path = store.path_for(cfg, folder)
        if path.exists():
            return store.load(path, cfg), source
    return None, ""


def glue(name: str, value, display: bool = False):
    """myst_nb.glue for chapter numbers. numpy scalars become plain Python first: their repr
    (np.float64(...)) cannot take a format spec such as {glue:text}`key:.3g`."""
    from myst_nb import glue as _glue
    if isinstance(value, np.generic):
        value = value.item()
    return _glue(name, value, display=display)


def ledger_html(table, fragile: float = 0.8) -> str:
    """The claims ledger as an HTML table: claim (linked to its chapter), the paper's value, our
    value with its 95% CI, seeds, the verdict as a coloured badge, firmness (marked fragile
    below `fragile`, with the seeds that would firm it up) and the note."""
    import html

    from ..claims.rules import fmt
    from .plots import VERDICT_COLORS

    def cell(v):
        return "" if v is None or (isinstance(v, float) and v != v) else html.escape(str(v))
    rows = []
    for r in table.to_dict("records"):
        badge = (f'<span style="background:{VERDICT_COLORS.get(r["verdict"], "#888")};color:white;'
                 f'padding:1px 6px;border-radius:8px;white-space:nowrap">{html.escape(r["verdict"])}</span>')
        ci = "" if r.get("ci_low") is None or r["ci_low"] != r["ci_low"] else f' [{fmt(r["ci_low"])}, {fmt(r["ci_high"])}]'
        firm = r.get("firmness")
        if firm is None or firm != firm:
            firm_txt = ""
        else:
            firm_txt = f"{float(firm):.0%}"
            if float(firm) < fragile:
                firm_txt += " <b>fragile</b>" + (f" (needs {cell(r.get('seeds_to_firm'))} seeds)"
                                                 if r.get("seeds_to_firm") else "")
        seeds = "" if r.get("n_seeds") is None or r["n_seeds"] != r["n_seeds"] else str(int(r["n_seeds"]))
        rows.append(f'<tr><td><a href="{r["chapter"]}.html">{cell(r["claim_id"])}</a><br>'
                    f'<small>{cell(r["claim"])}</small></td><td>{cell(r["paper_value"])}</td>'
                    f'<td>{cell(r["our_value"])}{ci}</td><td>{seeds}</td><td>{badge}</td>'
                    f'<td>{firm_txt}</td><td><small>{cell(r["note"])}</small></td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("claim", "paper", "ours [95% CI]", "seeds", "verdict",
                                             "firmness", "note"))
    return f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
