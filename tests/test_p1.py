import math

import pandas as pd

from grokcore.claims import p1
from grokcore.claims.rules import NOT_REPRODUCED, REPRODUCED, INCONCLUSIVE


def test_mlp_config_is_the_papers_baseline():
    cfg = p1.mlp()
    assert (cfg.model, cfg.combine, cfg.width, cfg.embed, cfg.depth, cfg.act) == ("mlp", "sum", 256, 256, 2, "gelu")
    assert (cfg.optimizer, cfg.momentum, cfg.lr, cfg.wd) == ("sgd", 0.9, (1e-2,), (2e-3,))
    assert (cfg.p, cfg.frac, cfg.split, cfg.split_seed) == (97, 0.2, "shared", 0)


def test_overrides_win_over_the_baseline():
    cfg = p1.mlp(width=512, depth=8, residual=True, res_scale=0.5, clip=1.0, optimizer="adamw")
    assert (cfg.width, cfg.embed, cfg.residual, cfg.clip, cfg.optimizer) == (512, 512, True, 1.0, "adamw")
    t = p1.transformer(width=64, d_mlp=256)
    assert (t.model, t.readout, t.norm, t.width, t.d_mlp, t.wd) == ("transformer", "mean", "pre", 64, 256, (1.0,))


def test_ratio_verdict_uses_a_1_5x_band_and_accepts_open_bounds():
    assert p1.ratio_verdict(0.9, 1.4, 1.11) == REPRODUCED            # inside [0.74, 1.665]
    assert p1.ratio_verdict(2.0, math.inf, 1.11) == NOT_REPRODUCED              # censored numerator, already above
    assert p1.ratio_verdict(0.0, 0.5, 1.11) == NOT_REPRODUCED                   # censored denominator, already below
    assert p1.ratio_verdict(0.9, math.inf, 1.11) == INCONCLUSIVE
    assert p1.ratio_verdict(math.nan, math.nan, 1.11) == INCONCLUSIVE


def test_delay_ratio_opens_the_bound_of_a_censored_side():
    from grokcore.claims.rules import outcomes
    num = outcomes(pd.DataFrame({"t_train": [100.0, 100.0], "t_grok": [1100.0, math.nan], "budget": 5000.0}))
    den = outcomes(pd.DataFrame({"t_train": [100.0, 100.0], "t_grok": [600.0, 700.0], "budget": 5000.0}))
    point, lo, hi = p1.delay_ratio(num, den, n_boot=200)
    assert point == (1000 + 4900) / 2 / 550 and hi == math.inf and lo > 0


def test_canonical_config_is_the_one_the_documented_command_trains():
    """book/reproducing.md's `grok train` commands write the results files that p1_depth reads as
    P1's canonical run (two ensembles, seeds 0-4 and 5-9); both must name the same configs (same
    hashes, same files), and so must the replication's commands at offset 100."""
    import argparse
    import importlib
    import re
    from pathlib import Path
    from grokcore.claims import p1
    from grokcore.core.config import with_seed_offset
    cli = importlib.import_module("grokcore.cli.main")
    text = (Path(__file__).parents[1] / "book" / "reproducing.md").read_text()
    block = re.search(r"```bash\n(grok train --model mlp --task add --p 97 --frac 0\.2.*?--seeds 5)\n", text, re.S).group(1)
    args = block.replace("\\\n", " ").split()[1:]
    parser = argparse.ArgumentParser()
    cli.add_train(parser.add_subparsers(dest="cmd"))

    def config(split_seed: str, seeds: str):
        a = args[:args.index("--split-seed") + 1] + [split_seed] + args[args.index("--split-seed") + 2:]
        (cfg,) = cli.configs_from_args(parser.parse_args(a[:a.index("--seeds") + 1] + [seeds]))
        return cfg

    first, second = p1.canonical_parts()
    assert config("0", "5").hash() == first.hash() and first.seeds == tuple(range(p1.CANONICAL_SEEDS))
    assert config("0", "5-9").hash() == second.hash() and second.seeds == p1.CANONICAL_MORE_SEEDS
    assert config("100", "100-104").hash() == with_seed_offset(first, 100).hash()
    assert config("100", "105-109").hash() == with_seed_offset(second, 100).hash()
    for words in ("--seeds 5-9", "--split-seed 100 --seeds 100-104", "--seeds 105-109"):
        assert words in text
    reference = Path(__file__).parents[1] / "book" / "reference"
    assert all((reference / f"mlp-add-{c.hash()}.nc").exists() for c in p1.canonical_parts())
    assert all((reference / f"mlp-add-{with_seed_offset(c, 100).hash()}.nc").exists() for c in p1.canonical_parts())


# ------------------------------------------------------------------------------ chapter config builders
# Each builder must give the configs (hashes) the chapter built before it existed, at the chapter's
# default parameters, so the stored runs stay its runs; the literals below are those notebooks' code.
def test_depth_builders_keep_the_chapters_hashes():
    common = dict(p=59, frac=0.4, optimizer="sgd", lr=0.2, wd=2e-3, steps=3000, eval_every=25, seeds=5)
    before = {"d=2": p1.mlp(64, 2, early_stop=False, **common), "d=4": p1.mlp(64, 4, **common),
              "d=8 residual": p1.mlp(64, 8, residual=True, res_scale=0.5, clip=1.0, **common)}
    after = p1.depth_configs(59, 0.4, 64, 64, "sgd", 0.2, 2e-3, 3000, 25, 5)
    assert {k: c.hash() for k, c in after.items()} == {k: c.hash() for k, c in before.items()}
    calib = p1.mlp(64, 2, p=59, frac=0.4, lr=(0.1, 0.2, 0.4), wd=2e-3, steps=3000, eval_every=25, seeds=1)
    assert p1.calibration_config(59, 0.4, 64, [0.1, 0.2, 0.4], 2e-3, 3000, 25).hash() == calib.hash()


def test_only_the_papers_baseline_can_judge_the_canonical_run():
    assert p1.is_paper_baseline(p1.mlp())
    assert not p1.is_paper_baseline(p1.depth_configs(59, 0.4, 64, 64, "sgd", 0.2, 2e-3, 3000, 25, 5)["d=2"])
    assert not p1.is_paper_baseline(p1.mlp(optimizer="adamw"))


def shared_runs():
    """The literals of p1_activation (regime B), p1_arch and p1_mechanism at their defaults."""
    keep = dict(save_params=True, early_stop=False)
    act = {(r, a): p1.mlp(depth=4, act=a, p=59, frac=0.4, optimizer="sgd", eval_every=25, seeds=5, **kw)
           for r, kw in {"B": dict(width=64, lr=0.4, wd=5e-4, steps=6000, **keep),
                         "A": dict(width=64, lr=0.2, wd=2e-3, steps=3000)}.items() for a in ("gelu", "relu", "tanh")}
    common = dict(p=59, frac=0.4, steps=3000, eval_every=25, seeds=5)
    arch = {"Transformer": p1.transformer(32, 128, lr=3e-3, wd=1.0, **common, **keep),
            "MLP": p1.mlp(64, 4, optimizer="sgd", lr=0.4, wd=5e-4, **{**common, "steps": 6000}, **keep)}
    common = dict(p=59, frac=0.4, seeds=5, eval_every=25)
    mlp = p1.mlp(64, 4, optimizer="sgd", lr=0.4, wd=5e-4, steps=6000, **common)
    tf = p1.transformer(32, 128, lr=3e-3, wd=1.0, steps=3000, **common)
    mech = {"MLP-GELU": mlp.replace(**keep), "MLP-ReLU": mlp.replace(act="relu", **keep), "Transformer": tf.replace(**keep),
            "MLP-GELU mul": mlp.replace(task="mul_nonzero", seeds=3),
            "MLP-ReLU mul": mlp.replace(task="mul_nonzero", act="relu", seeds=3)}
    return act, arch, mech


def hashes(cfgs):
    return {k: c.hash() for k, c in cfgs.items()}


def test_activation_arch_and_mechanism_builders_keep_the_chapters_hashes():
    act, arch, mech = shared_runs()
    assert hashes(p1.activation_configs(59, 0.4, ["gelu", "relu", "tanh"], "sgd", 64, 0.4, 5e-4, 64, 0.2, 2e-3, 5,
                                        6000, 3000, 25)) == hashes(act)
    assert list(p1.activation_configs(59, 0.4, ["gelu"], "sgd", 64, 0.4, 5e-4, 64, 0.2, 2e-3, 5, 6000, 3000, 25)) \
        == [("B", "gelu"), ("A", "gelu")]
    assert hashes(p1.arch_configs(59, 0.4, 32, 128, 3e-3, 1.0, 64, "sgd", 0.4, 5e-4, 6000, 5, 3000, 25)) == hashes(arch)
    assert hashes(p1.mechanism_configs(59, 0.4, 5, 3, 6000, 3000, 25, 64, "sgd", 0.4, 5e-4, 32, 128, 1.0, 3e-3)) \
        == hashes(mech)
    # the runs the chapters share are one run each
    assert arch["MLP"].hash() == act[("B", "gelu")].hash() == mech["MLP-GELU"].hash()
    assert mech["MLP-ReLU"].hash() == act[("B", "relu")].hash() and mech["Transformer"].hash() == arch["Transformer"].hash()


def test_weight_decay_builder_keeps_the_chapters_hashes():
    from grokcore import RunConfig
    common = dict(task="add", p=59, frac=0.5, split="shared", split_seed=0, seeds=3, steps=1000, eval_every=50)
    mlp = RunConfig(model="mlp", combine="sum", embed=64, width=64, depth=4, act="gelu", optimizer="sgd", momentum=0.9,
                    lr=0.4, wd=(5e-5, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3), **{**common, "steps": 6000})
    tf = RunConfig(model="transformer", depth=1, width=32, heads=4, d_mlp=128, act="gelu", norm="pre", readout="mean",
                   optimizer="adamw", lr=3e-3, clip=1.0, wd=(0.1, 1.0, 30.0), **common)
    after = p1.wd_configs(59, 0.5, 3, 1000, 50, 64, "sgd", 0.4, [5e-5, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3], 6000, 32,
                          [0.1, 1.0, 30.0], 3e-3)
    assert hashes(after) == {"MLP": mlp.hash(), "Transformer": tf.hash()}
