"""`grok train`: sweeps, seeds, JSON output, and one-line errors with exit status 2."""
import json
import subprocess
import sys

import pytest

from grokcore.cli import main, parse_seeds

SMALL = ["--p", "11", "--steps", "20", "--width", "8", "--embed", "4", "--eval-every", "10", "--quiet"]


def grok(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "grokcore.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_seed_syntax():
    assert parse_seeds("8") == tuple(range(8))
    assert parse_seeds("1,4") == (1, 4)
    assert parse_seeds("2-4") == (2, 3, 4)
    assert parse_seeds("5-5") == (5,)


def test_json_has_a_row_per_member_and_speed(tmp_path, capsys):
    main(["train", *SMALL, "--wd", "0.3,1,3", "--seeds", "2", "--json", "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == 6 and out["model_steps_per_s"] > 0
    assert sorted({r["wd"] for r in out["rows"]}) == [0.3, 1.0, 3.0]
    assert {"t_train", "t_grok", "final_train_acc", "final_test_acc"} <= set(out["rows"][0])


@pytest.mark.parametrize("args, needle", [
    (["--bogus"], "unrecognized arguments"),
    (["--task", "pow"], "valid: add"),
    (["--model", "gpt"], "valid: deepmlp, lstm, mlp"),
    (["--act", "swish"], "valid: gelu"),
    (["--p", "2"], "at least 3"),
    (["--task", "div", "--p", "12"], "prime"),
    (["--frac", "1.5"], "frac must be in (0, 1)"),
    (["--frac", "0"], "frac must be in (0, 1)"),
    (["--steps", "0"], "steps must be positive"),
    (["--lr", "-1"], "lr must be non-negative"),
    (["--wd", "-0.1"], "wd must be non-negative"),
    (["--seeds", "x"], "invalid seeds"),
    (["--out", "/proc/forbidden/results"], "cannot write results"),
])
def test_bad_input_gets_one_line_and_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, args, needle):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results"
    full = ["train", *SMALL, *args] if "--out" in args else ["train", *SMALL, "--out", str(out), *args]
    with pytest.raises(SystemExit) as exit_:
        main(full)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
    assert not any(tmp_path.rglob("*.nc"))


def test_the_module_entry_point_exits_2_on_bad_input(tmp_path):
    r = grok("train", "--task", "pow", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_help_explains_every_flag():
    r = grok("train", "--help")
    assert r.returncode == 0
    for flag in ("--task", "--frac", "--combine", "--wd", "--seeds", "--device", "--json", "--out"):
        assert flag in r.stdout


def test_train_help_lists_every_registered_name(capsys):
    """The help is read from the registries, so a new task, model, activation or optimizer
    shows up without editing the CLI."""
    import pytest

    from grokcore.core.layers import ACTIVATIONS
    from grokcore.core.models import MODELS
    from grokcore.core.optim import OPTIMIZERS
    from grokcore.core.tasks import IMAGE_TASKS, TASKS
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in [*TASKS, *IMAGE_TASKS, *MODELS, *ACTIVATIONS, *OPTIMIZERS]:
        assert name in text, name
