"""The page helpers of Part IV and the introduction: Part IV's figures (grokcore.book.figures.p4)
drawn from small trained deep MLPs, the member-time marks of plots, and the ledger page's numbers,
figure and replication report."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from grokcore.book import page, plots  # noqa: E402
from grokcore.book.figures import p4 as figures  # noqa: E402
from grokcore.claims import p4  # noqa: E402
from grokcore.claims.ledger import CLAIMS, ledger  # noqa: E402


@pytest.fixture(autouse=True)
def _no_windows(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()) or plt.close("all"))
    return shown


@pytest.fixture(scope="module")
def runs():
    """Depth runs at one N ({depth: Dataset}) of a tiny deep MLP, trained with saved parameters."""
    from grokcore.core.train import train
    base = p4.deep_mlp(n_train=60, width=8, steps=4, eval_every=2, n_seeds=2, batch_size=20)
    cfgs = {d: cfg for (_, d), cfg in p4.depth_grid(base, [60], [2, 3]).items()}
    return cfgs, {d: train(cfg, "cpu", progress=False) for d, cfg in cfgs.items()}


def test_part_iv_figures_draw_from_the_runs(runs, _no_windows):
    cfgs, ds = runs
    grid = {(60, d): x for d, x in ds.items()}
    table = p4.depth_table(grid)
    figures.accuracy_grid(grid, "digits", 8.0, "caption")
    figures.rise_by_depth(table, grid, 4e-3, 0.05, 4, "digits", 8.0, "caption")
    figures.data_sets({"digits": ds[2], "again": ds[3]}, 2, 4, "settings", "caption")
    figures.token_mlps({(2, False): ds[2], (2, True): ds[3]}, 23, "caption")
    figures.rank_heatmaps(ds, "digits", "caption")
    ranks = {d: p4.final_ranks(x) for d, x in ds.items()}
    figures.tunnel_profiles(ds, ranks, p4.rank_thresholds(8, 64, 0.75, [2, 3]), "digits", "caption")
    figures.probe_lines(p4.probe_table(cfgs, ds), "digits", "caption")
    figures.wd_sweep({60: ds[2]}, [0.05], "digits", "caption")
    figures.norm_curves({60: ds[2], 120: ds[3]}, 4, "digits", "caption")
    assert len(_no_windows) == 9
    assert _no_windows[0]._suptitle.get_text().endswith("\ncaption")


def test_mark_times_draws_each_members_times_where_it_has_them():
    import pandas as pd
    fig, ax = plt.subplots()
    plots.mark_times(ax, pd.DataFrame({"t_train": [100.0, 200.0, np.nan], "t_grok": [900.0, np.nan, np.nan]}))
    styles = [(line.get_xdata()[0], line.get_linestyle()) for line in ax.get_lines()]
    assert styles == [(100.0, "--"), (900.0, ":"), (200.0, "--")]
    plt.close(fig)


def test_ledger_numbers_count_the_verdicts_and_the_claims_not_yet_run(_no_windows, capsys):
    t = ledger("/nonexistent")
    n = page.ledger_numbers(t)
    assert n["n_claims"] == len(CLAIMS) == n["n_not_run"] == n["n_inconclusive"]
    assert n["n_reproduced"] == n["n_partially"] == n["n_not"] == n["n_fragile"] == 0
    assert n["profiles"] == "none" and n["fragile_pct"] == "80%"
    t = t.assign(verdict="reproduced", profile="quick", note="")
    n = page.ledger_numbers(t)
    assert n["n_reproduced"] == len(CLAIMS) and n["n_not_run"] == 0 and n["profiles"] == "quick"
    page.ledger_figure(t)
    assert len(_no_windows) == 1
    page.replication_report("/nonexistent")
    assert "No replication build has been recorded" in capsys.readouterr().out
