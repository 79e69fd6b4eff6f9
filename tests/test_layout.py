"""The library's layout: imports run core <- results <- claims <- book <- cli, with no cycle
(imports inside functions count); one path from any config to its results; chapter stamps
hash only the code a chapter runs; the book's kernel is the project's own."""
import ast
import json
from pathlib import Path

import pytest

import grokcore
from grokcore import RunConfig, SweepIncomplete, run, run_many
from grokcore.book import chapters as bc
from grokcore.book import execute as bx
from grokcore.core.linear_problems import LinearConfig
from grokcore.results import executors as ex

PKG = Path(grokcore.__file__).parent
LAYERS = ("core", "results", "claims", "book", "cli")
REPO = PKG.parent


def _module_name(f: Path) -> str:
    rel = f.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the grokcore modules it imports (anywhere in its body)."""
    mods = {_module_name(f): f for f in PKG.rglob("*.py")}
    graph = {}
    for name, f in mods.items():
        pkg = name if f.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg.split(".")[:len(pkg.split(".")) - (node.level - 1)] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                for a in node.names:
                    full = f"{mod}.{a.name}"
                    deps.add(full if full in mods else mod)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def _layer(mod: str):
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def back_edges(graph: dict[str, set[str]]) -> list[str]:
    """Imports that run against the layers. The root package `grokcore` counts as the highest
    layer it imports (it re-exports core and results), so `import grokcore` inside core is a
    back-edge through the root package, not an edge the layers cannot see."""
    def index(mod):
        if mod == "grokcore":
            return max((index(d) for d in graph.get("grokcore", ()) if d != "grokcore"), default=-1)
        layer = _layer(mod)
        return LAYERS.index(layer) if layer else None

    wrong = []
    for mod, deps in graph.items():
        lm = index(mod) if mod != "grokcore" else None
        for d in deps:
            ld = index(d)
            if lm is not None and ld is not None and ld > lm:
                wrong.append(f"{mod} -> {d}")
    return sorted(wrong)


def test_imports_run_one_way_between_layers():
    assert back_edges(import_graph()) == []


def test_a_back_edge_through_the_root_package_is_seen():
    graph = import_graph()
    assert "grokcore.results" in graph["grokcore"] or any(d.startswith("grokcore.results") for d in graph["grokcore"])
    planted = {**graph, "grokcore.core.train": graph["grokcore.core.train"] | {"grokcore"}}
    assert back_edges(planted) == ["grokcore.core.train -> grokcore"]
    planted = {**graph, "grokcore.core.tasks": graph["grokcore.core.tasks"] | {"grokcore.claims.rules"}}
    assert back_edges(planted) == ["grokcore.core.tasks -> grokcore.claims.rules"]


def test_design_names_every_module():
    """DESIGN.md's module table and sections name every module of the package (in backticks)."""
    import re
    text = (REPO / "DESIGN.md").read_text()
    named = set(re.findall(r"`([^`\n]+)`", text))
    words = {w for span in named for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}
    modules = {f.stem for f in PKG.rglob("*.py") if f.stem not in ("__init__", "__main__")}
    assert sorted(modules - words) == []


def test_the_version_is_stated_once():
    import tomllib
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert grokcore.__version__ == meta["version"]


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    # a package's __init__ importing its own submodules is how packages work, not a cycle
    graph = {m: {d for d in ds if not d.startswith(m + ".")} for m, ds in graph.items()}
    state, cycle = {}, []

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycle.append(stack[stack.index(d):] + [d] if d in stack else [m, d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycle == []


def test_the_layering_test_sees_a_violation(tmp_path, monkeypatch):
    """The two tests above can fail: an import from core back into claims is found."""
    bad = PKG / "core" / "_layering_probe.py"
    bad.write_text("def f():\n    from ..claims import ledger  # noqa: F401\n")
    try:
        graph = import_graph()
        assert "grokcore.claims.ledger" in graph["grokcore.core._layering_probe"]
        with pytest.raises(AssertionError):
            test_imports_run_one_way_between_layers()
    finally:
        bad.unlink()


# ------------------------------------------------------------------ one path from config to results
def test_a_single_run_and_a_linear_problem_go_through_the_executor(tmp_path):
    root = tmp_path / "r"
    cfg = RunConfig(p=7, frac=0.5, width=8, embed=8, steps=20, eval_every=10, seeds=(0,))
    lin = LinearConfig(n=20, s=2, N=10, steps=50, eval_every=10, check_every=10)
    a = run(cfg, root=root, progress=False, plan="single-smoke")
    (b,) = run_many([lin], root=root, progress=False, plan="single-smoke")
    assert a.attrs["config_hash"] == cfg.hash() and b.attrs["config_hash"] == lin.hash()
    planned = ex.load_plan("single-smoke", root)
    assert {c.hash() for c in planned} == {cfg.hash(), lin.hash()}
    t = ex.jobs_table(planned, root)
    assert set(t["state"]) == {"done"} and set(t["kind"]) == {"run", "linear"}
    assert ex.read_record(lin, root)["kind"] == "linear"
    assert run(cfg, root=root, progress=False).attrs["cached"] == 1


def test_a_job_whose_members_all_diverged_fails_on_every_path(tmp_path):
    cfg = RunConfig(p=7, frac=0.5, width=8, embed=8, steps=30, eval_every=10, seeds=(0,), lr=1e6,
                    optimizer="sgd", early_stop=False)
    with pytest.raises(SweepIncomplete, match="diverged"):
        run(cfg, root=tmp_path, progress=False)
    assert not any(tmp_path.glob("*.nc"))
    assert ex.read_record(cfg, tmp_path)["state"] == "failed"


# ------------------------------------------------------------------ stamps and the kernel
def test_a_chapter_stamp_hashes_the_code_it_runs_and_not_the_cli():
    ch = bc.get_chapter("p1_depth", REPO)
    files = {str(f.relative_to(PKG)) for f in bx.library_modules(ch)}
    assert {"core/train.py", "core/models.py", "results/store.py", "claims/ledger.py"} <= files
    assert not any(f.startswith("cli/") for f in files)
    assert "book/build.py" not in files and "book/site.py" not in files


def test_lazy_imports_are_in_the_closure():
    files = {str(f.relative_to(PKG)) for f in bx.import_closure("from grokcore.core import tasks")}
    assert "core/images.py" in files  # imported inside tasks._image_data


def test_the_kernel_is_the_projects_own(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", "")
    name = bx.ensure_kernel(bc.Paths(tmp_path))
    spec = json.loads((tmp_path / "_build" / "jupyter" / "kernels" / name / "kernel.json").read_text())
    import os
    import sys
    assert name != "python3" and spec["argv"][0] == sys.executable
    assert os.environ["JUPYTER_PATH"].split(os.pathsep)[0] == str(tmp_path / "_build" / "jupyter")
    assert "--user" not in (REPO / "Makefile").read_text()
