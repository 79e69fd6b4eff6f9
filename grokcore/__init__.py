"""grokcore: batched-ensemble training and analysis for grokking studies.

Layout (imports run one way, left to right never back):
  core     tasks, data sets, layers, models, optimizers, the training loop, metrics
  results  the store, the executors (local, Dask, Slurm), per-member tables, atomic writes
  claims   per-paper configurations and verdict rules, shared statistics, the ledger
  book     chapters, papermill execution, the HTML site, page helpers and plots
  cli      the `grok` command
"""
from .core import _malloc
from .core.env import VERSION as __version__  # noqa: F401

_malloc.tune()

from .core.config import ConfigError, RunConfig, validate  # noqa: E402,F401
from .core.train import train  # noqa: E402,F401
from .results import StoreError, SweepIncomplete, run, run_many  # noqa: E402,F401
