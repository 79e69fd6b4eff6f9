"""Kinds of configuration the store and the executors know: a kind names its config class, its
results-file prefix and its trainer. A modular-task/image run (`RunConfig`) and a P2 linear
problem (`LinearConfig`) take the same path: store, executor, job record, plan."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable

from ..core.config import RunConfig
from ..core.linear_problems import LinearConfig


def _train_run(cfg, device, progress):
    from ..core.train import train
    return train(cfg, device=device, progress=progress)


def _train_linear(cfg, device, progress):
    from ..core.linear_problems import train_linear
    return train_linear(cfg, device="cpu" if device == "auto" else device)


@dataclass(frozen=True)
class Kind:
    name: str
    config: type
    prefix: Callable  # cfg -> the results file's name before its hash
    train: Callable   # (cfg, device, progress) -> xarray.Dataset


KINDS = {
    "run": Kind("run", RunConfig, lambda c: f"{c.model}-{c.task}", _train_run),
    "linear": Kind("linear", LinearConfig, lambda c: f"linear-{c.problem}", _train_linear),
}


def kind_of(cfg) -> Kind:
    for k in KINDS.values():
        if isinstance(cfg, k.config):
            return k
    raise TypeError(f"not a configuration: {type(cfg).__name__}; valid: "
                    + ", ".join(k.config.__name__ for k in KINDS.values()))


def job_spec(cfg, force: bool = False, executor: str = "local") -> str:
    """What a worker receives: the kind, the config, whether to retrain a stored result, the
    executor that sent it (kept in the job record) and the step cap it ran under
    ($GROK_MAX_STEPS, recorded in the results file)."""
    cap = os.environ.get("GROK_MAX_STEPS", "").strip()
    return json.dumps({"kind": kind_of(cfg).name, "config": cfg.to_dict(), "force": bool(force),
                       "executor": executor, "max_steps": int(cap) if cap.isdigit() else None})


def config_from(kind: str, config: dict):
    if kind not in KINDS:
        raise ValueError(f"unknown configuration kind {kind!r}; valid: {', '.join(KINDS)}")
    return KINDS[kind].config.from_json(json.dumps(config))
