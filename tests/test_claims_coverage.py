"""Every claim id has a rule in the library, tests named after it that drive the rule to both
*reproduced* and *not reproduced* on synthetic tables, and no chapter decides a verdict itself."""
import ast
import importlib
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


def claim_tests() -> dict[str, list]:
    """claim id -> the test functions named test_<claim_id>_... (imported from tests/)."""
    out = {cid: [] for cid in ledger.CLAIMS}
    for f in sorted(TESTS.glob("test_*.py")):
        if f.stem == "test_claims_coverage":
            continue
        names = re.findall(r"^def (test_p[1-4]_\w+)\(\):", f.read_text(), re.M)
        if not names:
            continue
        mod = importlib.import_module(f.stem)
        for cid in out:
            out[cid] += [getattr(mod, n) for n in names if n.startswith(f"test_{snake(cid)}_")]
    return out


def one_sided(tests: dict[str, list]) -> dict[str, list[str]]:
    """Run each claim's tests and watch its rule: claim id -> the verdicts (of reproduced and not
    reproduced) that no test of it made the rule return. A rule that cannot return *not
    reproduced*, or tests that never reach it, show up here."""
    missing = {}
    for cid, fns in tests.items():
        with rules.observe() as seen:
            for fn in fns:
                fn()
        got = {v for c, v in seen if c == cid}
        lack = [v for v in (rules.REPRODUCED, rules.NOT_REPRODUCED) if v not in got]
        if lack:
            missing[cid] = lack
    return missing


def test_every_claims_tests_drive_its_rule_to_both_verdicts():
    assert one_sided(claim_tests()) == {}


def test_a_rule_that_cannot_fail_is_caught():
    """The planted defect: a rule that always says reproduced, with two tests named after it."""
    @rules.rule("PLANTED-never-fails")
    def always(df):
        return rules.Verdict(rules.REPRODUCED, "always")

    try:
        tests = {"PLANTED-never-fails": [lambda: always(None), lambda: always(None)]}
        assert one_sided(tests) == {"PLANTED-never-fails": [rules.NOT_REPRODUCED]}
        assert one_sided({"PLANTED-never-fails": []}) == {"PLANTED-never-fails": [rules.REPRODUCED, rules.NOT_REPRODUCED]}
    finally:
        del rules.RULES["PLANTED-never-fails"]


VERDICT_CONSTANTS = {"REPRODUCED", "PARTIALLY_REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE", "VERDICTS"}


def verdict_logic(code: str) -> list[str]:
    """What in a notebook's code decides a verdict instead of a rule: a verdict spelled as a
    string, a verdict constant, or a rule function called by hand (rows come from ledger.judge,
    which also measures gates and firmness; record_claims refuses any other row)."""
    verdicts = {v.lower() for v in rules.VERDICTS}
    rule_names = {r.fn.__name__ for r in rules.RULES.values()}
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip().lower() in verdicts:
            found.append(f"verdict string {node.value!r}")
        elif isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in VERDICT_CONSTANTS:
                found.append(f"verdict constant {name}")
            elif name in rule_names and isinstance(getattr(node, "ctx", None), ast.Load):
                found.append(f"rule {name} called by hand")
    return found


def notebook_code(nb: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")


def test_no_notebook_decides_a_verdict():
    """A chapter's verdicts come from `ledger.judge`: no notebook decides a verdict itself."""
    found = {nb.stem: v for nb in sorted(NOTEBOOKS.glob("*.ipynb"))
             if nb.stem != "claims_ledger" and (v := verdict_logic(notebook_code(nb)))}
    assert found == {}


def test_verdict_logic_in_a_notebook_is_caught():
    assert verdict_logic("row = ledger.judge('P1-arch', table)\nshow(row['verdict'])") == []
    assert verdict_logic("v = 'reproduced' if ratio > 1 else 'not reproduced'") == [
        "verdict string 'reproduced'", "verdict string 'not reproduced'"]
    assert verdict_logic("%matplotlib inline\nv = rules.PARTIALLY_REPRODUCED") == ["verdict constant PARTIALLY_REPRODUCED"]
    assert verdict_logic("v = p1.depth_rule(table).verdict") == ["rule depth_rule called by hand"]
