"""Image data for the deep-MLP chapters (P4): real MNIST from local IDX files, scikit-learn's
real 8x8 digits (Part IV's default: in P4's large-initialisation regime it memorises and then
generalises within the quick budget, where MNIST-1D stays near chance), or MNIST-1D.

Each loader takes a RunConfig and return numpy arrays (x_train, y_train, x_test, y_test):
x float64 (N, F), y int64 (N,). The training set is the first `cfg.n_train` examples
(0 = all), the test set is always the whole test split.

- `load_mnist`: the four IDX files (gzipped or not) in `cfg.data_dir` or $GROK_MNIST_DIR;
  pixels scaled to [0, 1] and flattened to 784 features (what torchvision's ToTensor gives,
  as in the P4 code); no mean/std normalisation.
- `load_mnist1d`: MNIST-1D generated offline by the `mnist1d` package (40 features, already
  centred to mean 0 and std 1 over the whole set by the generator). We generate 10,000
  examples with the package's default transform settings and seed 42 and split them
  8,000 train / 2,000 test, so the test set does not depend on N and N can reach 8,000.
- `load_digits`: scikit-learn's real handwritten digits (`sklearn.datasets.load_digits`: 1,797
  8x8 images shipped inside the package, no download); pixels (0..16) scaled to [0, 1] and
  flattened to 64 features, like MNIST. One fixed permutation (seed 0) splits them 1,297 train /
  500 test, so the test set does not depend on N. The set is small: chapters state N as a
  fraction of the available training set (`TRAIN_POOL`).
"""
from __future__ import annotations

import gzip
import os
import random
from functools import lru_cache
from pathlib import Path

import numpy as np

MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
MNIST1D_SAMPLES, MNIST1D_TRAIN, MNIST1D_SEED = 10_000, 8_000, 42
DIGITS_TRAIN, DIGITS_SEED = 1_297, 0
TRAIN_POOL = {"mnist": 60_000, "mnist1d": MNIST1D_TRAIN, "digits": DIGITS_TRAIN}  # training examples available

# IDX type byte -> numpy big-endian dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class ImageDataError(ValueError):
    """A missing or malformed data file; the message names the file."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in one IDX file (gzipped when the name ends in .gz)."""
    path = Path(path)
    try:
        raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    except FileNotFoundError:
        raise ImageDataError(f"MNIST file not found: {path}") from None
    except (OSError, EOFError) as e:  # a corrupt gzip stream
        raise ImageDataError(f"cannot read MNIST file {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ImageDataError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ImageDataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    want = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != want:
        raise ImageDataError(f"{path}: header says shape {shape} ({want} bytes of data) "
                             f"but the file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise ImageDataError(f"MNIST file not found: {folder / stem} (or {stem}.gz)")


def _first(x, y, n):
    return (x, y) if n <= 0 else (x[:n], y[:n])


def load_mnist(cfg):
    """Real MNIST from IDX files in cfg.data_dir or $GROK_MNIST_DIR."""
    folder = cfg.data_dir or os.environ.get("GROK_MNIST_DIR", "")
    if not folder:
        raise ImageDataError("task 'mnist' needs the IDX files: set data_dir or $GROK_MNIST_DIR "
                             f"(files: {', '.join(MNIST_FILES.values())}, optionally .gz)")
    folder = Path(folder).resolve()
    stamp = tuple(f.stat().st_mtime_ns for f in sorted(folder.glob("*-idx*"))) if folder.is_dir() else ()
    arrays = _load_mnist_dir(str(folder), stamp)  # stamp: a rewritten file is read again
    x_tr, y_tr = _first(arrays["x_train"], arrays["y_train"], cfg.n_train)
    return x_tr, y_tr, arrays["x_test"], arrays["y_test"]


@lru_cache(maxsize=2)
def _load_mnist_dir(folder: str, stamp: tuple) -> dict:
    out = {}
    for key, stem in MNIST_FILES.items():
        path = _find(Path(folder), stem)
        a = read_idx(path)
        if key.startswith("x"):
            if a.ndim != 3:
                raise ImageDataError(f"{path}: expected images (n, rows, cols), got shape {a.shape}")
            a = a.reshape(len(a), -1).astype(np.float64) / 255.0  # (n, 784) in [0, 1]
        else:
            if a.ndim != 1:
                raise ImageDataError(f"{path}: expected labels (n,), got shape {a.shape}")
            a = a.astype(np.int64)
        out[key] = a
    for split in ("train", "test"):
        if len(out[f"x_{split}"]) != len(out[f"y_{split}"]):
            raise ImageDataError(f"MNIST {split} images and labels differ in count in {folder}")
    return out


def _with_n_train(data, n_train: int, name: str):
    """(x_train, y_train, x_test, y_test) with the first n_train training examples (0 = all);
    an n_train beyond the set is an ImageDataError naming the limit."""
    x_tr, y_tr, x_te, y_te = data
    if n_train > len(y_tr):
        raise ImageDataError(f"n_train={n_train} exceeds the {len(y_tr)} {name} training examples")
    x_tr, y_tr = _first(x_tr, y_tr, n_train)
    return x_tr, y_tr, x_te, y_te


def load_mnist1d(cfg):
    """MNIST-1D (40 features) generated offline; first cfg.n_train of 8,000 train, 2,000 test."""
    return _with_n_train(_mnist1d(), cfg.n_train, "MNIST-1D")


@lru_cache(maxsize=1)
def _mnist1d():
    from mnist1d.data import get_dataset_args, make_dataset
    args = get_dataset_args()
    args.num_samples = MNIST1D_SAMPLES
    args.train_split = MNIST1D_TRAIN / MNIST1D_SAMPLES
    args.seed = MNIST1D_SEED
    np_state, py_state = np.random.get_state(), random.getstate()
    try:  # the generator reseeds numpy's and Python's global RNGs; leave them as we found them
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    return f(d["x"]), d["y"].astype(np.int64), f(d["x_test"]), d["y_test"].astype(np.int64)


def load_digits(cfg):
    """scikit-learn's 8x8 digits (64 features in [0, 1]); first cfg.n_train of 1,297 train, 500 test."""
    return _with_n_train(_digits(), cfg.n_train, "digits")


@lru_cache(maxsize=1)
def _digits():
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        raise ImageDataError("task 'digits' needs scikit-learn (pip install scikit-learn)") from None
    d = sk_digits()
    x = np.ascontiguousarray(d.data, dtype=np.float64) / 16.0  # (1797, 64) in [0, 1]
    y = d.target.astype(np.int64)
    order = np.random.default_rng(DIGITS_SEED).permutation(len(y))  # fixed: same split everywhere
    tr, te = order[:DIGITS_TRAIN], order[DIGITS_TRAIN:]
    return x[tr], y[tr], x[te], y[te]
