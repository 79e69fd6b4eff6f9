"""The specification lives in the repository: every claim and paper setting comes from
grokcore.claims.papers, the book's page is generated from it, and nothing points outside."""
import subprocess
from pathlib import Path

from grokcore.book import chapters as bc
from grokcore.claims import ledger, papers, rules

REPO = Path(__file__).resolve().parents[1]


def test_every_claim_names_a_paper_and_the_chapter_that_records_it():
    chs = bc.chapters(REPO)
    for cid, c in papers.CLAIMS.items():
        assert c.id == cid and c.paper in papers.PAPERS and cid.startswith(c.paper + "-")
        assert cid in chs[c.chapter].claims, f"{cid}: {c.chapter}.yml does not list it"
    listed = {cid for ch in chs.values() for cid in ch.claims}
    assert listed == set(papers.CLAIMS)


def test_the_papers_page_shows_every_claim_and_setting():
    text = papers.markdown()
    for p in papers.PAPERS.values():
        assert p.title in text and all(papers._cell(v) in text for _, v in p.settings)
    for c in papers.CLAIMS.values():
        assert f"| {c.id} | `{c.chapter}` |" in text and c.paper_value in text


def test_ledger_rows_take_the_claim_from_the_specification(tmp_path):
    row = {"claim_id": "P3-opt", "verdict": rules.NOT_REPRODUCED, "raw_verdict": rules.NOT_REPRODUCED, "firmness": 1.0}
    out = ledger.record_claims("p3_optimizers", "smoke", [row], folder=tmp_path)
    assert out.loc["P3-opt", "claim"] == papers.CLAIMS["P3-opt"].text
    assert out.loc["P3-opt", "paper_value"] == papers.CLAIMS["P3-opt"].paper_value


def test_no_file_refers_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    marker = "../" + "shared"   # spelled in two parts, so this file does not match itself
    outside = [f for f in files if (REPO / f).is_file() and f.endswith((".py", ".md", ".yml", ".ipynb", ".toml", ".cfg"))
               and marker in (REPO / f).read_text(errors="ignore")]
    assert outside == []
