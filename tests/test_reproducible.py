"""Reproducibility plumbing: the lock's hash in results, the step cap, the profile label, one
parameters cell per page, the ledger's table, and `grok plan`."""
from __future__ import annotations

import hashlib
import json

import nbformat
import pandas as pd
import pytest

from bookfixture import REPO, copy_sources
from grokcore import RunConfig
from grokcore.book import cells, chapters, page, plots
from grokcore.claims.ledger import CLAIMS, ledger
from grokcore.core import env
from grokcore.results import executors, run_many
from grokcore.results import store as results_store

TINY = RunConfig(p=11, width=8, embed=4, steps=40, eval_every=10, seeds=(0, 1))


def test_lock_hash_is_the_lock_files_and_empty_outside_a_checkout(monkeypatch, tmp_path):
    assert env.lock_hash() == hashlib.sha256((REPO / "requirements.lock").read_bytes()).hexdigest()[:16]
    assert "torch==2.13.0" in (REPO / "requirements.lock").read_text().splitlines()
    env.lock_hash.cache_clear()
    monkeypatch.setattr(env, "lock_path", lambda: tmp_path / "requirements.lock")
    try:
        assert env.lock_hash() == ""
    finally:
        env.lock_hash.cache_clear()
    assert env.packages()["torch"].startswith("2.13.0")


def test_capped_run_is_named_apart_and_says_so(store, monkeypatch):
    monkeypatch.setenv("GROK_MAX_STEPS", "15")
    (ds,) = run_many([TINY], progress=False)
    capped = executors.capped(TINY, 15)
    assert capped.steps == 15 and capped.eval_log_points == executors.CAPPED_LOG_POINTS
    assert results_store.path_for(capped) != results_store.path_for(TINY)
    assert not results_store.path_for(TINY).exists()
    assert json.loads(ds.attrs["config"])["steps"] == 15 and int(ds["step"].max()) == 15
    assert ds.attrs["max_steps"] == 15 and ds.attrs["lock_hash"] == env.lock_hash()
    monkeypatch.delenv("GROK_MAX_STEPS")
    (full,) = run_many([TINY], progress=False)  # the uncapped run trains; it does not read the capped file
    assert not full.attrs["cached"] and "max_steps" not in full.attrs and int(full["step"].max()) <= 40
    assert executors.capped(TINY, 100) is TINY and executors.capped(TINY, None) is TINY


@pytest.mark.parametrize("value", ["0", "-3", "ten"])
def test_a_bad_step_cap_is_an_error(monkeypatch, value):
    monkeypatch.setenv("GROK_MAX_STEPS", value)
    with pytest.raises(ValueError, match="GROK_MAX_STEPS must be a positive integer"):
        executors.max_steps()
    with pytest.raises(chapters.BookError):
        chapters.step_cap()


def test_the_cap_labels_the_profile_pages_and_captions(monkeypatch):
    ch = chapters.get_chapter("intro_grokking", REPO)
    assert chapters.compose(ch, "paper")["profile"] == "paper"
    monkeypatch.setenv("GROK_MAX_STEPS", "50")
    label = chapters.compose(ch, "paper")["profile"]
    assert label == "paper (max 50 steps)" and chapters.split_label(label) == ("paper", 50)
    assert chapters.split_label("quick") == ("quick", None)
    assert "grok run intro_grokking --profile paper --max-steps 50" in plots.caption(label, 3, "intro_grokking")


def test_parameters_show_once_with_the_values_as_executed(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('profile = "quick"\np = 59  # modulus\nwds = [0.1, 1]\nseeds = 3',
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('# Parameters\np = 97\nprofile = "paper"\nwds = [1, 2]\n',
                                  metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("x = p")])
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, path)
    assert cells.merge_parameters(path) and not cells.merge_parameters(path)  # a second call changes nothing
    out = nbformat.read(path, as_version=4)
    src = out.cells[0].source
    assert src.startswith("# parameters (as executed")
    assert "p = 97  # modulus (default 59)" in src and 'profile = "paper"' in src and "seeds = 3" in src
    assert "wds = [1, 2]" in src
    assert "remove-cell" in out.cells[1].metadata["tags"]
    ns = {}
    exec(src, ns)  # the shown cell runs to the values the chapter ran with
    assert ns["p"] == 97 and ns["wds"] == [1, 2]


def test_ledger_html_fits_groups_and_details_with_and_without_gate_columns():
    t = ledger("/nonexistent")
    html = page.ledger_html(t)
    assert 'class="grok-ledger"' in html and "table-layout: fixed" in html
    assert html.count("<details>") == len(CLAIMS) and html.count('class="paper"') == 4
    assert 'href="p1_depth.html">P1-depth</a>' in html
    t = t.assign(verdict="reproduced", firmness=0.5, our_value="3.2x", ci_low=1.0, ci_high=float("nan"),
                 raw_verdict="not reproduced", raw_firmness=0.7, gate="optimizer adamw (paper sgd)",
                 fragile=False, overrides="", seed_offset=0)
    html = page.ledger_html(t)
    assert "regime gate:</b> optimizer adamw (paper sgd)" in html
    assert "rule's verdict before gates:</b> not reproduced" in html
    assert "fragile</b>" not in html  # the table's own `fragile` column decides
    assert "seed offset" not in html and "nan" not in html.lower().replace("nanda", "")


def test_plan_lists_configs_and_a_total(tmp_path):
    from grokcore.book.plan import plan_table
    root = copy_sources(tmp_path / "repo")
    text = plan_table("smoke", ["intro_grokking"], root, calibrate_s=5)
    lines = text.splitlines()
    assert lines[0] == "plan of profile smoke"
    row = next(ln for ln in lines if ln.startswith("intro_grokking"))
    assert row.split()[1:3] == ["1", "2"]  # one config, two seeds
    assert any(ln.startswith("total") for ln in lines) and "H100" in text
    assert (root / "_build" / "plan" / "intro_grokking.json").exists()
    assert plan_table("smoke", ["intro_grokking"], root, cap=10, calibrate_s=0).count("intro_grokking") >= 1
    # a chapter whose Page takes its name from the run ($GROK_CHAPTER) is planned too
    row = next(ln for ln in plan_table("smoke", ["p3_optimizers"], root, calibrate_s=0).splitlines()
               if ln.startswith("p3_optimizers"))
    assert int(row.split()[1]) > 0, row
