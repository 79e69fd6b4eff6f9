"""Executors: run a sweep's ensemble jobs here, on Dask or on Slurm, and lose nothing.

A sweep is a list of configs (one ensemble job each). `run_many` skips the configs whose
results file is already in the store and hands the rest to an executor:

- `local`: this machine; in this process, or `GROK_WORKERS=n` spawned processes.
- `dask`: a `distributed` cluster at `GROK_SCHEDULER=tcp://host:port`, else a `LocalCluster`
  of `GROK_DASK_WORKERS` (default 2) single-threaded worker processes started on demand.
- `slurm`: Slurm job arrays through `submitit` (`GROK_SLURM_PARTITION`, `GROK_SLURM_TIME`
  minutes, `GROK_SLURM_GPUS`, `GROK_SLURM_CPUS`, `GROK_SLURM_MEM_GB`, `GROK_SLURM_ARRAY` = most
  jobs running at once); `GROK_SLURM_CLUSTER=local` runs them as local processes (tests).

`run_many` (and `run`, one config) is the only way from configs to results: every chapter and
the CLI go through it, so every job has a record and `grok status` sees it. Configs of any kind
in `grokcore.results.kinds` (modular runs, P2's linear problems) take this same path.

Each job (`execute_job`, run on the worker) writes its own results file atomically (store.save)
and a job record `<results>/jobs/<file stem>.json` (state running/done/failed, wall time, host,
error) plus, on failure, a `.log` with the traceback. A job that raises, or whose members all
diverged, is failed: no results file, the others go on, and `run_many` raises `SweepIncomplete`
naming every failed config (or returns None in its place with `allow_missing=True`). A killed
job leaves no results file; rerunning the same sweep redoes only what is missing.

With a plan name (`plan=` or `$GROK_PLAN`, e.g. "p1_weight_decay-quick") the sweep's configs are
recorded in `<results>/plans/<plan>.json`, which `grok status` reads without executing anything.

A step cap (`$GROK_MAX_STEPS=N`, set by `grok run/book --max-steps N`) truncates every config of
a sweep to at most N steps (and few evaluations) before anything runs (`capped`): the capped
config is what trains,
what names the results file (steps are part of its hash, so a capped result is never read as
the full run's) and what the plan records; its results file says `max_steps` in its attrs.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
import warnings
from pathlib import Path

import pandas as pd

from ..core.config import seed_offset, with_seed_offset
from . import store
from ..core.env import lock_hash
from ._atomic import write_json as _write_json
from .kinds import KINDS, config_from, job_spec, kind_of

RUN_ID = f"{os.getpid()}-{time.time():.0f}"  # one Python process (one chapter's kernel)


class SweepIncomplete(RuntimeError):
    """Some jobs of a sweep failed; the others finished and are stored.
    `failures`: their job records; `datasets`: the sweep's results with None for those."""

    def __init__(self, failures: list[dict], datasets: list):
        self.failures, self.datasets = failures, datasets
        lines = [f"{len(failures)} of {len(datasets)} jobs failed; these configurations are "
                 "missing from the results:"]
        for r in failures:
            lines.append(f"  {r['hash']} [{describe(r['config'], r.get('kind', 'run'))}]: {r.get('error', '?')}"
                         + (f" (log: {r['log']})" if r.get("log") else ""))
        lines.append("The other jobs finished and are stored; rerun the same command to retry "
                     "only the missing ones.")
        super().__init__("\n".join(lines))


# ------------------------------------------------------------------------------ step cap
def max_steps() -> int | None:
    """The step cap from $GROK_MAX_STEPS (a positive integer), None when unset or empty."""
    text = os.environ.get("GROK_MAX_STEPS", "").strip()
    if not text:
        return None
    try:
        cap = int(text)
    except ValueError:
        cap = 0
    if cap < 1:
        raise ValueError(f"GROK_MAX_STEPS must be a positive integer, got {text!r}")
    return cap


CAPPED_LOG_POINTS = 3  # a truncated run evaluates at 0, a few early steps and its end, no more


def capped(cfg, cap: int | None):
    """`cfg` with at most `cap` steps and at most CAPPED_LOG_POINTS early log-spaced evaluations
    (a capped run proves that the code runs; its evaluations on the full test set would cost
    more than its steps); unchanged when cap is None or the budget is within it."""
    if cap is None or cfg.steps <= cap:
        return cfg
    return cfg.replace(steps=cap, eval_log_points=min(cfg.eval_log_points, CAPPED_LOG_POINTS))


# ------------------------------------------------------------------------------ files
def record_path(cfg, root=None) -> Path:
    p = store.path_for(cfg, root)
    return p.parent / "jobs" / (p.stem + ".json")


def read_record(cfg, root=None) -> dict | None:
    try:
        return json.loads(record_path(cfg, root).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def stray_tmp_files(root=None) -> list[Path]:
    """Temp files left by writes that were killed; never results (results end in .nc)."""
    d = store.results_dir(root)
    return sorted(d.glob(".*.tmp")) + sorted(d.glob("jobs/.*.tmp")) if d.exists() else []


def describe(config: dict, kind: str = "run") -> str:
    """The fields of a config that differ from its kind's defaults, as k=v."""
    base = KINDS[kind].config().to_dict()
    return " ".join(f"{k}={_short(v)}" for k, v in config.items() if _norm(base.get(k)) != _norm(v))


def _norm(v):
    return tuple(v) if isinstance(v, (list, tuple)) else v


def _short(v):
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v) if len(v) <= 6 else f"{v[0]}..{v[-1]}({len(v)})"
    return str(v)


# ------------------------------------------------------------------------------ one job
STALE_TMP_S = 600.0  # a results write takes seconds: an older temp file is a killed write's


def _clear_stale_tmp(path: Path) -> None:
    """Remove temp files of `path` left by a killed write. A fresh one may be another process's
    write in flight (two chapters sharing a run, started together), so it is left alone."""
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink()
        except FileNotFoundError:
            pass


def _started_at(pid: int) -> float | None:
    """Unix time at which process `pid` started (Linux /proc), None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        btime = next(float(ln.split()[1]) for ln in Path("/proc/stat").read_text().splitlines()
                     if ln.startswith("btime"))
        return btime + float(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start, in ticks
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def peer_training(cfg, root=None) -> int | None:
    """The pid of another live process on this host that is training `cfg` now (its job record
    says running), else None. A pid reused by a process that started after the record was
    written is not that trainer (a killed job's record stays 'running')."""
    rec = read_record(cfg, root) or {}
    pid = int(rec.get("pid") or 0)
    if rec.get("state") != "running" or rec.get("host") != socket.gethostname() or pid in (0, os.getpid()):
        return None
    start = _started_at(pid)
    if start is None or start > float(rec.get("started_unix") or 0) + 1.0:
        return None
    return pid


def _wait_for_peer(cfg, root, path: Path, progress: bool) -> None:
    """While another process on this host trains `cfg` (two chapters that share a run, started
    together), wait for its result instead of training the same run twice; return when the
    result is there or that process stopped without it (this job then trains it)."""
    pid = peer_training(cfg, root)
    if pid is None or path.exists():
        return
    if progress:
        print(f"waiting for process {pid}, which is training {cfg.hash()}", file=sys.stderr, flush=True)
    while not path.exists() and peer_training(cfg, root) == pid:
        time.sleep(0.5)


def execute_job(spec: str, root: str, device: str = "auto", progress: bool = False) -> dict:
    """Run one ensemble job (`kinds.job_spec`) on a worker and return its job record (never
    raises for a job's own failure: the record says state 'failed' and names the log)."""
    job = json.loads(spec)
    kind = KINDS[job["kind"]]
    cfg = config_from(job["kind"], job["config"])
    path, rec_path = store.path_for(cfg, root), record_path(cfg, root)
    rec = {"hash": cfg.hash(), "kind": kind.name, "config": cfg.to_dict(), "file": str(path),
           "executor": job.get("executor", "local"), "host": socket.gethostname(), "pid": os.getpid(),
           "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "device": device}
    if not job.get("force"):
        _wait_for_peer(cfg, root, path, progress)
    if path.exists() and not job.get("force"):
        old = read_record(cfg, root) or {}
        return {**rec, "wall_s": old.get("wall_s"), "state": "done", "cached": True}
    _clear_stale_tmp(path)
    _write_json(rec_path, {**rec, "state": "running", "started_unix": time.time()})
    t0 = time.perf_counter()
    try:
        ds = kind.train(cfg, device, progress)
        if "diverged" in ds and bool(ds["diverged"].all()):
            raise FloatingPointError(f"all {ds.sizes['member']} members diverged (non-finite loss)")
        ds.attrs.setdefault("lock_hash", lock_hash())
        if job.get("max_steps"):
            ds.attrs["max_steps"] = int(job["max_steps"])
        store.save(ds, path)
        rec.update(state="done", wall_s=round(time.perf_counter() - t0, 3),
                   model_steps_per_s=float(ds.attrs.get("model_steps_per_s", 0)))
    except Exception as e:  # a job's failure: record it, let the others go on
        log = rec_path.with_suffix(".log")
        log.write_text(f"config {cfg.hash()} on {rec['host']} pid {rec['pid']} device {device}\n"
                       f"{cfg.canonical_json()}\n\n{traceback.format_exc()}")
        rec.update(state="failed", wall_s=round(time.perf_counter() - t0, 3),
                   error=f"{type(e).__name__}: {e}".splitlines()[0][:300], log=str(log))
    _write_json(rec_path, rec)
    return rec


def _lost(cfg, root, err: BaseException, log: str | None = None) -> dict:
    """The record of a job whose worker died or was lost (written by the client)."""
    rec = {"hash": cfg.hash(), "kind": kind_of(cfg).name, "config": cfg.to_dict(), "file": str(store.path_for(cfg, root)),
           "state": "failed", "error": f"{type(err).__name__}: {err}".splitlines()[0][:300],
           "log": log, "wall_s": None}
    _write_json(record_path(cfg, root), rec)
    return rec


# ------------------------------------------------------------------------------ executors
class LocalExecutor:
    """This machine: in this process (workers <= 1), else a pool of spawned processes."""
    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or os.environ.get("GROK_WORKERS") or 1)

    def map(self, cfgs, root, device, progress, force=False):
        if self.workers <= 1:
            return [execute_job(job_spec(c, force, self.name), root, device, progress) for c in cfgs]
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn")) as pool:
            futs = [pool.submit(execute_job, job_spec(c, force, self.name), root, device) for c in cfgs]
            out = []
            for c, f in zip(cfgs, futs):
                try:
                    out.append(f.result())
                except Exception as e:  # BrokenProcessPool: a worker was killed (e.g. out of memory)
                    out.append(_lost(c, root, e))
            return out


class DaskExecutor:
    """A dask.distributed cluster: `scheduler` (tcp://host:port) or a LocalCluster started here."""
    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler = scheduler or os.environ.get("GROK_SCHEDULER") or None
        self.workers = int(workers or os.environ.get("GROK_DASK_WORKERS") or 2)

    def map(self, cfgs, root, device, progress, force=False):
        from distributed import Client, LocalCluster
        cluster = None
        if self.scheduler:
            client = Client(self.scheduler)
        else:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")
            client = Client(cluster)
        try:
            futs = [client.submit(execute_job, job_spec(c, force, self.name), root, device, pure=False,
                                  key=f"grok-{c.hash()}-{RUN_ID}") for c in cfgs]
            out = []
            for c, f in zip(cfgs, futs):
                try:
                    out.append(f.result())
                except Exception as e:  # KilledWorker: the worker died (killed, out of memory)
                    out.append(_lost(c, root, e))
            return out
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


class SlurmExecutor:
    """Slurm job arrays through submitit; cluster='local' runs the jobs as local processes."""
    name = "slurm"

    def __init__(self, partition=None, time_min=None, gpus=None, cpus=None, mem_gb=None,
                 array=None, cluster=None):
        env = os.environ.get
        self.cluster = cluster or env("GROK_SLURM_CLUSTER") or None  # None: Slurm when present
        self.params = {"timeout_min": int(time_min or env("GROK_SLURM_TIME") or 60),
                       "gpus_per_node": int(gpus or env("GROK_SLURM_GPUS") or 0),
                       "cpus_per_task": int(cpus or env("GROK_SLURM_CPUS") or 1),
                       "slurm_array_parallelism": int(array or env("GROK_SLURM_ARRAY") or 64),
                       "name": "grok"}
        if mem_gb or env("GROK_SLURM_MEM_GB"):
            self.params["mem_gb"] = float(mem_gb or env("GROK_SLURM_MEM_GB"))
        if partition or env("GROK_SLURM_PARTITION"):
            self.params["slurm_partition"] = partition or env("GROK_SLURM_PARTITION")

    def map(self, cfgs, root, device, progress, force=False):
        import submitit
        ex = submitit.AutoExecutor(folder=Path(root) / "submitit" / "%j", cluster=self.cluster)
        ex.update_parameters(**self.params)
        n = len(cfgs)
        jobs = ex.map_array(execute_job, [job_spec(c, force, self.name) for c in cfgs], [root] * n, [device] * n)
        out = []
        for c, job in zip(cfgs, jobs):
            try:
                out.append(job.result())
            except Exception as e:  # the job died (pre-empted, timed out, killed)
                out.append(_lost(c, root, e, log=str(job.paths.stderr)))
        return out


EXECUTORS = {"local": LocalExecutor, "dask": DaskExecutor, "slurm": SlurmExecutor}


def get_executor(name: str | None = None):
    """The executor `name`, else $GROK_EXECUTOR, else local."""
    name = name or os.environ.get("GROK_EXECUTOR") or "local"
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")
    return EXECUTORS[name]()


# ------------------------------------------------------------------------------ plans and sweeps
def plan_path(plan: str, root=None) -> Path:
    return store.results_dir(root) / "plans" / f"{plan}.json"


def plan_name(chapter: str, profile: str, offset: int | None = None) -> str:
    """The plan a chapter's sweep is recorded under: 'chapter-profile', with '-offsetK' under a
    replication (`offset`, else $GROK_SEED_OFFSET), so the replication's jobs do not replace the
    default build's in `grok status`."""
    k = seed_offset() if offset is None else offset
    return f"{chapter}-{profile}" + (f"-offset{k}" if k else "")


def record_plan(plan: str, cfgs, root=None) -> Path:
    """Add `cfgs` to the plan's file; a new process (a new chapter run) starts it afresh."""
    path = plan_path(plan, root)
    try:
        old = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        old = {}
    configs = old.get("configs", {}) if old.get("run_id") == RUN_ID else {}
    configs.update({c.hash(): {"kind": kind_of(c).name, "config": c.to_dict()} for c in cfgs})
    _write_json(path, {"plan": plan, "run_id": RUN_ID, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "configs": configs})
    return path


def load_plan(plan: str, root=None) -> list:
    d = json.loads(plan_path(plan, root).read_text())
    return [config_from(c["kind"], c["config"]) for c in d["configs"].values()]


def run_many(cfgs, root=None, device: str = "auto", progress: bool = True, executor=None,
             plan: str | None = None, allow_missing: bool = False, force: bool = False) -> list:
    """The results of every config, in order. Stored ones are loaded (force=True: retrained);
    the rest run on the executor (`executor`, else $GROK_EXECUTOR, else local in this process)
    and the sweep is recorded under `plan` (else $GROK_PLAN) for `grok status`. Under a
    replication ($GROK_SEED_OFFSET=K) every config's seeds are moved by K first
    (`core.config.with_seed_offset`), so the same chapter code runs disjoint seeds. Failed jobs,
    including those whose members all diverged: SweepIncomplete after all others finished
    (allow_missing=True: None in their place and a warning). Under a step cap ($GROK_MAX_STEPS)
    every config is first truncated to it (`capped`). With $GROK_PLAN_RECORD (set by `grok plan`)
    the configs asked for, before any cap, are appended to that JSON-lines file."""
    cfgs = list(cfgs)
    if os.environ.get("GROK_PLAN_RECORD"):
        with open(os.environ["GROK_PLAN_RECORD"], "a") as f:
            f.writelines(job_spec(c) + "\n" for c in cfgs)
    cap, k = max_steps(), seed_offset()
    cfgs = [capped(with_seed_offset(c, k), cap) for c in cfgs]
    root = str(store.check_writable(root).resolve())
    plan = plan or os.environ.get("GROK_PLAN")
    if plan:
        record_plan(plan, cfgs, root)
    ex = executor if hasattr(executor, "map") else get_executor(executor)
    todo, seen = [], set()
    for c in cfgs:
        if (force or not store.path_for(c, root).exists()) and c.hash() not in seen:
            todo.append(c)
            seen.add(c.hash())
    records = {r["hash"]: r for r in (ex.map(todo, root, device, progress, force) if todo else [])}
    out, failures = [], []
    for c in cfgs:
        r = records.get(c.hash())
        if r is not None and r["state"] != "done":
            out.append(None)
            if r not in failures:
                failures.append(r)
            continue
        ds = store.load(store.path_for(c, root), c)
        ds.attrs["cached"] = int(r is None or bool(r.get("cached")))
        out.append(ds)
    if failures:
        err = SweepIncomplete(failures, out)
        if not allow_missing:
            raise err
        warnings.warn(str(err), stacklevel=2)
    return out


def run(cfg, root=None, device: str = "auto", progress: bool = True, force: bool = False, **kw):
    """The results of one config: `run_many([cfg])[0]`, the same path as a sweep."""
    return run_many([cfg], root=root, device=device, progress=progress, force=force, **kw)[0]


# ------------------------------------------------------------------------------ status
def jobs_table(cfgs, root=None, check: bool = False) -> pd.DataFrame:
    """One row per config: hash, state (done / failed / running / missing, or corrupt with
    check=True), wall_s, error, log, and the fields that vary across the configs."""
    cfgs = list(cfgs)
    dicts = [c.to_dict() for c in cfgs]
    keys = list(dict.fromkeys(k for d in dicts for k in d))
    varying = [k for k in keys if len({json.dumps(d.get(k)) for d in dicts}) > 1]
    rows = []
    for c, d in zip(cfgs, dicts):
        rec = read_record(c, root) or {}
        path = store.path_for(c, root)
        if path.exists():
            state = "done"
            if check:
                try:
                    store.load(path, c)
                except store.StoreError:
                    state = "corrupt"
        else:
            state = rec.get("state") if rec.get("state") in ("failed", "running") else "missing"
        wall = rec.get("wall_s")
        if state == "done" and wall is None:  # trained without a job record: the file's own time
            wall = _file_wall_time(path)
        rows.append({"hash": c.hash(), "kind": kind_of(c).name, "state": state,
                     "executor": rec.get("executor", "") if rec else "", "wall_s": wall,
                     **{k: _short(d.get(k, "")) for k in varying},
                     "error": rec.get("error", "") if state != "done" else "",
                     "log": rec.get("log", "") if state != "done" else "", "file": str(path)})
    return pd.DataFrame(rows)


def _file_wall_time(path: Path):
    import xarray as xr
    try:
        with xr.open_dataset(path, engine=store.ENGINE) as ds:
            return float(ds.attrs.get("wall_time_s"))
    except Exception:  # unreadable or no such attribute: unknown
        return None


def missing_report(cfgs, root=None) -> pd.DataFrame:
    """The configs of a sweep that have no results (failed, running or never run): an empty
    table when the sweep is complete. Chapters show it next to their figures."""
    t = jobs_table(cfgs, root)
    return t[t["state"] != "done"].reset_index(drop=True) if len(t) else t


# ------------------------------------------------------------------------------ for `grok run/book`
def add_executor_args(parser) -> None:
    """--executor / --scheduler / --workers / --slurm-* options for `grok run` and `grok book`."""
    g = parser.add_argument_group("executor (where the training jobs run)")
    g.add_argument("--executor", default=None, choices=list(EXECUTORS),
                   help="local (default), dask or slurm (default: $GROK_EXECUTOR or local)")
    g.add_argument("--scheduler", default=None, help="dask: tcp://host:port (default: a LocalCluster started here)")
    g.add_argument("--workers", type=int, default=None, help="local: processes; dask LocalCluster: workers")
    g.add_argument("--slurm-partition", default=None, help="slurm: partition")
    g.add_argument("--slurm-time", type=int, default=None, help="slurm: time limit per job, minutes (default 60)")
    g.add_argument("--slurm-gpus", type=int, default=None, help="slurm: GPUs per job (default 0)")
    g.add_argument("--slurm-array", type=int, default=None, help="slurm: most array jobs running at once (default 64)")


def apply_executor_args(args) -> None:
    """Export the chosen executor's options as environment variables, which the chapters' kernels
    inherit (so `run_many` in a notebook uses them)."""
    names = {"executor": "GROK_EXECUTOR", "scheduler": "GROK_SCHEDULER", "slurm_partition": "GROK_SLURM_PARTITION",
             "slurm_time": "GROK_SLURM_TIME", "slurm_gpus": "GROK_SLURM_GPUS", "slurm_array": "GROK_SLURM_ARRAY"}
    for attr, var in names.items():
        if getattr(args, attr, None) is not None:
            os.environ[var] = str(getattr(args, attr))
    if getattr(args, "workers", None) is not None:
        os.environ["GROK_DASK_WORKERS" if os.environ.get("GROK_EXECUTOR") == "dask" else "GROK_WORKERS"] = str(args.workers)
    os.environ.setdefault("GROK_EXECUTOR", "local")
