"""The MNIST IDX loader on small IDX files written here, and the MNIST-1D loader."""
import gzip
import struct

import numpy as np
import pytest

from grokcore import RunConfig
from grokcore.core.images import ImageDataError, MNIST_FILES, TRAIN_POOL, load_digits, load_mnist, load_mnist1d, read_idx
from grokcore.core.tasks import make_data


def write_idx(path, array, gz=False):
    a = np.ascontiguousarray(array, dtype=np.uint8)
    raw = bytes([0, 0, 0x08, a.ndim]) + b"".join(struct.pack(">I", n) for n in a.shape) + a.tobytes()
    (gzip.open if gz else open)(path, "wb").write(raw)


def write_mnist(folder, n_train=7, n_test=5, gz=False):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": rng.integers(0, 10, n_train),
              "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": rng.integers(0, 10, n_test)}
    for key, stem in MNIST_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[key], gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip_plain_and_gzipped(tmp_path, gz):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / ("f.gz" if gz else "f"), a, gz)
    np.testing.assert_array_equal(read_idx(tmp_path / ("f.gz" if gz else "f")), a)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_scales_flattens_and_takes_first_n(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    x_tr, y_tr, x_te, y_te = load_mnist(RunConfig(task="mnist", data_dir=str(tmp_path), n_train=4))
    assert x_tr.shape == (4, 784) and x_te.shape == (5, 784)
    np.testing.assert_allclose(x_tr, arrays["x_train"][:4].reshape(4, -1) / 255.0)
    np.testing.assert_array_equal(y_tr, arrays["y_train"][:4])
    np.testing.assert_array_equal(y_te, arrays["y_test"])
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0


def test_mnist_dir_from_environment(tmp_path, monkeypatch):
    (tmp_path / "m").mkdir()
    write_mnist(tmp_path / "m")
    monkeypatch.setenv("GROK_MNIST_DIR", str(tmp_path / "m"))
    x_tr, *_ = load_mnist(RunConfig(task="mnist"))
    assert len(x_tr) == 7  # n_train=0: all


def test_missing_file_is_named(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / MNIST_FILES["y_test"]).unlink()
    with pytest.raises(ImageDataError, match="t10k-labels-idx1-ubyte"):
        load_mnist(RunConfig(task="mnist", data_dir=str(tmp_path)))


def test_no_folder_given_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("GROK_MNIST_DIR", raising=False)
    with pytest.raises(ImageDataError, match="GROK_MNIST_DIR"):
        load_mnist(RunConfig(task="mnist"))


def test_bad_magic_is_named(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ImageDataError, match="bad.*not an IDX file"):
        read_idx(tmp_path / "bad")


def test_truncated_data_is_named(tmp_path):
    write_idx(tmp_path / "short", np.zeros((3, 2, 2)))
    raw = (tmp_path / "short").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-1])
    with pytest.raises(ImageDataError, match="short.*holds 11"):
        read_idx(tmp_path / "short")


def test_corrupt_gzip_is_named(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ImageDataError, match="x.gz"):
        read_idx(tmp_path / "x.gz")


def test_labels_with_image_shape_rejected(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / MNIST_FILES["y_train"], np.zeros((7, 2, 2)))
    with pytest.raises(ImageDataError, match="train-labels.*expected labels"):
        load_mnist(RunConfig(task="mnist", data_dir=str(tmp_path)))


def test_mnist1d_shapes_first_n_and_fixed_test_set():
    a = load_mnist1d(RunConfig(task="mnist1d", n_train=300))
    b = load_mnist1d(RunConfig(task="mnist1d", n_train=0))
    assert a[0].shape == (300, 40) and b[0].shape == (8000, 40)
    np.testing.assert_array_equal(a[0], b[0][:300])
    np.testing.assert_array_equal(a[2], b[2])  # the test set does not depend on N
    assert a[2].shape == (2000, 40) and set(np.unique(b[1])) == set(range(10))


def test_mnist1d_leaves_global_rng_alone():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    load_mnist1d(RunConfig(task="mnist1d", n_train=10))
    assert np.random.rand() == expected


def test_digits_split_is_fixed_scaled_and_takes_first_n():
    pytest.importorskip("sklearn")
    a = load_digits(RunConfig(task="digits", n_train=300))
    b = load_digits(RunConfig(task="digits", n_train=0))
    assert b[0].shape == (TRAIN_POOL["digits"], 64) and b[2].shape == (1797 - TRAIN_POOL["digits"], 64)
    np.testing.assert_array_equal(a[0], b[0][:300])
    np.testing.assert_array_equal(a[2], b[2])  # the test set does not depend on N
    assert b[0].min() == 0.0 and b[0].max() == 1.0  # pixels 0..16 scaled to [0, 1] like MNIST
    assert set(np.unique(b[1])) == set(range(10)) and set(np.unique(b[3])) == set(range(10))
    c = load_digits(RunConfig(task="digits", n_train=300))
    np.testing.assert_array_equal(a[0], c[0])


def test_digits_train_and_test_are_disjoint_images():
    pytest.importorskip("sklearn")
    x_tr, _, x_te, _ = load_digits(RunConfig(task="digits", n_train=0))
    seen = {r.tobytes() for r in x_tr}
    assert sum(r.tobytes() in seen for r in x_te) < 5  # a few digits are pixel-identical copies


def test_digits_too_large_n_is_named():
    pytest.importorskip("sklearn")
    with pytest.raises(ImageDataError, match="1297"):
        load_digits(RunConfig(task="digits", n_train=5000))


def test_digits_is_an_image_task():
    pytest.importorskip("sklearn")
    d = make_data(RunConfig(task="digits", n_train=100, model="deepmlp"))
    assert tuple(d.x_train.shape) == (100, 64) and d.n_classes == 10
