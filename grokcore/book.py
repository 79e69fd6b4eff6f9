"""The book: chapter discovery, parameter checking, execution with papermill, the HTML build
and the checks a built book must pass.

A chapter is `notebooks/<name>.ipynb` (its `parameters` cell holds the quick profile's values)
plus `notebooks/<name>.yml` (title, part, claims, and per-profile overrides). Executed chapters
are written to `book/chapters/<name>.ipynb`; they, the verdicts in `book/chapters/_claims/`, the
downloadable results in `book/chapters/data/` and `claims.csv` are build outputs.
"""
from __future__ import annotations

import ast
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

PROFILES = ("smoke", "quick", "paper")
LEDGER = "claims_ledger"  # the ledger page: a notebook executed after every chapter, not a chapter


class BookError(RuntimeError):
    """Bad input (unknown chapter, parameter, value or profile): a one-line message."""


class ChapterFailed(RuntimeError):
    """A chapter raised while executing; the message names the chapter, the cell and the error."""


# ---------------------------------------------------------------------------------- layout
def find_root(start=None) -> Path:
    """The repository root: $GROK_BOOK_ROOT, else the first folder at or above `start` (cwd)
    holding both `_toc.yml` and `notebooks/`."""
    if os.environ.get("GROK_BOOK_ROOT"):
        return Path(os.environ["GROK_BOOK_ROOT"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "_toc.yml").exists() and (d / "notebooks").is_dir():
            return d
    raise BookError(f"no book here: no folder at or above {here} has _toc.yml and notebooks/")


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def notebooks(self): return self.root / "notebooks"
    @property
    def chapters(self): return self.root / "book" / "chapters"
    @property
    def claims(self): return self.chapters / "_claims"
    @property
    def data(self): return self.chapters / "data"
    @property
    def extra(self): return self.chapters / "_extra"      # html_extra_path: copied to the site root
    @property
    def timings(self): return self.chapters / "_timings.json"
    @property
    def timings_md(self): return self.chapters / "_timings.md"  # included by book/reproducing.md
    @property
    def build(self): return self.root / "_build"
    @property
    def html(self): return self.build / "html"
    @property
    def results(self): return Path(os.environ.get("GROK_RESULTS") or self.root / "results").resolve()


# ---------------------------------------------------------------------------------- chapters
@dataclass
class Chapter:
    name: str
    title: str
    part: str
    claims: list
    profiles: dict                      # profile -> {param: value} overrides
    notebook: Path
    params: dict = field(default_factory=dict)   # name -> default value (the quick profile)
    minutes: dict = field(default_factory=dict)  # profile -> rough wall minutes: scheduling only


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def notebook_params(path: Path) -> dict:
    """The names and default values assigned in the notebook's cell tagged `parameters` (the cell
    papermill injects after). Read with Python's own parser rather than papermill's line regex,
    which drops lines whose comments contain '=' or ':'; a non-literal value keeps its source."""
    import nbformat
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise BookError(f"{path} has no cell tagged 'parameters'")
    out = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and node.value is not None:
                out[targets[0].id] = _literal(ast.get_source_segment(cells[0].source, node.value))
    return out


def load_chapter(nb_yml: Path, with_params: bool = True) -> Chapter:
    spec = yaml.safe_load(nb_yml.read_text()) or {}
    nb = nb_yml.with_suffix(".ipynb")
    profiles = spec.get("profiles") or {}
    bad = sorted(set(profiles) - set(PROFILES))
    if bad:
        raise BookError(f"{nb_yml}: unknown profile {bad[0]!r}; valid: {', '.join(PROFILES)}")
    ch = Chapter(name=nb_yml.stem, title=spec.get("title", nb_yml.stem), part=spec.get("part", ""),
                 claims=list(spec.get("claims") or []), profiles={k: dict(v or {}) for k, v in profiles.items()},
                 notebook=nb, minutes=dict(spec.get("minutes") or {}))
    if with_params:
        ch.params = notebook_params(nb)
    return ch


def chapters(root=None, with_params: bool = True) -> dict[str, Chapter]:
    """Every chapter with both notebooks/<name>.yml and notebooks/<name>.ipynb, by name."""
    p = Paths(Path(root) if root else find_root())
    return {y.stem: load_chapter(y, with_params) for y in sorted(p.notebooks.glob("*.yml"))
            if y.with_suffix(".ipynb").exists()}


def get_chapter(name: str, root=None) -> Chapter:
    found = chapters(root, with_params=False)
    if name not in found:
        raise BookError(f"unknown chapter {name!r}; valid: {', '.join(found) or '(none)'}")
    return load_chapter(found[name].notebook.with_suffix(".yml"))


# ---------------------------------------------------------------------------------- parameters
def _valid_list(ch: Chapter) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in ch.params.items())


def coerce(ch: Chapter, name: str, value):
    """`value` (text from the command line, or a YAML value) as the type of the default of
    parameter `name`; BookError naming the valid parameters when it cannot be."""
    if name not in ch.params:
        raise BookError(f"unknown parameter {name!r} for chapter {ch.name}; valid: {_valid_list(ch)}")
    default = ch.params[name]

    def bad():
        return BookError(f"bad value {value!r} for {name} (expects {type(default).__name__}, default "
                         f"{default!r}) in chapter {ch.name}; valid: {_valid_list(ch)}")

    def one(v, like):
        if isinstance(like, bool):
            if isinstance(v, bool):
                return v
            if isinstance(v, str) and v.lower() in ("true", "false", "1", "0", "yes", "no"):
                return v.lower() in ("true", "1", "yes")
            raise bad()
        if isinstance(like, (int, float)):  # an int parameter takes ints only; a float one, ints too
            kind = type(like)
            numbers = (int,) if kind is int else (int, float)
            if isinstance(v, numbers) and not isinstance(v, bool):
                return kind(v)
            if isinstance(v, str):
                try:
                    return kind(v)
                except ValueError:
                    raise bad() from None
            raise bad()
        if isinstance(like, str):
            if isinstance(v, str):
                return v
            raise bad()
        return _literal(v) if isinstance(v, str) else v   # None default: any literal

    if isinstance(default, (list, tuple)):
        if isinstance(value, str):
            text = value.strip()
            items = _literal(text) if text[:1] in "[(" else [s for s in text.split(",") if s.strip()]
            if isinstance(items, str) or not isinstance(items, (list, tuple)):
                raise bad()
        elif isinstance(value, (list, tuple)):
            items = value
        else:
            raise bad()
        like = default[0] if default else None
        return [one(v.strip() if isinstance(v, str) else v, like) if like is not None else v for v in items]
    return one(value, default)


def compose(ch: Chapter, profile: str = "quick", overrides=()) -> dict:
    """The parameters a run uses: the notebook's defaults, then the profile's overrides from the
    chapter's .yml, then the user's (name, value) pairs. Only names that differ from the
    notebook's defaults are returned (what papermill injects), plus `profile`."""
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    out = {}
    for k, v in ch.profiles.get(profile, {}).items():
        out[k] = coerce(ch, k, v)
    for k, v in overrides:
        if k == "profile":
            raise BookError(f"set the profile with --profile ({', '.join(PROFILES)}), not -p profile")
        out[k] = coerce(ch, k, v)
    if "profile" in ch.params:
        out["profile"] = profile
    return out


# ---------------------------------------------------------------------------------- execution
def _env(p: Paths):
    os.environ["GROK_RESULTS"] = str(p.results)
    os.environ["GROK_CLAIMS_DIR"] = str(p.claims)
    os.environ["GROK_BOOK_ROOT"] = str(p.root)
    os.environ["GROK_NO_PROGRESS"] = "1"  # training bars would be printed into the pages


def execute(ch: Chapter, params: dict, root=None, progress: bool = True) -> float:
    """Execute one chapter into book/chapters/<name>.ipynb; returns the wall time in seconds.
    The output is written to a temporary file first and moved into place only on success; on
    failure the chapter's previous output and verdicts are removed (they are no longer current)
    the partly executed notebook is kept under _build/failed/, and the previous HTML is moved
    to _build/html-stale/."""
    import papermill as pm
    p = Paths(Path(root) if root else find_root())
    _env(p)
    for d in (p.chapters, p.claims, p.data, p.extra, p.build / "exec"):
        d.mkdir(parents=True, exist_ok=True)
    tmp = p.build / "exec" / f"{ch.name}.ipynb"
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(ch.notebook), str(tmp), parameters=params, cwd=str(p.root),
                            progress_bar=progress, kernel_name="python3")
    except pm.PapermillExecutionError as e:
        failed = p.build / "failed"
        failed.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp), failed / tmp.name)
        for stale in (p.chapters / f"{ch.name}.ipynb", p.claims / f"{ch.name}.json"):
            stale.unlink(missing_ok=True)
        _stale(p, f"chapter {ch.name} failed; this HTML is out of date")
        first = (e.source or "").strip().splitlines()[:1]
        raise ChapterFailed(f"chapter {ch.name} failed in cell {e.cell_index} (execution count {e.exec_count}"
                            f"{': ' + first[0][:60] if first else ''}): {e.ename}: {e.evalue}; "
                            f"partly executed notebook: {failed / tmp.name}") from None
    os.replace(tmp, p.chapters / f"{ch.name}.ipynb")
    return time.perf_counter() - t0


def record_timing(chapter: str, profile: str, params: dict, wall_s: float, root=None):
    p = Paths(Path(root) if root else find_root())
    t = json.loads(p.timings.read_text()) if p.timings.exists() else {}
    t[chapter] = {"profile": profile, "wall_s": round(wall_s, 1), "params": params,
                  "finished_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")}
    p.timings.parent.mkdir(parents=True, exist_ok=True)
    p.timings.write_text(json.dumps(t, indent=1))


def timings_table(root=None) -> str:
    p = Paths(Path(root) if root else find_root())
    t = json.loads(p.timings.read_text()) if p.timings.exists() else {}
    lines = [f"{'chapter':<22} {'profile':<8} {'wall s':>8}  finished (UTC)"]
    lines += [f"{k:<22} {v['profile']:<8} {v['wall_s']:>8.1f}  {v['finished_utc']}" for k, v in t.items()]
    return "\n".join(lines)


def environment() -> dict:
    import torch
    return {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"}


def write_timings_md(root=None):
    """The table of per-chapter wall times and the environment, included by book/reproducing.md."""
    p = Paths(Path(root) if root else find_root())
    t = json.loads(p.timings.read_text()) if p.timings.exists() else {}
    rows = ["| chapter | profile | wall time (s) | finished (UTC) | parameters set |", "|---|---|---|---|---|"]
    for k, v in t.items():
        params = ", ".join(f"`{a}={b!r}`" for a, b in v["params"].items()) or "defaults"
        rows.append(f"| {k} | {v['profile']} | {v['wall_s']:.1f} | {v['finished_utc']} | {params} |")
    if not t:
        rows.append("| (no chapter executed yet) | | | | |")
    env = environment()
    rows += ["", "Measured on: " + "; ".join(f"{k} {v}" for k, v in env.items()) + "."]
    p.timings_md.parent.mkdir(parents=True, exist_ok=True)
    p.timings_md.write_text("\n".join(rows) + "\n")


def write_claims_csv(root=None) -> Path:
    from .ledger import ledger
    p = Paths(Path(root) if root else find_root())
    p.extra.mkdir(parents=True, exist_ok=True)
    out = p.extra / "claims.csv"
    ledger(p.claims).to_csv(out, index=False)
    return out


def publish_results(chapter: str, datasets, root=None, append: bool = False) -> Path:
    """Write the datasets a chapter used into book/chapters/data/<chapter>.nc (one NetCDF group
    per dataset, named by its key or config hash) so the page can offer them for download.
    With `append`, the groups are added to the file an earlier call of this chapter wrote."""
    import re
    p = Paths(Path(root) if root else find_root())
    items = datasets.items() if isinstance(datasets, dict) else ((d.attrs.get("config_hash", str(i)), d)
                                                                 for i, d in enumerate(datasets))
    p.data.mkdir(parents=True, exist_ok=True)
    out = p.data / f"{chapter}.nc"
    tmp = out.with_suffix(".nc.tmp")
    tmp.unlink(missing_ok=True)
    if append and out.exists():
        shutil.copy(out, tmp)
    for i, (key, ds) in enumerate(items):
        ds = ds.copy()
        ds.attrs = {k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))}
        group = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(key)).strip("_") or str(i)
        ds.to_netcdf(tmp, mode="a" if tmp.exists() else "w", group=group, engine="netcdf4")
    os.replace(tmp, out)
    return out


# ---------------------------------------------------------------------------------- build
def toc_pages(toc: dict) -> list[str]:
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return pages


def pruned_toc(root=None) -> dict:
    """The committed _toc.yml without the pages whose source does not exist (chapters not yet
    written or not executed), and without parts left empty."""
    p = Paths(Path(root) if root else find_root())
    toc = yaml.safe_load((p.root / "_toc.yml").read_text())

    def exists(f):
        return any((p.root / (f + s)).exists() for s in ("", ".md", ".ipynb"))
    parts = []
    for part in toc.get("parts", []):
        kept = [c for c in part.get("chapters", []) if exists(c["file"])]
        if kept:
            parts.append({**part, "chapters": kept})
    return {**toc, "parts": parts}


def _stale(p: Paths, why: str):
    """Move the previous HTML aside so it is not mistaken for the current book."""
    if p.html.exists():
        dest = p.build / "html-stale"
        shutil.rmtree(dest, ignore_errors=True)
        p.html.rename(dest)
        (dest / "STALE.txt").write_text(why + "\n")


def build_html(root=None, log=print) -> Path:
    """Execute the ledger page, then build the HTML with Jupyter Book (-W -n --keep-going)
    from the pruned table of contents, then check the result."""
    p = Paths(Path(root) if root else find_root())
    write_claims_csv(p.root)
    write_timings_md(p.root)
    ledger_nb = p.notebooks / f"{LEDGER}.ipynb"
    if ledger_nb.exists():
        ledger = Chapter(LEDGER, "Claims ledger", "", [], {}, ledger_nb)
        execute(ledger, {}, p.root, progress=False)
    p.build.mkdir(parents=True, exist_ok=True)
    toc_file = p.build / "_toc.yml"
    toc_file.write_text(yaml.safe_dump(pruned_toc(p.root), sort_keys=False))
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(p.root), "--toc", str(toc_file),
           "-W", "-n", "--keep-going"]
    log("building HTML: " + " ".join(cmd))
    r = subprocess.run(cmd, cwd=p.root, capture_output=True, text=True)
    if r.returncode != 0:
        _stale(p, "the last build failed; this HTML is out of date")
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-30:])
        raise ChapterFailed(f"jupyter-book build failed (exit {r.returncode}):\n{tail}")
    problems = check_site(p.root)
    if problems:
        _stale(p, "the last build failed its checks; this HTML is out of date")
        raise ChapterFailed("built book failed its checks:\n  " + "\n  ".join(problems))
    return p.html / "index.html"


def check_site(root=None) -> list[str]:
    """What is wrong with the built book (empty when nothing): every page of the pruned toc is
    an HTML file, no executed notebook holds an error, every chapter has a figure, every image
    a page refers to exists, and claims.csv lists every claim id."""
    import re

    import pandas as pd

    from .ledger import CLAIMS
    p = Paths(Path(root) if root else find_root())
    problems = []
    toc = pruned_toc(p.root)
    for page in toc_pages(toc):
        html = p.html / f"{page}.html"
        if not html.exists():
            problems.append(f"page {page} has no HTML ({html})")
            continue
        for src in re.findall(r'<img[^>]+src="([^"]+)"', html.read_text()):
            if not src.startswith(("http:", "https:", "data:")) and not (html.parent / src).resolve().exists():
                problems.append(f"page {page}: image {src} is missing")
    for nb in sorted(p.chapters.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        outputs = [o for c in cells for o in c.get("outputs", [])]
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            problems.append(f"{nb.name}: error output {errors[0].get('ename')}: {errors[0].get('evalue')}")
        figures = [o for o in outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
        if nb.stem != LEDGER and not figures:
            problems.append(f"{nb.name}: chapter has no figure")
    csv = p.html / "claims.csv"
    if not csv.exists():
        problems.append("claims.csv is missing from the site")
    else:
        missing = sorted(set(CLAIMS) - set(pd.read_csv(csv)["claim_id"]))
        if missing:
            problems.append(f"claims.csv lacks claim ids {', '.join(missing)}")
    return problems


def _source_hash(ch: "Chapter", params: dict) -> str:
    """What a chapter's executed page depends on: its notebook, its parameters and grokcore's
    own source (results come from the store, keyed by config, so they need no entry here)."""
    import hashlib
    h = hashlib.sha256(ch.notebook.read_bytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


def _stamp(p: Paths, name: str) -> Path:
    return p.chapters / "_stamps" / f"{name}.txt"


def up_to_date(ch: "Chapter", params: dict, root=None) -> bool:
    """True when book/chapters/<name>.ipynb was executed from this very notebook, parameters and
    grokcore source, and its verdicts are in place: re-executing it would change nothing."""
    p = Paths(Path(root) if root else find_root())
    st = _stamp(p, ch.name)
    return (st.exists() and st.read_text().strip() == _source_hash(ch, params)
            and (p.chapters / f"{ch.name}.ipynb").exists()
            and (not ch.claims or (p.claims / f"{ch.name}.json").exists()))


def mark_executed(ch: "Chapter", params: dict, root=None):
    """Record what the chapter's page was executed from (see `up_to_date`)."""
    st = _stamp(Paths(Path(root) if root else find_root()), ch.name)
    st.parent.mkdir(parents=True, exist_ok=True)
    st.write_text(_source_hash(ch, params) + "\n")


def _execute_job(name: str, profile: str, params: dict, root: str, threads: int) -> tuple[str, float]:
    """One chapter in a worker process: its own plan name and torch thread count, inherited by
    the kernel that papermill starts."""
    os.environ["GROK_PLAN"] = f"{name}-{profile}"  # the jobs `grok status` lists
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    ch = get_chapter(name, root)
    wall = execute(ch, params, root, progress=False)
    record_timing(name, profile, params, wall, root)
    mark_executed(ch, params, root)
    return name, wall


def select(chs: dict, only) -> list[str]:
    """Chapter names picked by `only` (chapter names and/or parts such as P3); all if empty."""
    if not only:
        return list(chs)
    parts = sorted({ch.part for ch in chs.values() if ch.part})
    bad = [o for o in only if o not in chs and o not in parts]
    if bad:
        raise BookError(f"unknown chapter or part {', '.join(map(repr, bad))}; valid: parts "
                        f"{', '.join(parts)}; chapters {', '.join(chs)}")
    return [n for n, ch in chs.items() if n in only or ch.part in only]


def build_book(profile: str = "quick", root=None, log=print, jobs: int = 1,
               force: bool = False, only=None) -> dict[str, float]:
    """Execute every chapter (or those picked by `only`, see `select`) at `profile`, `jobs` at
    a time (each with cpus/jobs torch threads), skipping chapters that are up to date unless
    `force`; stop at the first failure (chapters already running finish, none starts); then
    build and check the HTML. Returns the wall time of each chapter executed now."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context
    p = Paths(Path(root) if root else find_root())
    chs = chapters(p.root)
    chs = {n: chs[n] for n in select(chs, only)}
    plans = {name: compose(ch, profile) for name, ch in chs.items()}  # all input checked first
    todo = [n for n in chs if force or not up_to_date(chs[n], plans[n], p.root)]
    if jobs > 1:  # longest first, so that the pool drains evenly: by the last recorded time at this
        # profile, else by the chapter's `minutes` hint in its yml, else first (unknown)
        last = json.loads(p.timings.read_text()) if p.timings.exists() else {}

        def expected(n):
            rec = last.get(n, {})
            if rec.get("profile") == profile:
                return rec["wall_s"]
            return 60.0 * chs[n].minutes.get(profile, float("inf"))
        todo.sort(key=lambda n: -expected(n))
    for n in chs:
        if n not in todo:
            log(f"== {n} ({profile}): up to date, not re-executed")
    workers = max(1, jobs)
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0
    times, failure, running = {}, None, {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        while (todo and failure is None) or running:
            while todo and failure is None and len(running) < workers:
                n = todo.pop(0)
                log(f"== {n} ({profile})")
                running[pool.submit(_execute_job, n, profile, plans[n], str(p.root), threads)] = n
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                n = running.pop(fut)
                try:
                    times[n] = fut.result()[1]
                    log(f"   {n}: {times[n]:.1f} s")
                except ChapterFailed as e:
                    failure = failure or e
    if failure is not None:
        raise failure
    if times:
        log(f"== executed {len(times)} chapters in {time.perf_counter() - t0:.1f} s wall, {workers} at a time")
    build_html(p.root, log)
    return times


def glue(name: str, value, display: bool = False):
    """myst_nb.glue for chapter numbers. numpy scalars become plain Python first: their repr
    (np.float64(...)) cannot take a format spec such as {glue:text}`key:.3g`."""
    from myst_nb import glue as _glue
    if isinstance(value, np.generic):
        value = value.item()
    return _glue(name, value, display=display)
