"""Results: the store (one NetCDF file per config hash), the executors that fill it (local, Dask,
Slurm), per-member tables, and the one atomic writer. Imports only `grokcore.core`."""
from .executors import SweepIncomplete, run, run_many  # noqa: F401
from .store import StoreError  # noqa: F401
