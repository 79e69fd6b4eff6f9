"""Every claim id has a rule in the library and at least two tests named after it (one where the
claim holds, one where it does not), and no chapter records a verdict its rule did not make."""
import json
import re
from pathlib import Path

from grokcore.claims import ledger, rules

TESTS = Path(__file__).parent
NOTEBOOKS = TESTS.parent / "notebooks"


def snake(claim_id: str) -> str:
    return claim_id.lower().replace("-", "_")


def test_every_claim_id_has_a_registered_rule():
    missing = sorted(set(ledger.CLAIMS) - set(rules.RULES))
    assert missing == []
    for cid in ledger.CLAIMS:
        assert rules.RULES[cid].text, f"the rule of {cid} has no docstring stating it"


def test_every_claim_id_has_two_tests_named_after_it():
    names = re.findall(r"^def (test_\w+)", "\n".join(f.read_text() for f in TESTS.glob("test_*.py")), re.M)
    thin = {cid: n for cid in ledger.CLAIMS
            if (n := sum(t.startswith(f"test_{snake(cid)}_") for t in names)) < 2}
    assert thin == {}


def test_chapters_record_only_judged_rows():
    """A chapter's verdicts come from `ledger.judge`: no notebook decides a verdict itself."""
    for nb in NOTEBOOKS.glob("*.ipynb"):
        if nb.stem == "claims_ledger":  # the ledger page counts verdicts, it decides none
            continue
        code = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"]
                         if c["cell_type"] == "code")
        if "record_claims" in code:
            assert "ledger.judge(" in code or "judge(" in code, nb.name
        for word in ('"reproduced"', "'reproduced'", '"not reproduced"', "UNCLEAR", "_verdict("):
            assert word not in code, f"{nb.name} has verdict logic ({word})"
