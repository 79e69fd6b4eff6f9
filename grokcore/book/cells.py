"""One parameters cell per chapter page.

papermill runs a chapter's `parameters` cell (the quick profile's defaults) and then a cell it
injects, tagged `injected-parameters`, with the values of the run. A page showing both makes
the reader merge them. `merge_parameters` rewrites the executed notebook so that the page shows
one cell, the effective parameters: the `parameters` cell with each injected value put in place
of its default (comments kept, the default named beside it), labelled as executed; the injected
cell stays in the notebook (so running the download gives the same values) but is removed from
the page (tag `remove-cell`).
"""
from __future__ import annotations

import ast
from pathlib import Path

LABEL = "# parameters (as executed: {how})"


def _assignments(src: str) -> dict:
    """name -> ast node of each `name = value` at the top level of `src`."""
    out = {}
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node
    return out


def merged_source(params_src: str, injected_src: str) -> str:
    """The parameters cell with the injected values in place of the defaults."""
    injected = {k: ast.get_source_segment(injected_src, n.value) for k, n in _assignments(injected_src).items()}
    lines = params_src.splitlines()
    nodes = _assignments(params_src)
    changed = []
    for name, node in sorted(nodes.items(), key=lambda kv: -kv[1].lineno):  # bottom up: offsets stay valid
        new = injected.get(name)
        old = ast.get_source_segment(params_src, node.value)
        if new is None or new == old or node.lineno != node.end_lineno:
            continue
        i = node.lineno - 1
        line = lines[i]
        rest = line[node.value.end_col_offset:]
        lines[i] = line[:node.value.col_offset] + new + rest + (" " if rest.strip() else "  # ") + f"(default {old})"
        changed.append(name)
    extra = [f"{k} = {v}  # injected" for k, v in injected.items() if k not in nodes]
    how = "defaults, with the run's values marked" if changed or extra else "the defaults"
    return "\n".join([LABEL.format(how=how)] + lines + extra)


def merge_parameters(path: Path) -> bool:
    """Rewrite an executed chapter notebook to show its parameters once (see the module doc).
    Returns True when the notebook was changed; a second call changes nothing."""
    import nbformat
    nb = nbformat.read(str(path), as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    orig = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    inj = next((i for i, t in enumerate(tags) if "injected-parameters" in t), None)
    if orig is None or inj is None or "remove-cell" in tags[inj]:
        return False
    cell = nb.cells[orig]
    cell.source = merged_source(cell.source, nb.cells[inj].source)
    nb.cells[inj].metadata.setdefault("tags", []).append("remove-cell")
    nbformat.write(nb, str(path))
    return True
