"""Part III (P3, "Exploring Grokking", arXiv 2412.10898): its configurations (`configs`: the
paper's three models, its eight optimizer variants batched into few ensembles, one builder per
chapter), the tables its rules read (`tables`) and its verdict rules by claim id (`rules`). The
names below are re-exported so that `from grokcore.claims import p3; p3.something` reaches them."""
from .configs import (architecture_configs, clock, fraction_configs, lstm, mlp, optimizer_base,  # noqa: F401
                      optimizer_configs, optimizer_sweep, reference_config, seeds_of, transformer, variant_name,
                      variant_names)
from .rules import arch_rule, fmt_steps, fraction_rule, optimizer_rule  # noqa: F401
from .tables import (architecture_summary, architecture_table, censored_median, delay_ratio,  # noqa: F401
                     fraction_summary, fraction_table, members_with_best, optimizer_scores, optimizer_summary,
                     optimizer_table, run_facts, test_at_train, train_acc_gain,
                     train_pairs)
