"""The default (quick) parameters of a chapter, read from its notebook's `parameters` cell, so that
a config builder's test checks the configs the chapter builds by default."""
import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def chapter_params(chapter: str) -> dict:
    nb = json.loads((NOTEBOOKS / f"{chapter}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    values: dict = {}
    exec("".join(cell["source"]), {}, values)
    return values


def pick(params: dict, fn) -> dict:
    """The parameters that the builder `fn` takes (by name)."""
    import inspect
    return {k: params[k] for k in inspect.signature(fn).parameters if k in params}
