"""P3's config builders and table builders: the builders give the configs (hashes) the chapters
always ran, written here as the literals the notebooks held before the builders existed; the table
builders on small synthetic tables."""
import numpy as np
import pandas as pd
import pytest

from grokcore.claims import p3
from chapter_params import chapter_params, pick


def hashes(cfgs):
    return [c.hash() for c in (cfgs.values() if isinstance(cfgs, dict) else cfgs)]


def test_fraction_builders_give_the_stored_configs():
    P = chapter_params("p3_fraction")
    base = p3.transformer(p=P["p"], width=P["width"], d_mlp=P["d_mlp"], lr=P["lr"], steps=P["steps"],
                          eval_every=P["eval_every"], split="per_seed", seeds=tuple(range(P["n_seeds"])))
    cfgs = p3.fraction_configs(**pick(P, p3.fraction_configs))
    # the sweep retires members once they grokked (issue 36): the same runs, trained faster
    assert hashes(cfgs) == hashes([base.replace(frac=a, retire="grokked") for a in P["fracs"]])
    assert list(cfgs) == [f"frac_{a:g}" for a in P["fracs"]]
    ref = p3.transformer(p=P["ref_p"], frac=P["ref_frac"], steps=300, eval_every=min(P["eval_every"], 300),
                         split="per_seed", seeds=(0, 1))
    assert p3.reference_config(P["ref_p"], P["ref_frac"], 300, P["eval_every"], 2).hash() == ref.hash()


def test_architecture_builders_give_the_stored_configs():
    P = chapter_params("p3_architectures")
    common = dict(p=P["p"], frac=P["frac"], steps=P["steps"], eval_every=P["eval_every"], split="per_seed",
                  seeds=tuple(range(P["n_seeds"])), optimizer="adamw", wd=tuple(P["wds"]))
    old = {"transformer": p3.transformer(width=P["width"], d_mlp=4 * P["width"], **common, lr=P["tf_lr"]),
           "MLP": p3.mlp(width=P["mlp_width"], **{**common, "wd": tuple(P["mlp_wds"])}),
           "LSTM": p3.lstm(**{**common, "p": P["lstm_p"], "frac": P["lstm_frac"], "wd": tuple(P["lstm_wds"]),
                              "steps": P["lstm_steps"]})}
    new = p3.architecture_configs(**pick(P, p3.architecture_configs))
    assert list(new) == list(old) and hashes(new) == hashes(old)


def test_optimizer_sweep_gives_the_stored_configs():
    P = chapter_params("p3_optimizers")
    base = p3.optimizer_base(p=P["p"], width=P["width"], d_mlp=P["d_mlp"], steps=P["steps"], eval_every=P["eval_every"],
                             split="per_seed", seeds=tuple(range(P["n_seeds"])))
    old = [(a, c) for a in P["fracs"] for c in p3.optimizer_configs(base.replace(frac=a), P["update_noise"],
                                                                     P["weight_noise"], P["batch_size"])]
    new = p3.optimizer_sweep(**pick(P, p3.optimizer_sweep))
    assert [a for a, _ in new] == [a for a, _ in old] and hashes([c for _, c in new]) == hashes([c for _, c in old])


def member(arch, wd, seed, t_train, t_grok, budget=1000):
    return {"arch": arch, "wd": wd, "seed": seed, "t_train": t_train, "t_grok": t_grok, "delay": t_grok - t_train,
            "budget": budget, "dnf": "",
            "final_train_acc": 1.0, "final_test_acc": 1.0}


def test_delay_ratio_compares_median_delays_of_grokked_members_at_one_weight_decay():
    from grokcore.claims.rules import outcomes
    rows = [member("transformer", 1.0, s, 100, 100 + d) for s, d in enumerate([400, 500, 600])]
    rows += [member("MLP", 1.0, s, 100, 100 + d) for s, d in enumerate([200, 250, 300])]
    rows += [member("MLP", 0.0, s, 100, 900) for s in range(3)]        # another wd: not counted
    ratio, lo, hi = p3.delay_ratio(outcomes(pd.DataFrame(rows)), 1.0)
    assert ratio == pytest.approx(2.0) and lo <= ratio <= hi
    ratio, _, _ = p3.delay_ratio(outcomes(pd.DataFrame(rows)), 0.5)
    assert np.isnan(ratio)


def test_architecture_summary_counts_members_per_arch_and_weight_decay():
    from grokcore.claims.rules import outcomes
    rows = [member("MLP", w, s, 100, 500) for w in (0.0, 1.0) for s in range(2)]
    s = p3.architecture_summary(outcomes(pd.DataFrame(rows)))
    assert list(s.index) == [("MLP", 0.0), ("MLP", 1.0)] and list(s["members"]) == [2, 2]


def test_fraction_summary_gives_the_censored_median_delay_per_alpha():
    from grokcore.claims.rules import outcomes
    rows = [{"frac": a, "seed": s, "t_train": 100.0, "t_grok": 100.0 + d, "budget": 5000, "dnf": "",
             "final_test_acc": 1.0} for a, ds in ((0.3, [1000, 2000, 3000]), (0.8, [10, 20, 30])) for s, d in enumerate(ds)]
    t = outcomes(pd.DataFrame(rows))
    summary = p3.fraction_summary(t)
    assert list(summary["censored median ΔT"]) == ["2,000", "20"]
    assert p3.censored_median(t[t.frac == 0.8]) == 20


def test_optimizer_scores_average_over_alpha_of_the_mean_best_test_accuracy():
    rows = [{"optimizer": o, "frac": a, "seed": s, "best_test_acc": acc, "t_train": np.nan if o == "B" else 150.0}
            for o, accs in (("A", {0.5: [0.2, 0.4], 0.8: [1.0, 1.0]}), ("B", {0.5: [0.0, 0.0], 0.8: [0.5, 0.5]}))
            for a, vals in accs.items() for s, acc in enumerate(vals)]
    t = pd.DataFrame(rows)
    assert p3.optimizer_scores(t).to_dict() == pytest.approx({"A": 0.65, "B": 0.25})
    s = p3.optimizer_summary(t)
    assert np.isinf(s[s.optimizer == "B"].t_train).all() and (s.n == 2).all()
