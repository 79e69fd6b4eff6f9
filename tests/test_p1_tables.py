"""P1's table builders (claims/p1/tables.py) on small synthetic results datasets."""
import json
import math

import numpy as np
import xarray as xr

from grokcore.claims import p1, rules

STEPS = np.array([0, 100, 200, 300, 400, 500])


def dataset(t_train, t_grok, wd=1e-3, lr=0.1, budget=500, seed0=0, emb=None, p=7):
    """A results Dataset with one member per (t_train, t_grok) (NaN: not reached), an `rms` curve
    falling 1.0 -> 0.5 and, with `emb` (E, p, d), saved embeddings."""
    e = len(t_train)
    t_train, t_grok = np.array(t_train, float), np.array(t_grok, float)
    dnf = np.where(np.isfinite(t_grok), "", np.where(np.isfinite(t_train), "DNF_te", "DNF_tr"))
    acc = np.full((e, len(STEPS)), 0.5)
    coords = {"step": STEPS, "seed": ("member", np.arange(seed0, seed0 + e)), "split_seed": ("member", np.zeros(e, int)),
              "lr": ("member", np.broadcast_to(lr, e).astype(float)), "wd": ("member", np.broadcast_to(wd, e).astype(float)),
              **{k: ("member", np.zeros(e)) for k in ("l1", "l2", "nuclear")}, "init_scale": ("member", np.ones(e))}
    data = {"train_acc": (("member", "step"), acc), "test_acc": (("member", "step"), acc * np.arange(1, e + 1)[:, None] / e),
            "rms": (("member", "step"), np.tile(np.linspace(1.0, 0.5, len(STEPS)), (e, 1))),
            "t_train": ("member", t_train), "t_grok": ("member", t_grok), "t_grok95": ("member", t_grok),
            "delay": ("member", t_grok - t_train), "dnf": ("member", dnf)}
    if emb is not None:
        data["param_W_emb"] = (("member", "W_emb_0", "W_emb_1"), emb)
    return xr.Dataset(data, coords=coords, attrs={"config": json.dumps({"steps": budget, "p": p})})


def cosine_embeddings(e, p=7, d=4, k=2):
    a = np.arange(p)[:, None]
    return np.stack([np.cos(2 * np.pi * k * a / p + np.arange(d)) for _ in range(e)])


def test_member_table_labels_each_dataset_by_its_key_and_applies_outcomes():
    t = p1.member_table({("B", "gelu"): dataset([100, 100], [300, np.nan]), ("A", "relu"): dataset([100], [150])},
                        "regime", "act")
    assert list(zip(t["regime"], t["act"])) == [("B", "gelu"), ("B", "gelu"), ("A", "relu")]
    assert list(t["outcome"]) == ["grokked", "not generalised", "no delay"]
    assert t["delay_c"].iloc[1] == 400     # censored at the budget


def test_summary_keeps_the_given_order_and_adds_outcomes_in_words():
    t = p1.member_table({"d=4": dataset([100], [np.nan]), "d=2": dataset([100, 100], [300, 400])}, "config")
    s = p1.summary(t, "config", order=["d=4", "d=2"])
    assert list(s.index) == ["d=4", "d=2"] and list(s["grokked"]) == [0, 2]
    assert s.loc["d=2", "outcomes"] == rules.counts(t[t["config"] == "d=2"])


def test_calibration_text_and_the_canonical_member():
    lrs = np.array([0.1, 0.2, 0.4])   # delays 800, 400, 200: the same delay x lr x wd
    calib = p1.clock_calibration(p1.member_table({"c": dataset([100] * 3, [900, 500, 300], lr=lrs, budget=1000)}))
    assert p1.calibration_text(calib, 0.2) == {"calib_clock_ok": "holds", "calib_shape_ok": "kept"}
    assert p1.calibration_text(calib, 0.4) == {"calib_clock_ok": "holds", "calib_shape_ok": "not kept"}  # 3x < 5x
    calib = p1.clock_calibration(p1.member_table({"c": dataset([100] * 3, [900, 900, 900], lr=lrs, budget=1000)}))
    assert p1.calibration_text(calib, 0.1)["calib_clock_ok"] == "does not hold"
    t = p1.member_table({"d=2": dataset([100, 100], [300, 400], seed0=3)}, "config")
    assert list(p1.canonical_member(t)["seed"]) == [3]
    assert p1.slug("d=8 residual") == "d8_residual"


def test_depth_numbers_read_the_canonical_member_and_each_depth():
    ds = dataset([100, 100], [300, np.nan])
    t = p1.member_table({"d=2": ds, "d=4": dataset([np.nan], [np.nan])}, "config")
    s = p1.summary(t, "config", order=["d=2", "d=4"])
    rows = [{"extra": {"t_train": 100.0, "t_grok": 300.0, "final_test": 0.99, "outcome": "grokked"}},
            {"extra": {"grokked_d=2": 1, "grokked_d=4": 0}}]
    n = p1.depth_numbers(rows, p1.canonical_member(t), ds, s, p=7, steps=500, n_seeds=2)
    assert n["canon_seed"] == 0 and n["canon_t_grok_2k"] == 2000 and math.isclose(n["chance"], 100 / 7)
    assert n["canon_plateau"] == 100 * float(ds["test_acc"].isel(member=0).sel(step=100))
    assert n["d2_grokked"] == 1 and n["d4_grokked"] == 0 and n["d2_median"] == 200 and n["canon_outcome"] == "grokked"


def test_delay_variance_ratio_needs_two_grokked_members_a_side():
    t = p1.member_table({"Transformer": dataset([100, 100, 100], [300, 500, 700]), "MLP": dataset([100, 100], [300, 400])},
                        "model")
    assert p1.delay_variance_ratio(t, "model", "Transformer", "MLP") == np.var([200, 400, 600], ddof=1) / np.var([200, 300], ddof=1)
    t = p1.member_table({"Transformer": dataset([100], [300]), "MLP": dataset([100, 100], [300, 400])}, "model")
    assert np.isnan(p1.delay_variance_ratio(t, "model", "Transformer", "MLP"))


def test_wd_table_and_summary_give_the_decay_each_lambda_is_judged_by():
    ds = dataset([100, 100, np.nan, np.nan], [300, 400, np.nan, np.nan], wd=np.array([1e-3, 1e-3, 1e-2, 1e-2]), lr=0.4)
    t = p1.wd_table({"MLP": ds})
    np.testing.assert_allclose(t["lr_wd_T"], [0.2, 0.2, 2.0, 2.0])
    s = p1.wd_summary(t)
    assert list(s["wd"]) == [1e-3, 1e-2] and list(s["grokked_frac"]) == [1.0, 0.0]
    assert list(s["outcome"]) == ["grokked, grokked", "not memorised, not memorised"]
    parts = p1.wd_parts({"MLP_verdict": "reproduced", "MLP_reason": "judged ..."}, ["MLP"])
    assert parts.loc["MLP", "part verdict"] == "reproduced"


def test_mechanism_table_reads_rms_at_the_events_and_shares_of_kept_weights():
    datasets = {"MLP-GELU": dataset([100, 200], [300, np.nan], emb=cosine_embeddings(2)),
                "MLP-GELU mul": dataset([100], [400])}
    t = p1.mechanism_table(datasets, top=1, spectra=["MLP-GELU"])
    np.testing.assert_allclose(t["rms_init"], 1.0)
    np.testing.assert_allclose(t["rms_at_train"], [0.9, 0.8, 0.9])
    np.testing.assert_allclose(t["rms_at_grok"], [0.7, np.nan, 0.6])
    assert (t["top_share"].iloc[:2] > 0.99).all() and np.isnan(t["top_share"].iloc[2])
    rms = p1.rms_table(t)
    assert list(rms.index) == ["MLP-GELU", "MLP-GELU mul"] and list(rms["grokked"]) == [1, 1]
    mul = p1.mul_table(t)
    assert list(mul["act"]) == ["gelu"] and list(p1.fourier_table(t, ["MLP-GELU"])["model"]) == ["MLP-GELU"] * 2


def test_fourier_null_is_the_strictest_and_the_numbers_are_percent():
    nulls = {"MLP-GELU": 0.2, "Transformer": 0.3}
    assert p1.fourier_null(nulls) == 0.3
    extra = {"share_MLP-GELU": 0.7, "share_Transformer": 0.9, "floor": 0.45, "n_MLP-GELU": 2, "n_Transformer": 3,
             "gap_MLP-GELU": 0.2, "gap_low_MLP-GELU": 0.1, "gap_high_MLP-GELU": 0.3, "paper_gap_MLP-GELU": 0.238,
             "verdict_MLP-GELU": "reproduced"}
    n = p1.fourier_numbers(extra, nulls)
    assert n == {"share_MLP-GELU": 70.0, "share_Transformer": 90.0, "null_MLP-GELU": 20.0, "null_Transformer": 30.0,
                 "null_floor": 45.0, "gap_MLP_GELU": 20.0, "gap_MLP_GELU_low": 10.0, "gap_MLP_GELU_high": 30.0}
    t = p1.share_table(extra, nulls)
    assert list(t["grokked"]) == [2, 3] and t.loc["MLP-GELU", "paper_gap"] == 0.238


def test_rule_texts_state_bands_computed_from_their_constants():
    assert "[1.11 / 1.5, 1.11 x 1.5] = [0.74, 1.67]" in rules.RULES["P1-arch"].text
    assert "[2.88, 6.48]" in " ".join(rules.RULES["P1-act"].text.split())
    assert "[2.55, 5.73]" in rules.RULES["P1-mul"].text
    assert "[0, 29%]" in " ".join(rules.RULES["P1-norm"].text.split())
    assert "23.8 / 22.9 points" in rules.RULES["P1-fourier"].text
    assert "{" not in "".join(rules.RULES[k].text for k in rules.RULES if k.startswith("P1-"))
