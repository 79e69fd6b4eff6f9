"""The paper profile is known to run: every chapter executes at the paper's settings with every
config truncated to a few steps (`grok book --profile paper --max-steps N`), and the truncation
is visible in the results files and the ledger. A full book build at the papers' model sizes:
86 minutes of chapter time on the shared 2-core CPU, so it is not in the default run (`pytest -m paper`, or
`make test-paper`; `pytest -m slow -k paper` selects it too)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import xarray as xr

from bookfixture import copy_sources, grok
from grokcore.book import chapters as bc

CAP = 10


@pytest.mark.slow
@pytest.mark.paper
def test_every_chapter_runs_at_the_paper_profile_with_a_step_cap(tmp_path):
    root = copy_sources(tmp_path / "paper_book")
    r = grok(root, "book", "--profile", "paper", "--max-steps", str(CAP), timeout=3600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    executed = {p.stem for p in (root / "book" / "chapters").glob("*.ipynb")}
    assert executed == set(bc.chapters(root)) | {bc.LEDGER}
    files = sorted((root / "results").glob("*.nc"))
    assert files
    for f in files:  # every result ran under the cap and says so
        with xr.open_dataset(f) as ds:
            assert json.loads(ds.attrs["config"])["steps"] <= CAP, f.name
            assert int(ds.attrs["max_steps"]) == CAP, f.name
    claims = pd.read_csv(root / "_build" / "html" / "claims.csv")
    run = claims[claims["note"] != "not yet run"]
    assert len(run) == len(claims)
    assert set(run["profile"]) == {f"paper (max {CAP} steps)"}
