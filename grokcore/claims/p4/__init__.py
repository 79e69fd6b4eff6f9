"""Part IV (P4, "Deep Grokking", arXiv 2405.19454): its configurations (`configs`), the verdict
rules of its six claims by claim id (`rules`), the tables they read (`tables`), and the
deep-MLP diagnostics behind them: linear probes, tunnels, surges and onsets (`probes`).
The public names are re-exported here: `from grokcore.claims import p4; p4.deep_mlp(...)`."""
from . import probes  # noqa: F401
from .configs import (DATA_NAMES, PAPER_CLOCK, PROBE_ALL, QUICK, TOKEN_MLP, clock, compare_config,  # noqa: F401
                      data_task, deep_mlp, depth_grid, middle_wd, norm_sweep, settings_note, sweep_note,
                      token_mlp, token_mlp_grid, wd_sweep, with_note)
from .probes import STAGES, rank_eval_cost, stage_class  # noqa: F401
from .rules import (EXPECTED_WD, MEMORISE_BY, PAPER_CONVENTION, PAPER_TUNNEL, RISE, RISES, depth_rule, log_gap, memorised,  # noqa: F401
                    memorise_early, multistage_rule, norm_rule, paper_tunnel_n, rank_rule, rise_outcomes, tunnel_rule, wd_rule)
from .tables import (comparison_values, curve_summary, data_set_comparison, depth_onsets, depth_table,  # noqa: F401
                     final_ranks, n_inputs, probe_table, rank_pool, rank_precision, rank_table, rank_thresholds, stage_table,
                     sweep_table, token_mlp_summary, tunnel_note)
