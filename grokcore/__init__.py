"""grokcore: batched-ensemble training and analysis for grokking studies."""
__version__ = "0.1.0"

from . import _malloc

_malloc.tune()

from .config import ConfigError, RunConfig, validate  # noqa: E402,F401
from .store import StoreError, run, run_many  # noqa: E402,F401
from .train import train  # noqa: E402,F401
