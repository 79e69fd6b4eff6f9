"""P2's config builders and table builders: the builders give the configs (hashes) the chapters
always ran, written here as the literals the notebooks held before the builders existed; the table
builders on small datasets."""
import numpy as np
import pandas as pd
import pytest

import grokcore as gc
from grokcore.claims import p2
from grokcore.core import linear_problems as L
from chapter_params import chapter_params, pick


def hashes(cfgs):
    return [c.hash() for c in (cfgs.values() if isinstance(cfgs, dict) else cfgs)]


def test_linear_chapter_builders_give_the_stored_configs():
    P = chapter_params("p2_linear")
    sparse = L.LinearConfig(problem="sparse", reg="l1", n=P["n"], s=P["s"], N=P["N"], lr=tuple(P["lrs"]),
                            beta=tuple(P["betas"]), scaling=P["scaling"], init_scale=1e-6, steps=P["steps"], tol=P["tol"],
                            seeds=P["seeds"], eval_every=P["eval_every"], early_stop=False)
    matrix = L.LinearConfig(problem="matrix", reg="nuclear", N=P["matrix_N"], lr=P["matrix_lr"],
                            beta=tuple(P["matrix_betas"]), init_scale=1e-6, steps=P["matrix_steps"], tol=P["tol"],
                            seeds=P["matrix_seeds"], eval_every=max(P["matrix_steps"] // 400, 1), early_stop=False,
                            normalize=True)
    ridge = sparse.replace(reg="l2", beta=P["l2_beta"], lr=P["lrs"][0], steps=min(P["steps"], 5000))
    assert hashes(p2.linear_configs(**pick(P, p2.linear_configs))) == hashes([sparse, matrix, ridge])
    depth = [L.LinearConfig(problem="sparse", reg="none", beta=0.0, n=P["n"], s=P["s"], N=tuple(P["depth_N"]), depth=d,
                            scaling=P["scaling"], lr=P["depth_lr"], init_scale=1e-6 if d == 1 else P["depth_init"],
                            tol=P["tol"], steps=min(P["depth_steps"], 20_000) if d == 1 else
                            P["depth_steps"] if d == 2 else P["deep_steps"], seeds=P["seeds"],
                            eval_every=max((P["depth_steps"] if d <= 2 else P["deep_steps"]) // 200, 1))
             for d in P["depths"]]
    assert hashes(p2.depth_configs(**pick(P, p2.depth_configs))) == hashes(depth)


def test_norms_chapter_builders_give_the_stored_configs():
    P = chapter_params("p2_norms")
    base = gc.RunConfig(task="add", p=P["p"], frac=P["frac"], model="p2mlp", width=P["width"], act="relu",
                        optimizer="adam", wd=0.0, lr=tuple(P["lrs"]), batch_size=P["batch_size"],
                        loss_dtype=P["loss_dtype"], steps=P["steps"], eval_every=P["eval_every"], seeds=P["seeds"],
                        early_stop=False, init="p2")
    mlp = {"l1": base.replace(l1=(0.0, *P["l1"])), "nuclear": base.replace(nuclear=tuple(P["nuclear"]))}
    assert hashes(p2.norms_mlp_configs(**pick(P, p2.norms_mlp_configs))) == hashes(mlp)
    lin = L.LinearConfig(problem="sparse", reg="l1", lr=P["lin_lr"], beta=P["lin_beta"], init_scale=1e-6,
                         tol=P["lin_tol"], steps=P["lin_steps"], seeds=P["lin_seeds"],
                         eval_every=max(P["lin_steps"] // 200, 1), early_stop=False)
    mat = L.LinearConfig(problem="matrix", reg="nuclear", N=P["mat_N"], lr=P["mat_lr"], beta=tuple(P["mat_betas"]),
                         init_scale=1e-6, steps=P["mat_steps"], tol=P["mat_tol"], seeds=P["lin_seeds"],
                         eval_every=max(P["mat_steps"] // 400, 1), early_stop=False, normalize=True)
    lin_cfgs, mat_cfgs = p2.norms_linear_configs(**pick(P, p2.norms_linear_configs))
    assert hashes(lin_cfgs) == hashes([lin, lin.replace(reg="none", beta=0.0)])
    assert hashes(mat_cfgs) == hashes([mat, mat.replace(reg="none", beta=0.0, steps=min(P["mat_steps"], 5000))])
    with_l2 = p2.norms_mlp_configs(**{**pick(P, p2.norms_mlp_configs), "nuclear": [], "l2": [1e-5]})
    assert list(with_l2) == ["l1", "l2"] and with_l2["l2"].l2 == (1e-5,)


def test_selection_chapter_builders_give_the_stored_configs():
    P = chapter_params("p2_selection")
    every = max(P["steps"] // 100, 1)
    mc = L.LinearConfig(problem="matrix", reg="nuclear", N=tuple(P["matrix_N"]), tau=tuple(P["taus"]), lr=P["matrix_lr"],
                        beta=P["matrix_beta"], init_scale=1e-6, tol=P["tol"], steps=P["steps"], seeds=P["seeds"],
                        eval_every=every, early_stop=False, normalize=True)
    cs = L.LinearConfig(problem="sparse", reg="l1", N=P["cs_N"], tau=tuple(P["taus"]), lr=P["cs_lr"], beta=P["cs_beta"],
                        init_scale=1e-6, tol=P["tol"], steps=P["steps"], seeds=P["seeds"], eval_every=every,
                        early_stop=False)
    assert hashes(p2.selection_configs(**pick(P, p2.selection_configs))) == hashes([mc, cs])
    base = gc.RunConfig(task="add", p=P["mod_p"], frac=P["mod_k"] / P["mod_p"], model="mlp", embed=128, width=128,
                        depth=1, combine="concat", act="relu", optimizer="adamw", lr=P["mod_lr"], wd=1.0,
                        betas=(0.9, 0.98), steps=P["mod_steps"], eval_every=50, seeds=P["mod_seeds"])
    mod = p2.modadd_configs(**pick(P, p2.modadd_configs))
    assert hashes(mod) == hashes([base.replace(select=s) for s in ("random", "diagonal")])


SMALL = dict(n=20, s=2, N=12, lr=0.3, init_scale=2e-7, steps=600, eval_every=100, tol=1e-2, seeds=(1, 2))


@pytest.fixture(scope="module")
def sparse_runs():
    cfgs = {"l1": L.LinearConfig(reg="l1", beta=2e-4, **SMALL), "none": L.LinearConfig(reg="none", beta=0.0, **SMALL)}
    return cfgs, {k: L.train_linear(c) for k, c in cfgs.items()}


def test_linear_tables_carry_budget_recoverability_and_t_train_t_grok(sparse_runs):
    cfgs, runs = sparse_runs
    t = p2.linear_table(runs["l1"], cfgs["l1"], problem="sparse")
    assert {"t_train", "t_grok", "t_grok_plateau", "recoverable"} <= set(t) and not {"t1", "t2"} & set(t)
    assert (t.budget == 600).all() and t.recoverable.dtype == bool
    pen = p2.linear_penalty_table(runs, cfgs, "sparse recovery", with_recoverable=True)
    assert list(pen.penalty) == ["l1", "l1", "none", "none"] and (pen.problem == "sparse recovery").all()
    assert "recoverable" not in p2.linear_penalty_table(runs, cfgs, "sparse recovery")
    norms = p2.linear_norm_change(runs["l1"], pen[pen.penalty == "l1"], 600, "sparse recovery")
    assert (norms.t_grok > norms.t_train).all() and {"l2_train", "l1_grok"} <= set(norms)


def test_depth_table_gives_t_grok_over_t_train(sparse_runs):
    cfgs, runs = sparse_runs
    dep = p2.depth_table([runs["l1"]], [cfgs["l1"]], [1])
    np.testing.assert_allclose(dep.grok_over_train, dep.t_grok / dep.t_train.clip(lower=1))
    assert set(p2.depth_summary(dep).columns) >= {"L_depth", "N", "median_t_train", "median_grok_over_train"}


def test_selection_table_censors_never_generalised_members_at_the_budget(sparse_runs):
    cfgs, runs = sparse_runs
    ds = runs["none"]          # no penalty: never recovers, so every member is censored
    tab = p2.selection_table({"compressed_sensing": ds}, 600)
    assert (tab.problem == "compressed sensing").all()
    never = tab.t_grok_plateau.isna() | (tab.final_test_err > p2.rules.GENERALISED_ERR)
    assert never.any() and (never == (tab.t_select == 601)).all()


def test_modadd_comparison_gives_the_median_ratio_and_na_when_a_selection_never_grokked():
    rows = [{"selection": s, "seed": i, "reached": True, "t_grok": t}
            for s, ts in (("random", [100, 200, 300]), ("diagonal", [50, 100, 150])) for i, t in enumerate(ts)]
    values, note = p2.modadd_comparison(pd.DataFrame(rows), 3, 59, 30)
    assert values["mod_ratio"] == pytest.approx(0.5) and values["mod_grok_diagonal"] == "3/3"
    assert "median T_grok ratio 0.5" in note
    none = pd.DataFrame(rows).assign(reached=lambda d: d.selection == "random")
    values, _ = p2.modadd_comparison(none, 3, 59, 30)
    assert np.isnan(values["mod_ratio"]) and values["mod_grok_diagonal"] == "0/3"


def test_penalty_table_names_the_control_by_its_zero_coefficient():
    import xarray as xr
    cfg = p2.mlp(p=5, frac=0.5, width=8, l1=(0.0, 1e-5), steps=2, eval_every=1, seeds=1)
    m = 2
    ds = xr.Dataset({k: ("member", np.zeros(m)) for k in ("t_train", "t_grok", "t_grok95", "delay")},
                    coords={"seed": ("member", [0, 0]), "split_seed": ("member", [0, 0]), "lr": ("member", [1e-3] * m),
                            "wd": ("member", [0.0] * m), "l1": ("member", [0.0, 1e-5]), "l2": ("member", [0.0] * m),
                            "nuclear": ("member", [0.0] * m), "init_scale": ("member", [1.0] * m)})
    ds["dnf"] = ("member", np.array(["", ""], dtype=object))
    ds["train_acc"] = (("member", "step"), np.ones((m, 2)))
    ds["test_acc"] = (("member", "step"), np.ones((m, 2)))
    ds["l1_norm"] = (("member", "step"), [[5.0, 6.0], [5.0, 4.0]])     # the control's l1 grows, the penalised one's falls
    ds = ds.assign_coords(step=[0, 1])
    ds.attrs["config"] = cfg.canonical_json()
    df = p2.penalty_table({"l1": ds})
    assert list(df.penalty) == ["none", "l1"] and list(df.beta) == [0.0, 1e-5] and (df.problem == "mlp").all()
    assert list(df.norm_falls) == [0.0, 1.0]


def test_p2_init_draws_hidden_and_output_weights_with_the_authors_std():
    from grokcore.core.config import ConfigError, validate
    from grokcore.core.models import MODELS
    cfg = p2.mlp(p=97, width=64, seeds=(0, 1))
    assert cfg.init == "p2"
    model = MODELS["p2mlp"](cfg, 97, 97).materialize(cfg.members())
    assert model.W_fc.std().item() == pytest.approx(1 / 8, rel=0.05)              # N(0, 1/fan_out), fan_out 64
    assert model.W_head.std().item() == pytest.approx(1 / np.sqrt(97), rel=0.05)   # fan_out p
    bound = 1 / np.sqrt(97)                                                        # encoders: PyTorch's U(+-1/sqrt(fan_in))
    assert model.W_enc_a.abs().max().item() <= bound
    torch_init = cfg.replace(init="torch")
    assert MODELS["p2mlp"](torch_init, 97, 97).materialize(torch_init.members()).W_fc.abs().max().item() <= 1 / 8
    with pytest.raises(ConfigError, match="p2mlp"):
        validate(gc.RunConfig(model="mlp", init="p2"))


def test_loss_dtype_arm_is_the_l1_ensemble_in_float32():
    P = chapter_params("p2_norms")
    cfgs = p2.norms_mlp_configs(**pick(P, p2.norms_mlp_configs))
    arm = p2.loss_dtype_arm(cfgs)
    assert arm.loss_dtype == "float32" and arm.replace(loss_dtype=cfgs["l1"].loss_dtype) == cfgs["l1"]
    assert arm.hash() != cfgs["l1"].hash() and arm.l1 == cfgs["l1"].l1
    f32 = p2.norms_mlp_configs(**{**pick(P, p2.norms_mlp_configs), "loss_dtype": "float32"})
    assert p2.loss_dtype_arm(f32) is None


def test_wd_control_is_the_l1_ensemble_with_adamw_decay_and_no_l1():
    P = chapter_params("p2_norms")
    cfgs = p2.norms_mlp_configs(**pick(P, p2.norms_mlp_configs))
    ctrl = p2.wd_control_config(cfgs, P["wd_control"])
    assert ctrl.optimizer == "adamw" and ctrl.wd == tuple(P["wd_control"]) and ctrl.l1 == (0.0,)
    assert ctrl.replace(optimizer="adam", wd=(0.0,), l1=cfgs["l1"].l1) == cfgs["l1"]
    assert p2.wd_control_config(cfgs, []) is None
