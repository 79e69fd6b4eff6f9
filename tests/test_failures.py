"""A chapter that fails while it executes keeps the last good book: its page, verdicts, data,
stamp and HTML stay byte for byte; the partly executed notebook goes to _build/failed/, a record
of the attempt to book/chapters/_failed/, and the next successful execution clears both."""
from __future__ import annotations

import json

import nbformat
import pytest

from bookfixture import REPO, copy_sources, grok
from grokcore.book import chapters as bc
from grokcore.book import execute as bx
from grokcore.book import failed


def tiny_chapter(root):
    """A chapter that records a verdict and publishes data, then raises when `steps` >= 100:
    a value that passes the checks and fails only inside the notebook."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Tiny"),
        nbformat.v4.new_code_cell('profile = "quick"\nsteps = 10', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import xarray as xr\n"
            "from grokcore.book.page import publish_results\n"
            "from grokcore.claims import ledger\n"
            "publish_results('tiny', {'x': xr.Dataset({'steps': ('i', [steps])})})\n"
            "ledger.record_claims('tiny', profile, [{'claim_id': 'P1-depth', 'verdict': 'reproduced',\n"
            "                                        'firmness': 1.0, 'raw_verdict': 'reproduced', 'our_value': str(steps)}])"),
        nbformat.v4.new_code_cell("assert steps < 100, f'steps {steps} is more than this chapter takes'")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "tiny.ipynb")
    (root / "notebooks" / "tiny.yml").write_text("title: tiny\nclaims: []\nprofiles:\n  smoke:\n    steps: 20\n")


def kept(root) -> dict:
    ch = root / "book" / "chapters"
    files = [ch / "tiny.ipynb", ch / "_claims" / "tiny.json", ch / "data" / "tiny.nc", ch / "_stamps" / "tiny.txt",
             ch / "_timings.json", *sorted((root / "_build" / "html").rglob("*"))]
    return {str(f.relative_to(root)): f.read_bytes() for f in files if f.is_file()}


def test_a_failed_run_keeps_the_last_good_book_and_a_later_success_clears_the_record(tmp_path):
    root = copy_sources(tmp_path / "repo")
    tiny_chapter(root)
    r = grok(root, "run", "tiny", "--profile", "smoke", "--no-build", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    html = root / "_build" / "html" / "book" / "chapters"
    html.mkdir(parents=True)
    (html / "tiny.html").write_text('<html><body><article class="bd-article"><h1>Tiny</h1></article></body></html>')
    before = kept(root)
    assert len(before) == 6 and '"our_value": "20"' in before["book/chapters/_claims/tiny.json"].decode()

    r = grok(root, "run", "tiny", "--profile", "smoke", "--no-build", "-p", "steps", "500", timeout=600)
    assert r.returncode == 1
    assert "chapter tiny failed in cell" in r.stderr and "AssertionError: steps 500 is more" in r.stderr, r.stderr
    assert "retry: grok run tiny --profile smoke -p steps 500" in r.stderr
    assert kept(root) == before  # page, verdicts, data, stamp, timings and HTML, byte for byte
    rec = bx.failures(root)["tiny"]
    assert rec["profile"] == "smoke" and rec["params"]["steps"] == 500 and rec["error"].startswith("AssertionError")
    assert rec["retry"] == "grok run tiny --profile smoke -p steps 500" and rec["when_utc"]
    partial = nbformat.read(rec["partial_notebook"], as_version=4)
    assert any(o.get("output_type") == "error" for c in partial.cells for o in c.get("outputs", []))
    assert rec["partial_notebook"] == str(root / "_build" / "failed" / "tiny.ipynb")
    assert not (root / "_build" / "exec" / "tiny").exists()
    assert not bx.up_to_date(bc.get_chapter("tiny", root), bc.compose(bc.get_chapter("tiny", root), "smoke"), root)
    # the ledger's cell and the chapter's page say so
    assert "tiny" in failed.notice_html(root) and rec["when_utc"] in failed.notice_html(root)
    assert failed.mark_pages(root) == ["tiny"]
    page = (html / "tiny.html").read_text()
    assert "The last attempt failed" in page and "steps=500" in page
    assert page.index("The last attempt failed") < page.index("<h1>Tiny")

    r = grok(root, "run", "tiny", "--profile", "smoke", "--no-build", "-p", "steps", "30", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert bx.failures(root) == {} and not (root / "_build" / "failed" / "tiny.ipynb").exists()
    assert '"our_value": "30"' in (root / "book" / "chapters" / "_claims" / "tiny.json").read_text()
    assert failed.notice_html(root) == "" and failed.mark_pages(root) == []
    assert "The last attempt failed" not in (html / "tiny.html").read_text()


def test_retry_command_repeats_the_values_the_profile_does_not_set():
    params = {"profile": "smoke", "steps": 20, "fracs": [0.5, 0.9], "optimizer": "sgd"}
    cmd = failed.retry_command("p3_fraction", params, {"steps": 20})
    assert cmd == "grok run p3_fraction --profile smoke -p fracs '[0.5, 0.9]' -p optimizer sgd"


def test_failure_records_are_not_verdict_rows(tmp_path):
    root = copy_sources(tmp_path / "repo")
    failed.record("p3_fraction", {"profile": "quick", "steps": 7}, "ValueError: x = nan after 0.12345678",
                  None, "grok run p3_fraction -p steps 7", root)
    from grokcore.claims.ledger import ledger
    assert "p3_fraction" in bx.failures(root)
    assert (ledger(bc.Paths(root).claims)["note"] == "not yet run").all()  # the ledger reads no record
    notice = failed.notice_html(root)
    assert "no page" in notice and "0.1235" in notice and "nan" not in notice  # the book's number checks
    from grokcore.book.site import _BADLY_FORMATTED
    assert not _BADLY_FORMATTED.search(notice)


@pytest.mark.parametrize("missing_html", [True, False])
def test_mark_pages_is_idempotent(tmp_path, missing_html):
    root = copy_sources(tmp_path / "repo")
    html = root / "_build" / "html" / "book" / "chapters"
    html.mkdir(parents=True)
    body = "<html><body><p>page</p></body></html>" if missing_html else \
        '<html><body><article class="bd-article"><h1>P</h1></article></body></html>'
    (html / "p1_depth.html").write_text(body)
    failed.record("p1_depth", {"profile": "quick"}, "RuntimeError: x", None, "grok run p1_depth", root)
    failed.mark_pages(root)
    once = (html / "p1_depth.html").read_text()
    failed.mark_pages(root)
    assert (html / "p1_depth.html").read_text() == once and once.count("The last attempt failed") == 1
    failed.clear("p1_depth", root)
    failed.mark_pages(root)
    assert (html / "p1_depth.html").read_text() == body
    assert json.loads(json.dumps(bx.failures(root))) == {}


@pytest.mark.parametrize("command", ["run", "book"])
def test_help_says_what_a_failed_run_leaves_behind(command, capsys):
    from grokcore.cli import main
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for needle in ("What a failed run leaves behind", "_build/failed/CHAPTER.ipynb",
                   "book/chapters/_failed/CHAPTER.json", "the command to retry", "stay as they were"):
        assert needle in text, needle
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "What the failed run leaves behind" in readme and "_build/failed/<name>.ipynb" in readme
