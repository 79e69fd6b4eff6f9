"""Parameter values are checked before any kernel starts: every parameter of every chapter has a
rule (or is listed as free), every profile's values pass, and a bad value is refused with one
line, exit status 2, and nothing of a built book touched."""
from __future__ import annotations

import json

import pytest

from bookfixture import REPO, copy_sources
from grokcore.book import chapters as bc
from grokcore.book import validate as bv


def test_every_parameter_of_every_chapter_has_a_rule_or_is_free():
    unchecked = [(name, k) for name, ch in bc.chapters(REPO).items() for k in ch.params
                 if bv.rule_for(name, k) is None and k not in bv.FREE]
    assert not unchecked, f"parameters without a rule in grokcore/book/validate.py: {unchecked}"
    every = {k for ch in bc.chapters(REPO).values() for k in ch.params}
    assert set(bv.FREE) <= every, "FREE lists a parameter no chapter has"
    for chapter, names in bv.CHAPTER_RULES.items():
        assert set(names) <= set(bc.get_chapter(chapter, REPO).params), chapter


def test_every_profile_of_every_chapter_passes():
    for name, ch in bc.chapters(REPO).items():
        for prof in bc.PROFILES:
            bv.check(ch, bc.compose(ch, prof))


@pytest.mark.parametrize("chapter, profile, name, value, needle", [
    ("p3_fraction", "quick", "steps", "0", "steps must be positive"),
    ("p3_fraction", "quick", "n_seeds", "-1", "at least one seed"),
    ("p3_fraction", "quick", "n_seeds", "0", "at least one seed"),
    ("p3_fraction", "quick", "fracs", "[1.5]", "in (0, 1)"),
    ("p3_fraction", "quick", "fracs", "[]", "non-empty list"),
    ("p3_fraction", "quick", "p", "12", "a prime"),
    ("p3_fraction", "quick", "ref_p", "100", "a prime"),
    ("p3_fraction", "quick", "width", "30", "not divisible by heads 4"),
    ("p3_fraction", "quick", "eval_every", "0", "eval_every must be positive"),
    ("p2_linear", "smoke", "betas", "[-1e-3]", "beta must be non-negative"),
    ("p2_linear", "quick", "matrix_betas", "[1e-3, -1]", "beta must be non-negative"),
    ("p2_linear", "quick", "lrs", "[0]", "a learning rate > 0"),
    ("p2_linear", "quick", "tol", "1.5", "tol must be in (0, 1)"),
    ("p2_linear", "quick", "scaling", "huge", "unknown scaling"),
    ("p2_norms", "quick", "l1", "[-1e-6]", "l1 must be non-negative"),
    ("p2_norms", "quick", "l2", "1e-6,-1", "l2 must be non-negative"),
    ("p2_norms", "quick", "wd_control", "[-0.1]", "wd must be non-negative"),
    ("p2_selection", "quick", "taus", "[0, 2]", "tau must be in [0, 1]"),
    ("p1_weight_decay", "quick", "mlp_wd", "[-0.001]", "wd must be non-negative"),
    ("p1_activation", "quick", "acts", "gelu,swish", "unknown activation 'swish'; valid: gelu"),
    ("p1_depth", "quick", "optimizer", "rmsprop", "unknown optimizer 'rmsprop'; valid: adam"),
    ("p1_depth", "quick", "device", "gpu", "auto, cpu, cuda"),
    ("p4_deep", "quick", "dataset", "cifar", "unknown P4 data set 'cifar'"),
    ("p4_deep", "quick", "dtype", "float16", "unknown dtype"),
    ("p4_rank", "quick", "rank_fraction", "0", "in (0, 1]"),
    ("intro_grokking", "quick", "lr", "-0.1", "a learning rate > 0"),
    ("intro_grokking", "quick", "seeds", "0", "at least one seed"),
])
def test_a_bad_value_is_refused_naming_chapter_parameter_value_and_what_is_allowed(chapter, profile, name,
                                                                                   value, needle):
    ch = bc.get_chapter(chapter, REPO)
    params = bc.compose(ch, profile, [(name, value)])  # the type is right: only the value is wrong
    with pytest.raises(bc.BookError) as e:
        bv.check(ch, params)
    msg = str(e.value)
    assert "\n" not in msg and needle in msg, msg
    assert msg.startswith(f"chapter {chapter}: bad value {params[name]!r} for parameter {name}") and "allowed: " in msg


@pytest.mark.parametrize("chapter, overrides, needle", [
    ("p2_selection", [("mod_k", "59")], "valid: 1 to p-1"),
    ("p2_linear", [("n", "20")], "N must be in 1..20"),
    ("p2_linear", [("depth_at_N", "40")], "is not one of depth_N"),
    ("p4_rank", [("n_train", "5000")], "which has 1297"),
])
def test_values_that_only_fail_together_are_refused(chapter, overrides, needle):
    ch = bc.get_chapter(chapter, REPO)
    with pytest.raises(bc.BookError, match="together") as e:
        bv.check(ch, bc.compose(ch, "quick", overrides))
    assert needle in str(e.value)


def test_edge_values_that_runs_can_use_are_accepted():
    for chapter, overrides in [("p3_fraction", [("ref_seeds", "0"), ("ref_steps", "0")]),  # skips the reference
                               ("p2_norms", [("l2", "[]"), ("nuclear", "[]"), ("wd_control", "[]")]),  # skips a penalty
                               ("p4_deep", [("compare", "")]),
                               ("p1_depth", [("device", "cpu")])]:
        ch = bc.get_chapter(chapter, REPO)
        bv.check(ch, bc.compose(ch, "quick", overrides))


# ------------------------------------------------------------------------ the command line
def built_state(root):
    """A fake book as `grok book` leaves it: p3_fraction's and p2_linear's pages, verdicts, data
    and stamps, the timings, and the HTML."""
    ch = root / "book" / "chapters"
    for name in ("p3_fraction", "p2_linear"):
        for f, text in ((ch / f"{name}.ipynb", '{"cells": []}'), (ch / "_claims" / f"{name}.json", "[]"),
                        (ch / "_stamps" / f"{name}.txt", "0123456789abcdef\n"), (ch / "data" / f"{name}.nc", "nc")):
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
    (ch / "_timings.json").write_text(json.dumps({"p3_fraction": {"profile": "quick", "wall_s": 1.0}}))
    for page in ("index.html", "book/chapters/p3_fraction.html", "book/chapters/p2_linear.html"):
        (root / "_build" / "html" / page).parent.mkdir(parents=True, exist_ok=True)
        (root / "_build" / "html" / page).write_text(f"<html>{page}</html>")


def snapshot(root) -> dict:
    return {str(f.relative_to(root)): f.read_bytes() for d in ("book", "_build") for f in sorted((root / d).rglob("*"))
            if f.is_file()}


@pytest.mark.parametrize("args, needle", [
    (["run", "p3_fraction", "-p", "steps", "0", "--no-build"],
     "chapter p3_fraction: bad value 0 for parameter steps (steps must be positive, got 0); allowed: "),
    (["run", "p3_fraction", "-p", "n_seeds", "-1", "--no-build"],
     "chapter p3_fraction: bad value -1 for parameter n_seeds"),
    (["run", "p3_fraction", "-p", "fracs", "[1.5]", "--no-build"],
     "chapter p3_fraction: bad value [1.5] for parameter fracs"),
    (["run", "p2_linear", "--profile", "smoke", "-p", "betas", "[-1e-3]"],
     "chapter p2_linear: bad value [-0.001] for parameter betas (beta must be non-negative"),
])
def test_refused_run_is_one_line_exit_2_and_leaves_the_built_book_byte_for_byte(tmp_path, monkeypatch, capsys,
                                                                                args, needle):
    from grokcore.cli import main
    root = copy_sources(tmp_path / "repo")
    built_state(root)
    before = snapshot(root)
    monkeypatch.setenv("GROK_BOOK_ROOT", str(root))
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grok: error: " + needle), lines
    assert snapshot(root) == before


def test_book_refuses_a_bad_profile_value_before_any_chapter_runs(tmp_path, monkeypatch, capsys):
    from grokcore.cli import main
    root = copy_sources(tmp_path / "repo")
    yml = root / "notebooks" / "p3_optimizers.yml"
    yml.write_text(yml.read_text().replace("steps: 30", "steps: 0", 1))
    assert "steps: 0" in yml.read_text()
    built_state(root)
    before = snapshot(root)
    monkeypatch.setenv("GROK_BOOK_ROOT", str(root))
    with pytest.raises(SystemExit) as e:
        main(["book", "--profile", "smoke"])
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "chapter p3_optimizers: bad value 0 for parameter steps" in lines[0], lines
    assert snapshot(root) == before
