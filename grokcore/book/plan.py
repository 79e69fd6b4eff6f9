"""`grok plan`: what a profile costs before it runs.

The configs of a chapter are those its notebook passes to `run_many`. To know them without
training, the notebook's code runs once in this process with every config cut to one step
($GROK_MAX_STEPS=1) in a scratch results store and book root, while `run_many` appends the
configs it was asked for, uncut, to a file ($GROK_PLAN_RECORD). The list is cached under
`_build/plan/` by the chapter's stamp (notebook, parameters, grokcore source), so a second plan
reads it. A cell that fails on the one-step results is reported, not fatal: the configs of
the cells before it are kept.

Per config: members E, budget T (steps; early stopping may end a run sooner, so this is an
upper bound), FLOPs = 6 x (parameters outside embedding tables) x (examples per step) x
(positions read per example) per member-step, the nominal count of the plain computation.
CPU time: E x T x the seconds per member-step measured here on one thread (as each chapter of
`grok book` runs on a 2-core machine) by training one member a few steps (cached in `_build/plan/calibration.json` per host), or, for configs not
measured within the time allowed, FLOPs at the median FLOP/s of those measured. GPU time:
FLOPs at `GPU_TFLOPS` effective, but no less than `GPU_STEP_S` per ensemble step (a small
model's step is bound by kernel launches, not arithmetic); linear problems (P2) run on the
CPU in any case, so their GPU time is their CPU time.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

GPU_NAME = "H100"
GPU_TFLOPS = 20.0     # effective float32 TFLOP/s without TF32: ~30% of an H100's 67 peak
GPU_STEP_S = 5e-4     # floor per ensemble step on a GPU: ~100 kernel launches at ~5 us
CPU_FLOPS = 1e11      # FLOP/s when nothing was measured (0.1-0.3 TFLOP/s on the 2-core CPU)
LINEAR_STEP_S = 1e-4  # s per member-step of a linear problem when nothing was measured


@dataclass
class Cost:
    members: int
    steps: int
    flops: float       # whole config: every member, every step
    cpu_s: float
    gpu_s: float
    measured: bool


# ---------------------------------------------------------------------------- configs
def chapter_configs(ch, params: dict, root: Path) -> tuple[list, list[str]]:
    """(configs, problems) of one chapter at `params`: from the cache, else by a one-step run."""
    from ..results.kinds import config_from
    from .execute import _source_hash
    cache = root / "_build" / "plan" / f"{ch.name}.json"
    key = _source_hash(ch, params)
    try:
        c = json.loads(cache.read_text())
        if c["key"] == key:
            return [config_from(j["kind"], j["config"]) for j in c["jobs"]], c["problems"]
    except (OSError, ValueError, KeyError):
        pass
    jobs, problems = _record(ch, params, root)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "jobs": jobs, "problems": problems}))
    return [config_from(j["kind"], j["config"]) for j in jobs], problems


@contextlib.contextmanager
def _scratch_env(tmp: Path, root: Path):
    keys = ("GROK_RESULTS", "GROK_CLAIMS_DIR", "GROK_BOOK_ROOT", "GROK_MAX_STEPS", "GROK_PLAN_RECORD",
            "GROK_PLAN", "GROK_EXECUTOR", "GROK_NO_PROGRESS")
    old = {k: os.environ.get(k) for k in keys}
    (tmp / "book").mkdir()
    (tmp / "book" / "reference").symlink_to(root / "book" / "reference")
    os.environ.update(GROK_RESULTS=str(tmp / "results"), GROK_CLAIMS_DIR=str(tmp / "claims"),
                      GROK_BOOK_ROOT=str(tmp), GROK_MAX_STEPS="1", GROK_PLAN_RECORD=str(tmp / "jobs.jsonl"),
                      GROK_EXECUTOR="local", GROK_NO_PROGRESS="1")
    os.environ.pop("GROK_PLAN", None)
    try:
        yield tmp / "jobs.jsonl"
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _record(ch, params: dict, root: Path) -> tuple[list[dict], list[str]]:
    """Run the chapter's code cells here, every config cut to one step, and return the jobs
    `run_many` was asked for (kind and uncut config) and the cells that failed."""
    import matplotlib
    import nbformat
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .execute import _strip_magics
    nb = nbformat.read(str(ch.notebook), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    injected = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    sources = [c.source for c in cells[:first + 1]] + [injected] + [c.source for c in cells[first + 1:]]
    problems = []
    with tempfile.TemporaryDirectory(prefix="grok-plan-") as tmp, _scratch_env(Path(tmp), root) as rec:
        ns = {"__name__": "__main__", "display": lambda *a, **k: None}
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            for i, src in enumerate(sources):
                try:
                    exec(compile(_strip_magics(src), f"<{ch.name} cell {i}>", "exec"), ns)
                except Exception as e:  # analysis of one-step results may fail; the configs before it stand
                    problems.append(f"cell {i}: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}")
        plt.close("all")
        lines = rec.read_text().splitlines() if rec.exists() else []
    jobs = {}
    for ln in lines:
        j = json.loads(ln)
        jobs.setdefault(json.dumps([j["kind"], j["config"]], sort_keys=True), {"kind": j["kind"], "config": j["config"]})
    return list(jobs.values()), problems


# ---------------------------------------------------------------------------- costs
def _shape_key(cfg) -> str:
    """What a member-step costs depends on: the config with one member and no budget."""
    return _one_member(cfg).replace(steps=1).hash()


def _one_member(cfg):
    from ..results.kinds import kind_of
    fields = ("seeds",) + (("lr", "wd", "l1", "l2", "nuclear", "init_scale") if kind_of(cfg).name == "run"
                           else ("lr", "beta", "init_scale", "N", "tau"))
    return cfg.replace(**{k: getattr(cfg, k)[:1] for k in fields})


def flops_per_member_step(cfg) -> float:
    """6 x parameters (embedding tables excluded) x examples per step x positions per example."""
    import torch

    from ..results.kinds import kind_of
    if kind_of(cfg).name == "linear":
        params = (cfg.n if cfg.problem == "sparse" else cfg.n1 * cfg.n2) * cfg.depth
        return 6.0 * params * max(cfg.N)
    from ..core.models import build_model
    from ..core.tasks import make_data
    one = _one_member(cfg)
    data = make_data(one)
    torch.manual_seed(0)
    model = build_model(one, data)
    n = sum(p[0].numel() for name, p in model.named_parameters() if "emb" not in name.lower())
    examples = data.train_size() if cfg.batch_size <= 0 else min(cfg.batch_size, data.train_size())
    positions = {"transformer": 3, "lstm": 2}.get(cfg.model, 1)
    return 6.0 * n * examples * positions


def _measure(cfg, budget_s: float) -> float:
    """Seconds per member-step of `cfg` on this machine: one member trained 2 steps, then 2 + m
    steps (m sized to take about a second); the difference of the two wall times over m leaves
    out the set-up and the evaluations at the start and the end."""
    import torch

    from ..results.kinds import kind_of
    one = _one_member(cfg).replace(early_stop=False)

    def wall(k):
        t0 = time.perf_counter()
        kind_of(cfg).train(one.replace(steps=k, eval_every=k, eval_log_points=0), "cpu", False)
        return time.perf_counter() - t0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each of `grok book`'s chapters runs on a 2-core machine
    try:
        w1 = wall(2)
        m = int(min(400, max(4, min(1.0, budget_s / 4) / max(w1 / 2, 1e-6))))
        w2 = wall(2 + m)
    finally:
        torch.set_num_threads(threads)
    return (w2 - w1) / m if w2 > w1 else w2 / (2 + m)


def calibration_path(root: Path) -> Path:
    return root / "_build" / "plan" / "calibration.json"


def costs(cfgs, root: Path, calibrate_s: float = 60.0, log=None) -> dict[str, Cost]:
    """The Cost of each distinct config (by hash)."""
    from ..results.kinds import kind_of
    host = f"{platform.node()}-1thread"
    path = calibration_path(root)
    try:
        cal = json.loads(path.read_text()).get(host, {})
    except (OSError, ValueError):
        cal = {}
    uniq = {c.hash(): c for c in cfgs}
    flops = {h: flops_per_member_step(c) for h, c in uniq.items()}
    t_end = time.perf_counter() + calibrate_s
    for h, c in sorted(uniq.items(), key=lambda hc: -flops[hc[0]] * hc[1].steps):
        key = _shape_key(c)
        if key in cal or time.perf_counter() > t_end:
            continue
        if log:
            log(f"calibrating {kind_of(c).name} {h} ...")
        cal[key] = _measure(c, t_end - time.perf_counter())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        allcal = json.loads(path.read_text())
    except (OSError, ValueError):
        allcal = {}
    allcal[host] = cal
    path.write_text(json.dumps(allcal, indent=1))
    rates = sorted(flops[h] / cal[_shape_key(c)] for h, c in uniq.items()
                   if kind_of(c).name == "run" and cal.get(_shape_key(c)))
    cpu_flops = rates[len(rates) // 2] if rates else CPU_FLOPS
    out = {}
    for h, c in uniq.items():
        E, T = len(c.members()), c.steps
        s = cal.get(_shape_key(c))
        linear = kind_of(c).name == "linear"
        per = s if s else (LINEAR_STEP_S if linear else flops[h] / cpu_flops)
        cpu = E * T * per
        total = E * T * flops[h]
        gpu = cpu if linear else T * max(E * flops[h] / (GPU_TFLOPS * 1e12), GPU_STEP_S)
        out[h] = Cost(E, T, total, cpu, gpu, bool(s))
    return out


# ---------------------------------------------------------------------------- the table
def _dur(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def _num(x: float) -> str:
    for unit, v in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= v:
            return f"{x / v:.3g}{unit}"
    return f"{x:.3g}"


def plan_table(profile: str, names: list[str], root: Path, cap: int | None = None,
               calibrate_s: float = 60.0, log=None) -> str:
    """The plan of `profile` for chapters `names`: one row per chapter, and the total (each
    config counted once, as the store trains it once)."""
    from ..results.executors import capped
    from .chapters import chapters, compose
    chs = chapters(root)
    per, problems = {}, {}
    for n in names:
        if log:
            log(f"configs of {n} ...")
        params = compose(chs[n], profile)
        if "profile" in params:
            params["profile"] = profile  # the configs do not depend on the cap's label
        cfgs, probs = chapter_configs(chs[n], params, root)
        per[n] = [capped(c, cap) for c in cfgs]
        problems[n] = probs
    allc = [c for cs in per.values() for c in cs]
    cost = costs(allc, root, calibrate_s, log)
    head = ("chapter", "configs", "members", "steps", "member-steps", "FLOPs", "CPU here", f"GPU ({GPU_NAME})")
    rows = []

    def row(name, cs):
        cs = list({c.hash(): c for c in cs}.values())
        k = [cost[c.hash()] for c in cs]
        steps = sorted({x.steps for x in k})
        span = "-" if not steps else _num(steps[0]) if len(steps) == 1 else f"{_num(steps[0])}-{_num(steps[-1])}"
        est = "" if all(x.measured for x in k) else "*"
        return (name, str(len(cs)), str(sum(x.members for x in k)), span,
                _num(sum(x.members * x.steps for x in k)), _num(sum(x.flops for x in k)),
                _dur(sum(x.cpu_s for x in k)) + est, _dur(sum(x.gpu_s for x in k)))
    for n, cs in per.items():
        rows.append(row(n, cs))
    rows.append(row("total", allc))
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    fmt = lambda r: "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    label = profile + (f" (max {cap} steps)" if cap else "")
    lines = [f"plan of profile {label}", fmt(head), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in rows[:-1]] + [fmt(["-" * w for w in widths]), fmt(rows[-1])]
    lines.append(f"FLOPs: 6 x parameters (no embedding tables) x examples per step x positions, per "
                 f"member-step; budgets are upper bounds (early stopping ends some runs sooner). CPU here: "
                 f"the sum of E x T x seconds per member-step measured on one thread of this machine ({platform.node()}, cached in "
                 f"{calibration_path(root).relative_to(root)}); * = some configs estimated from the median "
                 f"measured FLOP/s instead; `grok book` runs min(2, cpus) chapters at once. GPU: one {GPU_NAME} at {GPU_TFLOPS:g} TFLOP/s effective (float32, "
                 f"no TF32), at least {GPU_STEP_S * 1e3:g} ms per ensemble step; P2's linear problems run on "
                 f"the CPU. The total counts each config once (chapters share runs).")
    for n, probs in problems.items():
        if probs:
            lines.append(f"note: {n}: after one step, {'; '.join(probs)} (configs of later code in that cell not listed)")
    return "\n".join(lines)
