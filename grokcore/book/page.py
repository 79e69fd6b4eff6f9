"""What a chapter's notebook calls to put numbers and data on its page: `Page` (the chapter's
name and profile, its data, figure captions, glued numbers and recorded verdicts), `glue`,
`publish_results`, and `reference_run` for the checks run outside the book."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..results._atomic import atomic_write
from .chapters import Paths, find_root


CHAPTER_ENV = "GROK_CHAPTER"   # set by `grok run/book` for the kernel that executes a chapter
RECORD_COLUMNS = ["verdict", "our_value", "ci_low", "ci_high", "firmness", "spread", "note"]


def chapter_name() -> str:
    """The name of the chapter being executed: $GROK_CHAPTER under `grok run/book`; in Jupyter,
    the notebook's file name (Jupyter server sets $JPY_SESSION_NAME to its path)."""
    name = os.environ.get(CHAPTER_ENV) or Path(os.environ.get("JPY_SESSION_NAME", "")).stem
    if not name:
        raise RuntimeError(f"cannot tell which chapter this is: ${CHAPTER_ENV} is not set; run it with "
                           "`grok run CHAPTER`, or pass Page(profile, name=CHAPTER)")
    return name


class Page:
    """One executing chapter: its name (from the run, never typed in the notebook) and profile.
    `publish` offers the runs for download, `caption` is the line under every figure, `glue`
    puts a number into the text, and `record` saves the chapter's verdict rows and shows them."""

    def __init__(self, profile: str, name: str | None = None):
        self.profile, self.name = profile, name or chapter_name()

    def publish(self, datasets, append: bool = False) -> Path:
        return publish_results(self.name, datasets, append=append)

    def caption(self, n_seeds: int, extra: str = "") -> str:
        from .plots import caption
        return caption(self.profile, n_seeds, self.name, extra)

    def glue(self, values: dict | None = None, fmt: bool = True, **named):
        """Glue each key without displaying it. With `fmt`, a value that is not a string is
        written by rules.fmt (3 significant digits, 12.3k); without, it is glued as it is (for
        a format spec in the text, such as {glue:text}`key:.1%`)."""
        from ..claims.rules import fmt as text
        for key, v in {**(values or {}), **named}.items():
            glue(key, text(v) if fmt and not isinstance(v, str) else v, display=False)

    def record(self, rows: list[dict]):
        """Save the verdict rows (`ledger.record_claims`) and return the columns a page shows."""
        from ..claims import ledger
        return ledger.record_claims(self.name, self.profile, rows)[RECORD_COLUMNS]


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


def reference_runs(cfgs, root=None):
    """The parts of a reference run (`cfgs`, ensembles whose members a chapter pools), each read as
    `reference_run` reads one: `(datasets found, source)`, the source naming where each part came
    from; `([], "")` when none is found."""
    found = [r for r in (reference_run(c, root) for c in cfgs) if r[0] is not None]
    sources = list(dict.fromkeys(source for _, source in found))
    return [ds for ds, _ in found], " and ".join(sources)


def glue(name: str, value, display: bool = False):
    """myst_nb.glue for chapter numbers. numpy scalars become plain Python first: their repr
    (np.float64(...)) cannot take a format spec such as {glue:text}`key:.3g`."""
    from myst_nb import glue as _glue
    if isinstance(value, np.generic):
        value = value.item()
    return _glue(name, value, display=display)


# The ledger's CSS: a table exactly as wide as the content column (fixed layout), one line per
# claim (long values cut with an ellipsis), the full row in a <details> below its summary line.
LEDGER_CSS = """
.grok-ledger { width: 100% !important; max-width: 100%; table-layout: fixed !important; border-collapse: collapse;
  font-size: 0.9em; }
.grok-ledger th, .grok-ledger td { padding: 0.2em 0.4em; vertical-align: top; text-align: left; }
.grok-ledger col.id { width: 15%; } .grok-ledger col.verdict { width: 20%; }
.grok-ledger col.firm { width: 12%; } .grok-ledger col.values { width: 53%; }
.grok-ledger tr.paper th { padding-top: 0.8em; border-bottom: 2px solid #ccc; font-size: 1.05em; white-space: normal; }
.grok-ledger td.id { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.grok-ledger tr.claim td { border-bottom: 1px solid #eee; }
.grok-ledger .badge-v { color: white; padding: 1px 6px; border-radius: 8px; white-space: nowrap; font-size: 0.9em; }
.grok-ledger details > summary { cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.grok-ledger summary .v { display: inline-block; max-width: 44%; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
.grok-ledger details[open] > summary .v { white-space: normal; max-width: none; display: inline; }
.grok-ledger .more { margin: 0.3em 0 0.5em 1em; } .grok-ledger .more p { margin: 0 0 0.2em; overflow-wrap: anywhere; }
.grok-ledger .more b { color: #555; }
.grok-ledger td.firm { white-space: nowrap; }
"""

# Details shown when a column is present and not empty: (column, label). The lead's gate columns
# (raw_verdict ... seed_offset) appear once the ledger table has them.
LEDGER_DETAILS = (("claim", "claim"), ("paper_value", "paper"), ("our_value", "ours"), ("n_seeds", "seeds"),
                  ("profile", "profile"), ("raw_verdict", "rule's verdict before gates"),
                  ("raw_firmness", "its firmness"), ("gate", "regime gate"), ("overrides", "parameters changed"),
                  ("seed_offset", "seed offset"), ("spread", "resamples"), ("seeds_to_firm", "seeds to firm up"),
                  ("note", "note"))


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and str(v) != ""


def ledger_html(table, fragile: float = 0.8) -> str:
    """The claims ledger as an HTML table that fits the content column, grouped by paper: claim
    id (linked to its chapter), the verdict as a coloured badge, firmness (marked fragile below
    `fragile`, or where the table's `fragile` column says so), and ours against the paper's value
    on one line; a <details> under that line holds the full claim, the values with their CI,
    seeds, profile, the gate columns when the table has them, and the note."""
    import html

    from ..claims.rules import fmt
    from .plots import VERDICT_COLORS

    def cell(v):
        if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
            v = int(v)
        return html.escape(fmt(v) if isinstance(v, float) else str(v)) if _present(v) else ""

    def ci(r):
        lo, hi = r.get("ci_low"), r.get("ci_high")
        return f" [{fmt(lo)}, {fmt(hi)}]" if _present(lo) and _present(hi) else ""

    def firmness(r):
        f = r.get("firmness")
        if not _present(f):
            return ""
        weak = bool(r["fragile"]) if _present(r.get("fragile")) else float(f) < fragile
        return f"{float(f):.0%}" + (' <b title="fewer resamples than the threshold agree">fragile</b>' if weak else "")

    def details(r):
        items = []
        for col, label in LEDGER_DETAILS:
            v = r.get(col)
            if col == "our_value" and _present(v):
                items.append(f"<p><b>{label}:</b> {cell(v)}{html.escape(ci(r))}</p>")
            elif _present(v) and not (col in ("gate", "overrides", "seed_offset") and str(v) in ("False", "0")):
                items.append(f"<p><b>{label}:</b> {cell(v)}</p>")
        return '<div class="more">' + "".join(items) + "</div>"

    rows = []
    records = table.to_dict("records")
    for paper in dict.fromkeys(r["paper"] for r in records):
        group = [r for r in records if r["paper"] == paper]
        counts = {}
        for r in group:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        tally = ", ".join(f"{n} {v.replace(' at this profile', '')}" for v, n in counts.items())
        rows.append(f'<tr class="paper"><th colspan="4">{html.escape(str(paper))} '
                    f'<small>({len(group)} claims: {html.escape(tally)})</small></th></tr>')
        for r in group:
            v = r["verdict"]
            badge = (f'<span class="badge-v" title="{html.escape(v)}" style="background:'
                     f'{VERDICT_COLORS.get(v, "#888")}">{html.escape(v.replace(" at this profile", ""))}</span>')
            ours = cell(r.get("our_value")) or "–"
            summary = (f'<span class="v"><b>ours</b> {ours}{html.escape(ci(r))}</span> · '
                       f'<span class="v"><b>paper</b> {cell(r.get("paper_value"))}</span>')
            rows.append(f'<tr class="claim" id="claim-{html.escape(r["claim_id"])}">'
                        f'<td class="id"><a href="{html.escape(str(r["chapter"]))}.html">{cell(r["claim_id"])}</a></td>'
                        f'<td>{badge}</td><td class="firm">{firmness(r)}</td>'
                        f'<td><details><summary>{summary}</summary>{details(r)}</details></td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("claim", "verdict", "firmness", "ours vs paper (click for details)"))
    cols = "".join(f'<col class="{c}">' for c in ("id", "verdict", "firm", "values"))
    return (f"<style>{LEDGER_CSS}</style>"
            f'<table class="grok-ledger"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


# ------------------------------------------------------------------------------ the ledger page
def ledger_profiles(table) -> list[str]:
    """The profiles the ledger's verdicts were recorded at, sorted."""
    return sorted(p for p in table["profile"].unique() if p)


def ledger_numbers(table) -> dict:
    """What the ledger page's text glues: the claims per verdict (`n_reproduced`, `n_partially`,
    `n_not`, `n_inconclusive`), all claims, those not yet run, fragile and gated, the fragile
    threshold and the resamples per firmness, and the profiles."""
    from ..claims import rules
    counts = table["verdict"].value_counts()
    out = {"n_" + v.split()[0]: int(counts.get(v, 0)) for v in rules.VERDICTS}
    out.update(n_claims=len(table), n_not_run=int((table["note"] == "not yet run").sum()),
               n_fragile=int(table["fragile"].fillna(False).astype(bool).sum()),
               n_gated=int((table["gate"].fillna("") != "").sum()),
               fragile_pct=f"{rules.FRAGILE:.0%}", n_resamples=rules.N_RESAMPLES,
               profiles=", ".join(ledger_profiles(table)) or "none")
    return out


def ledger_figure(table):
    """The verdicts by paper (stacked bars), with the profiles and the command that rebuilds them."""
    import matplotlib.pyplot as plt

    from .plots import verdicts_by_paper
    profiles = ledger_profiles(table)
    fig, ax = plt.subplots(figsize=(6, 2.8))
    verdicts_by_paper(ax, table)
    ax.set_title("Verdicts by paper")
    fig.text(0.0, -0.08, f"Profile(s): {', '.join(profiles) or 'none'}. Rebuild: grok book --profile "
             f"{profiles[0] if profiles else 'quick'}", fontsize=8)
    plt.show()


def replication_report(folder=None):
    """For each recorded replication build (`grok book --seed-offset K`): how many claims agree
    with the book's, and the two builds' verdicts side by side; a line saying none was recorded
    otherwise."""
    from IPython.display import display

    from ..claims.ledger import replication, replication_offsets
    offsets = replication_offsets(folder)
    if not offsets:
        print("No replication build has been recorded: run `grok book --seed-offset 100`, then `grok book`.")
    for k in offsets:
        rep = replication(k, folder)
        both = rep["agree"].notna()
        print(f"Seed offset {k}: {int(rep.loc[both, 'agree'].sum())} of the {int(both.sum())} claims run in both "
              f"builds agree with the book's ({int((~both).sum())} not run in the replication).")
        display(rep[["claim_id", "default", "replication", "agree", "default_raw", "replication_raw"]]
                .rename(columns={"default": "book", "default_raw": "book (rule's own)",
                                 "replication_raw": "replication (rule's own)"}).set_index("claim_id"))
