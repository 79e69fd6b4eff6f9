"""Executors: Dask and submitit give the local executor's results; a killed sweep loses only the
job in flight; failed jobs are named with config and log; corrupt files are named, never plotted."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr

from grokcore import RunConfig, StoreError, run, run_many
from grokcore.results import executors as ex
from grokcore.cli import main
from grokcore.results.store import path_for

pytest.importorskip("distributed")
pytest.importorskip("submitit")

BASE = RunConfig(p=11, frac=0.5, steps=20, eval_every=10, width=8, embed=4, seeds=(0, 1))
CFGS = [BASE.replace(wd=w) for w in (0.0, 0.5)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A clean sweep with the plain (pre-executor) run_many: the results every executor must match."""
    root = tmp_path_factory.mktemp("reference")
    return root, [run(c, root=str(root), progress=False) for c in CFGS]


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        xr.testing.assert_identical(x.drop_attrs(), y.drop_attrs())


def copy_store(reference, tmp_path):
    shutil.copytree(reference[0], tmp_path / "results")
    return str(tmp_path / "results")


def test_local_executor_writes_job_records_and_plan(reference, tmp_path):
    root = str(tmp_path / "r")
    out = run_many(CFGS, root=root, progress=False, executor="local", plan="demo-smoke")
    same(out, reference[1])
    rec = ex.read_record(CFGS[0], root)
    assert rec["state"] == "done" and rec["wall_s"] > 0 and rec["hash"] == CFGS[0].hash()
    assert RunConfig.from_json(json.dumps(rec["config"])) == CFGS[0]
    assert [c.hash() for c in ex.load_plan("demo-smoke", root)] == [c.hash() for c in CFGS]


@pytest.mark.parametrize("name, env", [("dask", {"GROK_DASK_WORKERS": "2"}),
                                       ("slurm", {"GROK_SLURM_CLUSTER": "local"})])
def test_cluster_executor_matches_local(name, env, reference, tmp_path, monkeypatch):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GROK_EXECUTOR", name)  # the way notebooks select it
    out = run_many(CFGS, root=str(tmp_path / "r"), progress=False)
    same(out, reference[1])
    assert all(ex.read_record(c, str(tmp_path / "r"))["state"] == "done" for c in CFGS)


def test_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="valid: local, dask, slurm"):
        ex.get_executor("kubernetes")


def test_killed_sweep_reruns_only_the_missing_jobs(reference, tmp_path):
    root = tmp_path / "r"
    code = ("import sys; from grokcore import RunConfig, run_many\n"
            "cfgs = [RunConfig.from_json(s) for s in sys.argv[1:]]\n"
            "run_many(cfgs, root=%r, progress=False, executor='local', plan='demo-smoke')\n" % str(root))
    proc = subprocess.Popen([sys.executable, "-c", code, *(c.canonical_json() for c in CFGS)])
    t0 = time.time()
    while not list(root.glob("*.nc")) and proc.poll() is None and time.time() - t0 < 300:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = list(root.glob("*.nc"))
    assert 1 <= len(done) < len(CFGS), "the kill must land mid-sweep"
    for f in done:  # whatever is there is complete
        xr.load_dataset(f)
    dead = root / f".{path_for(CFGS[-1], root).name}.dead.tmp"
    dead.write_bytes(b"half a file")  # a killed write, an hour old
    os.utime(dead, (time.time() - 3600,) * 2)
    table = ex.jobs_table(CFGS, str(root))
    assert set(table["state"]) <= {"done", "running", "missing"} and (table["state"] != "done").any()

    out = run_many(CFGS, root=str(root), progress=False, executor="local")
    assert sum(ds.attrs["cached"] for ds in out) == len(done)  # only the missing were trained
    same(out, reference[1])
    assert not list(root.glob(".*.tmp")) and len(list(root.glob("*.nc"))) == len(CFGS)


def test_a_fresh_temp_file_of_another_writer_is_left_alone(tmp_path):
    """Two chapters that share a run may train it at once: a job that starts must not delete the
    temp file the other is writing (it would fail that write), only one left by a killed write."""
    path = path_for(CFGS[0], str(tmp_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh, stale = (path.parent / f".{path.name}.{k}.tmp" for k in ("inflight", "dead"))
    fresh.write_bytes(b"being written"), stale.write_bytes(b"half a file")
    os.utime(stale, (time.time() - 2 * ex.STALE_TMP_S,) * 2)
    ex._clear_stale_tmp(path)
    assert fresh.exists() and not stale.exists()


def _running_record(cfg, root, pid, started):
    rec = {"hash": cfg.hash(), "state": "running", "host": ex.socket.gethostname(), "pid": pid,
           "started_unix": started}
    path = ex.record_path(cfg, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec))


def test_a_job_waits_for_a_live_process_training_it_and_reads_its_result(reference, tmp_path):
    """Two chapters sharing a run, started together: the second waits for the first's result
    instead of training it again."""
    import threading
    root = str(tmp_path / "r")
    peer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        _running_record(CFGS[0], root, peer.pid, time.time())
        assert ex.peer_training(CFGS[0], root) == peer.pid
        done = path_for(CFGS[0], reference[0])
        threading.Timer(1.0, lambda: shutil.copy(done, path_for(CFGS[0], root))).start()  # the peer finishes
        t0 = time.time()
        rec = ex.execute_job(ex.job_spec(CFGS[0], False, "local"), root)
        assert rec["cached"] and 0.9 < time.time() - t0 < 30
    finally:
        peer.kill()
        peer.wait()


def test_a_job_does_not_wait_for_a_dead_or_reused_pid(tmp_path):
    root = str(tmp_path / "r")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _running_record(CFGS[0], root, dead.pid, time.time())
    assert ex.peer_training(CFGS[0], root) is None           # a killed job's record: no one to wait for
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        _running_record(CFGS[0], root, live.pid, time.time() - 3600)
        assert ex.peer_training(CFGS[0], root) is None       # the pid started after the record: reused
        _running_record(CFGS[0], root, os.getpid(), time.time())
        assert ex.peer_training(CFGS[0], root) is None       # this process itself
    finally:
        live.kill()
        live.wait()
    rec = ex.execute_job(ex.job_spec(CFGS[0], False, "local"), root)
    assert rec["state"] == "done" and not rec.get("cached")


def test_failed_jobs_are_reported_and_the_others_complete(reference, tmp_path, capsys):
    root = copy_store(reference, tmp_path)
    bad_cfg = BASE.replace(task="div", p=12)              # raises in the job
    nan_cfg = BASE.replace(lr=1e30, seeds=(0,))           # every member diverges
    sweep = [CFGS[0], bad_cfg, CFGS[1], nan_cfg]
    with pytest.raises(ex.SweepIncomplete) as err:
        run_many(sweep, root=root, progress=False, executor="local", plan="demo-smoke")
    msg = str(err.value)
    assert "2 of 4 jobs failed" in msg and bad_cfg.hash() in msg and nan_cfg.hash() in msg
    assert "prime" in msg and "diverged" in msg and "task=div" in msg
    assert [d is None for d in err.value.datasets] == [False, True, False, True]
    log = ex.read_record(bad_cfg, root)["log"]
    assert "Traceback" in open(log).read() and bad_cfg.canonical_json() in open(log).read()
    assert not path_for(bad_cfg, root).exists() and not path_for(nan_cfg, root).exists()

    with pytest.warns(UserWarning, match="2 of 4 jobs failed"):
        out = run_many(sweep, root=root, progress=False, executor="local", allow_missing=True)
    same([out[0], out[2]], reference[1])
    missing = ex.missing_report(sweep, root)
    assert list(missing["hash"]) == [bad_cfg.hash(), nan_cfg.hash()] and set(missing["state"]) == {"failed"}

    assert main(["status", "demo", "--out", root]) == 0
    text = capsys.readouterr().out
    assert "2/4 done, 2 failed" in text and bad_cfg.hash() in text and "ConfigError" in text
    assert main(["status", "demo", "--profile", "smoke", "--out", root, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plans"]["demo-smoke"]
    summary = plan["summary"]
    assert (summary["jobs"], summary["done"], summary["failed"], summary["missing"]) == (4, 2, 2, 0)
    assert all(j["wall_s"] > 0 for j in plan["jobs"] if j["state"] == "done")  # from the files
    assert all(j["wall_s"] >= 0 for j in plan["jobs"] if j["state"] == "failed")  # from job records
    assert summary["compute_s"] == pytest.approx(sum(j["wall_s"] for j in plan["jobs"]), abs=0.2)


def test_corrupt_results_file_is_named_never_used(reference, tmp_path, capsys):
    root = copy_store(reference, tmp_path)
    bad = path_for(CFGS[1], root)
    bad.write_bytes(b"\x89HDF\r\n truncated")
    with pytest.raises(StoreError, match=re.escape(f"corrupt results file {bad}") + ".*" + re.escape(f"rm '{bad}'")):
        run_many(CFGS, root=root, progress=False, executor="local", plan="demo-smoke")
    assert main(["status", "demo-smoke", "--out", root, "--clean"]) == 0
    assert "1 corrupt" in capsys.readouterr().out and not bad.exists()
    out = run_many(CFGS, root=root, progress=False, executor="local")
    assert [ds.attrs["cached"] for ds in out] == [1, 0]
    same(out, reference[1])


def test_status_without_plans_and_unknown_chapter(tmp_path, capsys):
    assert main(["status", "--out", str(tmp_path)]) == 0
    assert "no plans recorded" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["status", "nope", "--out", str(tmp_path)])
    assert e.value.code == 2 and "no plan recorded for 'nope'" in capsys.readouterr().err


def test_a_replications_plan_is_kept_apart_from_the_default_builds(reference, tmp_path, monkeypatch, capsys):
    """Under $GROK_SEED_OFFSET the plan name carries the offset, so `grok status` lists both
    builds' jobs; --seed-offset picks one of them."""
    root = str(tmp_path / "res")
    assert ex.plan_name("demo", "smoke") == "demo-smoke"
    run_many(CFGS[:1], root=root, progress=False, executor="local", plan=ex.plan_name("demo", "smoke"))
    monkeypatch.setenv("GROK_SEED_OFFSET", "100")
    assert ex.plan_name("demo", "smoke") == "demo-smoke-offset100"
    run_many(CFGS[:1], root=root, progress=False, executor="local", plan=ex.plan_name("demo", "smoke"))
    monkeypatch.delenv("GROK_SEED_OFFSET")
    assert main(["status", "demo", "--out", root, "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["plans"]) == {"demo-smoke", "demo-smoke-offset100"}
    assert main(["status", "demo", "--profile", "smoke", "--seed-offset", "100", "--out", root, "--json"]) == 0
    (plan,) = json.loads(capsys.readouterr().out)["plans"].values()
    assert [j["state"] for j in plan["jobs"]] == ["done"]
    assert ex.load_plan("demo-smoke-offset100", root)[0].seeds == tuple(s + 100 for s in CFGS[0].seeds)
    with pytest.raises(SystemExit) as e:
        main(["status", "demo", "--seed-offset", "7", "--out", root])
    assert e.value.code == 2 and "at seed offset 7" in capsys.readouterr().err


def test_plan_accumulates_within_a_run_and_restarts_in_a_new_one(tmp_path, monkeypatch):
    root = str(tmp_path)
    ex.record_plan("ch-quick", CFGS[:1], root)
    ex.record_plan("ch-quick", CFGS[1:], root)
    assert len(ex.load_plan("ch-quick", root)) == 2
    monkeypatch.setattr(ex, "RUN_ID", "another-process")
    ex.record_plan("ch-quick", CFGS[1:], root)
    assert [c.hash() for c in ex.load_plan("ch-quick", root)] == [CFGS[1].hash()]


def test_command_line_options_reach_the_environment(monkeypatch):
    import argparse
    for var in ("GROK_EXECUTOR", "GROK_SCHEDULER", "GROK_DASK_WORKERS", "GROK_SLURM_GPUS"):
        monkeypatch.setenv(var, "")  # so that monkeypatch restores it after the test
        monkeypatch.delenv(var)
    p = argparse.ArgumentParser()
    ex.add_executor_args(p)
    ex.apply_executor_args(p.parse_args(["--executor", "dask", "--scheduler", "tcp://h:8786", "--workers", "4"]))
    assert (os.environ["GROK_EXECUTOR"], os.environ["GROK_SCHEDULER"], os.environ["GROK_DASK_WORKERS"]) == \
        ("dask", "tcp://h:8786", "4")
    d = ex.get_executor()
    assert isinstance(d, ex.DaskExecutor) and d.scheduler == "tcp://h:8786" and d.workers == 4
    monkeypatch.setenv("GROK_EXECUTOR", "slurm")
    monkeypatch.setenv("GROK_SLURM_GPUS", "1")
    assert ex.get_executor().params["gpus_per_node"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("chapter", ["intro_grokking", "p2_linear"])
def test_a_chapter_run_on_dask_trains_there_and_grok_status_lists_its_jobs(chapter, tmp_path):
    """`grok run CHAPTER --executor dask` sends every job of the chapter (a single-config run,
    a linear problem) to Dask; `grok status CHAPTER` then lists them as done."""
    from bookfixture import copy_sources, grok
    root = copy_sources(tmp_path / "book")
    env_run = grok(root, "run", chapter, "--profile", "smoke", "--executor", "dask", "--workers", "1",
                   "--no-build", timeout=900)
    assert env_run.returncode == 0, env_run.stderr[-2000:]
    records = [json.loads(f.read_text()) for f in (root / "results" / "jobs").glob("*.json")]
    assert records and {r["executor"] for r in records} == {"dask"}
    status = grok(root, "status", chapter)
    assert status.returncode == 0, status.stderr
    assert "done" in status.stdout and "missing" not in status.stdout.split("\n", 1)[-1]
