"""The results store: cache hits never train, writes are atomic, bad files are named."""
import numpy as np
import pytest
import xarray as xr

import importlib
from grokcore import RunConfig, StoreError, run
from grokcore.core.metrics import eval_steps, grok_times
from grokcore.results.store import load, path_for, save

CFG = RunConfig(p=11, frac=0.5, steps=10, eval_every=5, width=8, embed=4, seeds=(0, 1))


def test_cached_config_returns_without_training(store, monkeypatch):
    first = run(CFG, progress=False)
    assert first.attrs["cached"] == 0 and path_for(CFG).exists()

    def boom(*a, **k):
        raise AssertionError("trained although the results file exists")
    monkeypatch.setattr(importlib.import_module("grokcore.core.train"), "train", boom)
    again = run(CFG, progress=False)
    assert again.attrs["cached"] == 1
    xr.testing.assert_identical(first.drop_attrs(), again.drop_attrs())


def test_results_file_records_config_dtype_device_and_versions(store):
    ds = run(CFG, progress=False)
    assert RunConfig.from_json(ds.attrs["config"]) == CFG
    assert ds.attrs["dtype"] == "float32" and ds.attrs["device"] == "cpu"
    assert "torch" in ds.attrs["versions"] and ds.attrs["wall_time_s"] > 0
    assert set(ds["seed"].values) == {0, 1}


def test_different_configs_get_different_files():
    assert path_for(CFG) != path_for(CFG.replace(wd=0.5))
    assert path_for(CFG) == path_for(RunConfig(**{**CFG.to_dict(), "seeds": [0, 1]}))


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    ds = xr.Dataset({"a": ("x", np.arange(3))})
    target = tmp_path / "r.nc"

    def crash(self, path, **kw):
        open(path, "wb").write(b"partial")
        raise KeyboardInterrupt
    monkeypatch.setattr(xr.Dataset, "to_netcdf", crash)
    with pytest.raises(KeyboardInterrupt):
        save(ds, target)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_file_gets_a_clear_error_naming_it(store):
    path = path_for(CFG)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a netcdf file")
    with pytest.raises(StoreError, match="corrupt results file .*rm "):
        run(CFG, progress=False)


def test_loading_with_the_wrong_config_is_refused(store):
    run(CFG, progress=False)
    with pytest.raises(StoreError, match="holds config"):
        load(path_for(CFG), CFG.replace(wd=2.0))


def test_grok_times_and_dnf_kinds():
    steps = np.array([0, 10, 20, 30])
    ds = xr.Dataset({
        "train_acc": (("member", "step"), [[0, 1, 1, 1], [0, 1, 1, 1], [0, .5, .5, .5]]),
        "test_acc": (("member", "step"), [[0, 0, .96, .995], [0, 0, 0, 0], [0, 0, 0, 0]]),
    }, coords={"member": [0, 1, 2], "step": steps})
    g = grok_times(ds)
    assert g["t_train"].values.tolist()[:2] == [10, 10] and np.isnan(g["t_train"].values[2])
    assert g["t_grok"].values[0] == 30 and g["t_grok95"].values[0] == 20 and g["delay"].values[0] == 20
    assert g["dnf"].values.tolist() == ["", "DNF_te", "DNF_tr"]


def test_eval_schedule_has_log_spaced_early_steps_and_the_end():
    s = eval_steps(1000, 100, 5)
    assert s[0] == 0 and s[-1] == 1000 and {1, 100, 500}.issubset(s) and s == sorted(set(s))


def test_reference_run_reads_the_store_then_the_shipped_copy_and_never_trains(store, tmp_path, monkeypatch):
    """A check run outside the book: the user's store first, then book/reference/, else nothing."""
    import shutil
    from grokcore.book.page import reference_run
    book = tmp_path / "book_root"
    (book / "book" / "reference").mkdir(parents=True)
    assert reference_run(CFG, root=book) == (None, "")          # neither holds it: nothing is trained
    assert not path_for(CFG).exists()
    ds = run(CFG, progress=False)                                # now the user's store holds it
    shutil.move(str(path_for(CFG)), str(path_for(CFG, book / "book" / "reference")))
    got, source = reference_run(CFG, root=book)
    assert source == "book/reference" and RunConfig.from_json(got.attrs["config"]) == CFG
    run(CFG, progress=False)
    got, source = reference_run(CFG, root=book)
    assert source == "results store"
    xr.testing.assert_identical(got["test_acc"], ds["test_acc"])


def test_reference_runs_pool_the_parts_found_and_name_their_sources(store, tmp_path):
    """A reference run in parts (ensembles on other seeds): every part found is read, each from
    where it is, and a chapter's table pools their members."""
    import dataclasses
    import shutil
    from grokcore.book.page import reference_runs
    from grokcore.claims import p1
    book = tmp_path / "book_root"
    (book / "book" / "reference").mkdir(parents=True)
    other = dataclasses.replace(CFG, seeds=(7, 8))
    assert reference_runs([CFG, other], root=book) == ([], "")
    run(other, progress=False)
    shutil.move(str(path_for(other)), str(path_for(other, book / "book" / "reference")))
    run(CFG, progress=False)
    parts, source = reference_runs([CFG, other], root=book)
    assert len(parts) == 2 and source == "results store and book/reference"
    table = p1.reference_table(parts)
    assert sorted(table["seed"]) == sorted([*CFG.seeds, 7, 8]) and len(table) == len(CFG.seeds) + 2
