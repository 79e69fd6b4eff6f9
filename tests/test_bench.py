"""benchmarks/bench_train.py: bad arguments get a one-line error and exit 2; a tiny run prints
a ratio row per model at the thread count asked for."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "bench_train.py"


def bench(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, needle", [
    (["--models", "mlp,foo"], "unknown model 'foo' in --models; valid: mlp, p1_sgd, transformer, p4_deep"),
    (["--sizes", "8,x"], "--sizes must be a comma list"),
    (["--steps", "0"], "must be at least 1"),
    (["--threads", "-1"], "--threads must be 0"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle):
    r = bench(*args)
    assert r.returncode == 2
    assert needle in r.stderr.strip().splitlines()[-1]
    assert r.stdout == ""


def test_a_tiny_run_prints_a_ratio_at_one_thread():
    r = bench("--models", "p1_sgd", "--sizes", "2", "--steps", "3", "--eval-every", "2", "--repeats", "1",
              "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "threads=1" in r.stdout
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("p1_sgd")]
    assert len(row) == 1 and re.search(r"\d+\.\d\dx", row[0])
