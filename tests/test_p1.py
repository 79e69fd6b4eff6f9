import math

import pandas as pd

from grokcore.claims import p1
from grokcore.claims.rules import NOT, REPRODUCED, UNCLEAR


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
    assert p1.ratio_verdict(2.0, math.inf, 1.11) == NOT              # censored numerator, already above
    assert p1.ratio_verdict(0.0, 0.5, 1.11) == NOT                   # censored denominator, already below
    assert p1.ratio_verdict(0.9, math.inf, 1.11) == UNCLEAR
    assert p1.ratio_verdict(math.nan, math.nan, 1.11) == UNCLEAR


def test_delay_ratio_opens_the_bound_of_a_censored_side():
    from grokcore.claims.rules import outcomes
    num = outcomes(pd.DataFrame({"t_train": [100.0, 100.0], "t_grok": [1100.0, math.nan], "budget": 5000.0}))
    den = outcomes(pd.DataFrame({"t_train": [100.0, 100.0], "t_grok": [600.0, 700.0], "budget": 5000.0}))
    point, lo, hi = p1.delay_ratio(num, den, n_boot=200)
    assert point == (1000 + 4900) / 2 / 550 and hi == math.inf and lo > 0


def test_canonical_config_is_the_one_the_documented_command_trains():
    """book/reproducing.md's `grok train` command writes the results file that p1_depth reads as
    P1's canonical run; both must name the same config (same hash, same file)."""
    import argparse
    import importlib
    import re
    from pathlib import Path
    from grokcore.claims import p1
    cli = importlib.import_module("grokcore.cli.main")
    text = (Path(__file__).parents[1] / "book" / "reproducing.md").read_text()
    block = re.search(r"```bash\n(grok train --model mlp --task add --p 97 --frac 0\.2.*?)```", text, re.S).group(1)
    args = block.replace("\\\n", " ").split()[1:]
    parser = argparse.ArgumentParser()
    cli.add_train(parser.add_subparsers(dest="cmd"))
    (cfg,) = cli.configs_from_args(parser.parse_args(args))
    assert cfg.hash() == p1.canonical().hash()
    assert (Path(__file__).parents[1] / "book" / "reference" / f"mlp-add-{cfg.hash()}.nc").exists()
