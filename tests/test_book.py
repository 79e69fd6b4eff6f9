"""The book: bad input fails before anything runs, profiles compose, the toc prunes, a failing
chapter is named, and the whole book builds at the smoke profile and passes its checks."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from bookfixture import REPO, copy_sources, grok, smoke_book
from grokcore.book import build as bb
from grokcore.book import chapters as bc
from grokcore.book import execute as bx
from grokcore.book import page
from grokcore.book import site as bs
from grokcore.claims.ledger import CLAIMS, COLUMNS


@pytest.fixture
def root(tmp_path):
    return copy_sources(tmp_path / "repo")


@pytest.mark.parametrize("args, expect", [
    (["run", "no_such_chapter"], "valid: intro_grokking"),
    (["run", "intro_grokking", "-p", "no_such_param", "1"], "valid: profile='quick', p="),
    (["run", "intro_grokking", "-p", "p", "abc"], "expects int"),
    (["run", "intro_grokking", "-p", "frac", "half"], "expects float"),
    (["run", "intro_grokking", "--profile", "huge"], "valid: smoke, quick, paper"),
    (["run", "intro_grokking", "-p", "profile", "paper"], "--profile"),
    (["book", "--profile", "huge"], "valid: smoke, quick, paper"),
    (["book", "--jobs", "0"], "--jobs must be at least 1"),
    (["book", "--only", "P9"], "valid: parts Introduction, P1, P2, P3, P4; chapters intro_grokking"),
    (["run", "intro_grokking", "--max-steps", "0"], "--max-steps must be at least 1"),
    (["book", "--profile", "paper", "--max-steps", "-5"], "--max-steps must be at least 1"),
    (["plan", "--profile", "huge"], "valid: smoke, quick, paper"),
    (["plan", "no_such_chapter"], "unknown chapter or part 'no_such_chapter'"),
    (["plan", "--max-steps", "0"], "--max-steps must be at least 1"),
])
def test_bad_input_is_one_line_exit_2_and_runs_nothing(root, monkeypatch, capsys, args, expect):
    from grokcore.cli import main
    monkeypatch.setenv("GROK_BOOK_ROOT", str(root))
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grok: error:") and expect in lines[0], lines
    assert not (root / "book" / "chapters").exists() and not (root / "_build").exists()


def test_profile_sets_defaults_and_p_overrides_them():
    ch = bc.get_chapter("intro_grokking", REPO)
    smoke = ch.profiles["smoke"]
    params = bc.compose(ch, "smoke", [("seeds", "4")])
    assert params["seeds"] == 4 and params["profile"] == "smoke"
    assert params["p"] == smoke["p"] != ch.params["p"]
    assert bc.compose(ch, "quick") == {"profile": "quick"}
    assert isinstance(bc.compose(ch, "quick", [("lr", "1")])["lr"], float)


def test_only_picks_chapters_by_name_or_part():
    chs = bc.chapters(REPO)
    assert bc.select(chs, None) == list(chs)
    p3 = bc.select(chs, ["P3"])
    assert p3 and all(chs[n].part == "P3" for n in p3) and "p3_fraction" in p3
    assert bc.select(chs, ["P3", "intro_grokking"]) == ["intro_grokking"] + p3


def test_list_parameters_parse_from_commas_or_literals():
    ch = bc.Chapter("x", "x", "", [], {}, Path("x.ipynb"), params={"depths": [2, 4], "wds": [1e-3]})
    assert bc.coerce(ch, "depths", "1,8") == [1, 8]
    assert bc.coerce(ch, "wds", "[0.1, 1]") == [0.1, 1.0]
    with pytest.raises(bc.BookError, match="expects list"):
        bc.coerce(ch, "depths", "two,four")


def test_every_chapter_yml_is_valid_and_in_the_toc():
    toc_files = bs.toc_pages(yaml.safe_load((REPO / "_toc.yml").read_text()))
    for name, ch in bc.chapters(REPO).items():
        assert f"book/chapters/{name}" in toc_files, f"{name} is missing from _toc.yml"
        assert set(ch.claims) <= set(CLAIMS), f"{name} names unknown claim ids"
        assert "profile" in ch.params, f"{name}'s parameters cell lacks `profile`"
        for prof in ch.profiles:
            bc.compose(ch, prof)  # every profile override has a known name and a valid type
    for chapter in {c.chapter for c in CLAIMS.values()}:
        assert f"book/chapters/{chapter}" in toc_files, f"claims' chapter {chapter} is missing from _toc.yml"


def test_pruned_toc_keeps_only_existing_pages_and_drops_empty_parts(root):
    toc = bs.pruned_toc(root)
    pages = bs.toc_pages(toc)
    assert pages == ["book/intro", "book/papers", "book/reproducing", "book/references"]  # nothing executed yet
    assert [p["caption"] for p in toc["parts"]] == ["Introduction", "Reproducing this book", "References"]
    chapters = root / "book" / "chapters"
    chapters.mkdir()
    (chapters / "intro_grokking.ipynb").write_text("{}")
    assert "book/chapters/intro_grokking" in bs.toc_pages(bs.pruned_toc(root))


def test_a_failing_chapter_is_named_and_the_book_is_built_from_the_others(root):
    for f in (root / "notebooks").glob("p[0-9]_*"):  # a quick stand-in for the intro besides the broken one
        f.unlink()

    def chapter(name, *code, title="A chapter"):
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# {title}"),
            nbformat.v4.new_code_cell('profile = "quick"', metadata={"tags": ["parameters"]}),
            *map(nbformat.v4.new_code_cell, code)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
        (root / "notebooks" / f"{name}.yml").write_text(f"title: {title}\nclaims: []\n")
    chapter("aaa_broken", "x = 1", "raise ValueError('boom')")
    chapter("intro_grokking", "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\nplt.show()",
            title="What grokking looks like")
    old_html = root / "_build" / "html"
    old_html.mkdir(parents=True)
    (old_html / "index.html").write_text("old")
    r = grok(root, "book", "--profile", "smoke", "--jobs", "1", timeout=900)
    assert r.returncode == 1
    assert "chapter aaa_broken failed in cell 4" in r.stderr and "ValueError: boom" in r.stderr, r.stderr
    assert "1 chapter(s) failed: aaa_broken" in r.stderr.splitlines()[-1]
    assert (root / "book" / "chapters" / "intro_grokking.ipynb").exists()  # the others still ran
    assert not (root / "_build" / "html-stale").exists()
    assert (old_html / "book" / "chapters" / "intro_grokking.html").exists()  # and the book was built
    assert bs.check_site(root) == []
    ledger_page = (old_html / "book" / "chapters" / "claims_ledger.html").read_text()
    assert "Failed attempts" in ledger_page and "aaa_broken" in ledger_page and "ValueError: boom" in ledger_page
    assert bx.failures(root)["aaa_broken"]["retry"] == "grok run aaa_broken --profile smoke"
    assert (root / "_build" / "failed" / "aaa_broken.ipynb").exists()
    assert not (root / "book" / "chapters" / "aaa_broken.ipynb").exists()


def test_up_to_date_follows_notebook_parameters_and_outputs(root):
    ch = bc.get_chapter("p1_depth", root)
    params = bc.compose(ch, "smoke")
    assert not bx.up_to_date(ch, params, root)  # never executed
    paths = bc.Paths(root)
    for f in (paths.chapters / "p1_depth.ipynb", paths.claims / "p1_depth.json"):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("{}")
    bx.mark_executed(ch, params, root)
    assert bx.up_to_date(ch, params, root)
    assert not bx.up_to_date(ch, {**params, "seeds": 5}, root)  # other parameters
    (paths.claims / "p1_depth.json").unlink()
    assert not bx.up_to_date(ch, params, root)  # its verdicts are gone
    (paths.claims / "p1_depth.json").write_text("{}")
    ch.notebook.write_text(ch.notebook.read_text() + " ")
    assert not bx.up_to_date(ch, params, root)  # the notebook changed


@pytest.mark.slow
def test_smoke_book_builds_and_passes_checks(tmp_path_factory):
    root, r = smoke_book(tmp_path_factory)
    assert r.returncode == 0, r.stdout[-3000:]
    assert bs.check_site(root) == []
    html = root / "_build" / "html"
    for page in bs.toc_pages(bs.pruned_toc(root)):
        assert (html / f"{page}.html").exists(), page
    names = set(bc.chapters(root))
    executed = {p.stem for p in (root / "book" / "chapters").glob("*.ipynb")}
    assert executed == names | {bc.LEDGER}
    for name in names:  # every chapter is in the built toc, with a figure and no error output
        nb = json.loads((root / "book" / "chapters" / f"{name}.ipynb").read_text())
        outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
        assert not [o for o in outputs if o["output_type"] == "error"], name
        assert any("image/png" in o.get("data", {}) for o in outputs), name
        assert any(line.startswith(name + " ") for line in r.stdout.splitlines()), "no wall time printed"
    import pandas as pd
    claims = pd.read_csv(html / "claims.csv")
    assert tuple(claims.columns) == COLUMNS
    assert sorted(claims["claim_id"]) == sorted(CLAIMS)
    assert "| intro_grokking | smoke |" in (root / "book" / "chapters" / "_timings.md").read_text()


@pytest.mark.slow
def test_rebuild_skips_up_to_date_chapters(tmp_path_factory):
    root, r = smoke_book(tmp_path_factory)
    assert r.returncode == 0
    again = grok(root, "book", "--profile", "smoke", timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    for name in bc.chapters(root):
        assert f"== {name} (smoke): up to date, not re-executed" in again.stderr
    assert "(0 chapters executed" in again.stdout
    assert bs.check_site(root) == []


@pytest.mark.slow
def test_run_one_chapter_with_a_new_value_shows_it(tmp_path_factory):
    root, r = smoke_book(tmp_path_factory)
    assert r.returncode == 0
    r = grok(root, "run", "intro_grokking", "--profile", "smoke", "-p", "seeds", "3", timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    page = (root / "_build" / "html" / "book" / "chapters" / "intro_grokking.html").read_text()
    assert "3 seeds per configuration" in page
    executed = nbformat.read(root / "book" / "chapters" / "intro_grokking.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "seeds = 3" in injected[0].source
    timings = json.loads((root / "book" / "chapters" / "_timings.json").read_text())
    assert timings["intro_grokking"]["params"]["seeds"] == 3
