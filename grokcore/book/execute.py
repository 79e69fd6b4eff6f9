"""Executing chapters with papermill, in a kernel named for this project, and knowing when a
chapter's page is up to date (its notebook, parameters and the library code it runs)."""
from __future__ import annotations

import ast
import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from ..results._atomic import write_json, write_text
from ..results.executors import plan_name
from . import failed
from .chapters import BookError, Chapter, ChapterFailed, Paths, find_root, get_chapter  # noqa: F401

KERNEL = "grokcore"  # the project's kernel: this interpreter, never the user's own `python3`


def ensure_kernel(p: Paths) -> str:
    """Write the kernelspec `grokcore` (this Python, so this virtualenv) under _build/jupyter and
    put that folder first on JUPYTER_PATH; nothing is installed in the user's home."""
    spec = p.build / "jupyter" / "kernels" / KERNEL / "kernel.json"
    want = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python (grokcore, {Path(sys.prefix).name})", "language": "python"}
    if not spec.exists() or json.loads(spec.read_text()) != want:
        write_json(spec, want)
    paths = [str(spec.parents[2])] + [x for x in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if x]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    return KERNEL


def _env(p: Paths):
    ensure_kernel(p)
    os.environ["GROK_RESULTS"] = str(p.results)
    os.environ["GROK_CLAIMS_DIR"] = str(p.claims_base)  # ledger.claims_dir adds offset-K itself
    os.environ["GROK_BOOK_ROOT"] = str(p.root)
    os.environ["GROK_NO_PROGRESS"] = "1"  # training bars would be printed into the pages


def execute(ch: Chapter, params: dict, root=None, progress: bool = True) -> float:
    """Execute one chapter into book/chapters/<name>.ipynb; returns the wall time in seconds.
    The notebook, the verdicts and the data it writes go to a staging folder (_build/exec/<name>/)
    and replace the chapter's previous ones only when the whole notebook succeeded. On failure
    nothing of the last good book is touched (page, verdicts, data, stamp, HTML): the partly
    executed notebook goes to _build/failed/<name>.ipynb, a record of the attempt to
    book/chapters/_failed/<name>.json (see `failed`), and ChapterFailed names the cell, the error
    and the command to retry. The next successful execution removes both."""
    import papermill as pm
    p = Paths(Path(root) if root else find_root())
    _env(p)
    for d in (p.chapters, p.claims, p.data, p.extra):
        d.mkdir(parents=True, exist_ok=True)
    stage = p.build / "exec" / (f"{ch.name}-offset-{p.offset}" if p.offset else ch.name)
    shutil.rmtree(stage, ignore_errors=True)
    for d in ("claims", "data"):
        (stage / d).mkdir(parents=True)
    out = stage / f"{ch.name}.ipynb"
    t0 = time.perf_counter()
    try:
        with _environ(GROK_CLAIMS_STAGE=stage / "claims", GROK_DATA_STAGE=stage / "data", GROK_CHAPTER=ch.name):
            pm.execute_notebook(str(ch.notebook), str(out), parameters=params, cwd=str(p.root),
                                progress_bar=progress, kernel_name=KERNEL)
    except Exception as e:  # a cell that raised, a dead kernel, a timeout: the last good book stays
        raise _failure(p, ch, params, e, out) from None
    wall = time.perf_counter() - t0
    for d, dest in (("claims", p.claims), ("data", p.data)):
        for f in sorted((stage / d).iterdir()):
            os.replace(f, dest / f.name)
    os.replace(out, p.chapters / f"{ch.name}.ipynb")
    shutil.rmtree(stage, ignore_errors=True)
    failed.clear(ch.name, p.root)
    return wall


class _environ:
    """Set environment variables (inherited by the kernel papermill starts) for a `with` block."""

    def __init__(self, **values):
        self.values, self.saved = {k: str(v) for k, v in values.items()}, {}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _failure(p: Paths, ch: Chapter, params: dict, e: Exception, out: Path) -> ChapterFailed:
    """Keep the partly executed notebook, record the attempt, and say what failed."""
    partial = None
    if out.exists():
        p.failed.mkdir(parents=True, exist_ok=True)
        partial = p.failed / out.name
        os.replace(out, partial)
    shutil.rmtree(out.parent, ignore_errors=True)
    if getattr(e, "ename", None) is not None:  # papermill's PapermillExecutionError
        first = (e.source or "").strip().splitlines()[:1]
        where = (f"in cell {e.cell_index} (execution count {e.exec_count}"
                 f"{': ' + first[0][:60] if first else ''})")
        error = f"{e.ename}: {e.evalue}"
    else:
        where, error = "", f"{type(e).__name__}: {e}"
    error = " ".join(error.split())[:300]
    retry = failed.retry_command(ch.name, params, _profile_values(ch, params.get("profile")))
    failed.record(ch.name, params, error, partial, retry, p.root)
    kept = ("its last good page, verdicts and HTML are kept" if (p.chapters / f"{ch.name}.ipynb").exists()
            else "it has no earlier page")
    return ChapterFailed(f"chapter {ch.name} failed{' ' + where if where else ''}: {error}; {kept}; "
                         f"partly executed notebook: {partial or '(none)'}; retry: {retry}")


def _profile_values(ch: Chapter, profile) -> dict:
    from .chapters import coerce
    try:
        return {k: coerce(ch, k, v) for k, v in ch.profiles.get(profile, {}).items()}
    except BookError:
        return {}


def failures(root=None) -> dict[str, dict]:
    """The chapters whose last attempt failed, name -> record (`failed.failures`)."""
    return failed.failures(root)


def record_timing(chapter: str, profile: str, params: dict, wall_s: float, root=None):
    p = Paths(Path(root) if root else find_root())
    t = json.loads(p.timings.read_text()) if p.timings.exists() else {}
    t[chapter] = {"profile": profile, "wall_s": round(wall_s, 1), "params": params,
                  "finished_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")}
    write_json(p.timings, t)


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
    write_text(p.timings_md, "\n".join(rows) + "\n")


def library_modules(ch: Chapter) -> list[Path]:
    """The grokcore source files a chapter runs: the modules its code cells import, and every
    grokcore module those import in turn (lazy imports inside functions included), with the
    packages' __init__ files. The CLI and the book builder are not among them unless the
    notebook imports them."""
    import nbformat
    nb = nbformat.read(str(ch.notebook), as_version=4)
    code = "\n".join(_strip_magics(c.source) for c in nb.cells if c.cell_type == "code")
    return import_closure(code)


def _strip_magics(src: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())


def _module_file(name: str) -> Path | None:
    pkg_root = Path(__file__).resolve().parents[1]  # .../grokcore
    parts = name.split(".")
    if parts[0] != "grokcore":
        return None
    base = pkg_root.joinpath(*parts[1:])
    for f in (base / "__init__.py", base.with_suffix(".py")):
        if f.exists():
            return f
    return None


def _imports(tree, module: str, is_pkg: bool) -> set[str]:
    """Absolute names of the modules an AST imports (X in `from pkg import X` may be a module)."""
    out = set()
    pkg = module if is_pkg else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def import_closure(code: str) -> list[Path]:
    """The grokcore files that `code` (notebook source) imports, transitively."""
    todo = [n for n in _imports(ast.parse(code), "__main__", False) if n.split(".")[0] == "grokcore"]
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
            sub = ".".join(parts[:k])
            f = _module_file(sub)
            if f is None or sub in seen:
                continue
            seen[sub] = f
            todo += [n for n in _imports(ast.parse(f.read_text()), sub, f.name == "__init__.py")
                     if n.split(".")[0] == "grokcore"]
    return sorted(set(seen.values()))


def _source_hash(ch: Chapter, params: dict) -> str:
    """What a chapter's executed page depends on: its notebook, its parameters and the library
    code it runs (`library_modules`); results come from the store, keyed by config."""
    import hashlib
    h = hashlib.sha256(ch.notebook.read_bytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    root = Path(__file__).resolve().parents[1]
    for src in library_modules(ch):
        h.update(str(src.relative_to(root)).encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


def _stamp(p: Paths, name: str) -> Path:
    return p.chapters / "_stamps" / f"{name}.txt"


def up_to_date(ch: "Chapter", params: dict, root=None) -> bool:
    """True when book/chapters/<name>.ipynb was executed from this very notebook, parameters and
    grokcore source, and its verdicts are in place: re-executing it would change nothing. A
    chapter whose last attempt failed (`failures`) is never up to date: the book retries it."""
    p = Paths(Path(root) if root else find_root())
    st = _stamp(p, ch.name)
    return (st.exists() and st.read_text().strip() == _source_hash(ch, params)
            and not (p.failures / f"{ch.name}.json").exists()
            and (p.chapters / f"{ch.name}.ipynb").exists()
            and (not ch.claims or (p.claims / f"{ch.name}.json").exists()))


def mark_executed(ch: "Chapter", params: dict, root=None):
    """Record what the chapter's page was executed from (see `up_to_date`)."""
    st = _stamp(Paths(Path(root) if root else find_root()), ch.name)
    write_text(st, _source_hash(ch, params) + "\n")


def _execute_job(name: str, profile: str, params: dict, root: str, threads: int) -> tuple[str, float]:
    """One chapter in a worker process: its own plan name and torch thread count, inherited by
    the kernel that papermill starts."""
    os.environ["GROK_PLAN"] = plan_name(name, profile)  # the jobs `grok status` lists
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    ch = get_chapter(name, root)
    wall = execute(ch, params, root, progress=False)
    record_timing(name, profile, params, wall, root)
    mark_executed(ch, params, root)
    return name, wall
