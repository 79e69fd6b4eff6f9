"""The book's chapters: where they live, their parameters and profiles, input checks.

A chapter is `notebooks/<name>.ipynb` (its `parameters` cell holds the quick profile's values)
plus `notebooks/<name>.yml` (title, part, claims, and per-profile overrides). Executed chapters
are written to `book/chapters/<name>.ipynb`; they, the verdicts in `book/chapters/_claims/`, the
downloadable results in `book/chapters/data/` and `claims.csv` are build outputs.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

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
    def offset(self) -> int:                               # a replication build's seed offset
        from ..core.config import seed_offset
        return seed_offset()
    @property
    def chapters(self):   # a replication build's pages, data and stamps stay out of the book
        k = self.offset
        return self.root / "book" / "chapters" if not k else self.build / f"offset-{k}" / "chapters"
    @property
    def claims_base(self): return self.root / "book" / "chapters" / "_claims"
    @property
    def claims(self):     # where this build's verdicts go (ledger.claims_dir: offset-K below the base)
        k = self.offset
        return self.claims_base / f"offset-{k}" if k else self.claims_base
    @property
    def data(self): return self.chapters / "data"
    @property
    def extra(self): return self.chapters / "_extra"      # html_extra_path: copied to the site root
    @property
    def failures(self): return self.chapters / "_failed"  # <name>.json: the last attempt failed
    @property
    def failed(self): return self.build / "failed"        # <name>.ipynb: that attempt's notebook
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
        if like is None:  # an empty default: each item as a Python literal
            return [_literal(v.strip()) if isinstance(v, str) else v for v in items]
        return [one(v.strip() if isinstance(v, str) else v, like) for v in items]
    return one(value, default)


def profile_label(profile: str, cap: int | None) -> str:
    """The profile as pages, figures and the ledger name it: 'paper (max 50 steps)' under a
    step cap, else the profile itself."""
    return f"{profile} (max {cap} steps)" if cap else profile


def split_label(label: str) -> tuple[str, int | None]:
    """('paper', 50) from 'paper (max 50 steps)'; (label, None) from a plain profile."""
    m = re.fullmatch(r"(\S+) \(max (\d+) steps\)", label or "")
    return (m.group(1), int(m.group(2))) if m else (label, None)


def step_cap() -> int | None:
    """The step cap in force ($GROK_MAX_STEPS, set by --max-steps); BookError when malformed."""
    from ..results.executors import max_steps
    try:
        return max_steps()
    except ValueError as e:
        raise BookError(str(e)) from None


def compose(ch: Chapter, profile: str = "quick", overrides=()) -> dict:
    """The parameters a run uses: the notebook's defaults, then the profile's overrides from the
    chapter's .yml, then the user's (name, value) pairs. Only names that differ from the
    notebook's defaults are returned (what papermill injects), plus `profile`. Under a step cap
    ($GROK_MAX_STEPS) `profile` is injected as its label, 'paper (max 50 steps)': the pages,
    figure captions and ledger rows say so, and the chapter's stamp differs from an uncapped run."""
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
        out["profile"] = profile_label(profile, step_cap())
    return out


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


def _stale(p: Paths, why: str):
    """Move the previous HTML aside so it is not mistaken for the current book."""
    if p.html.exists():
        dest = p.build / "html-stale"
        shutil.rmtree(dest, ignore_errors=True)
        p.html.rename(dest)
        (dest / "STALE.txt").write_text(why + "\n")
