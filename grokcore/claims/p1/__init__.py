"""P1 ("A Systematic Empirical Study of Grokking"): the paper's configurations (`configs`), the
verdict rules of its claims registered by claim id (`rules`), the tables they read (`tables`) and
its Fourier analysis of embeddings (`fourier`). The public names are re-exported here, so a
chapter writes `from grokcore.claims import p1` and `p1.depth_configs(...)`, `p1.member_table(...)`.
"""
from . import configs, fourier, rules, tables  # noqa: F401  (importing `rules` registers P1's rules)
from .configs import (ADD_MODELS, CANONICAL_MORE_SEEDS, CANONICAL_SEEDS, KEEP_FINAL, PROTOCOL, REGIMES, activation_configs, arch_configs, arch_transformer,
                      calibration_config, canonical, canonical_parts, reference_configs, depth_configs, is_paper_baseline, mechanism_configs, mlp,
                      regime_b_mlp, residual_mlp, transformer, wd_configs)
from .rules import (ACT_PAPER, ARCH_PAPER, CANONICAL_MIN_SEEDS, CANONICAL_T_GROK, CANONICAL_T_TRAIN, DEPTH_PAPER, FOURIER_PAPER,
                    MUL_PAPER, N_BOOT, NORM_BAND, NORM_PAPER_CV, RATIO_FACTOR, WD_BEST, act_rule, arch_rule,
                    canonical_rule, delay_ratio, depth_rule, fourier_rule, mul_rule, norm_rule, ratio_verdict,
                    seed_range, sgd_regime, wd_rule, PAPER_CLOCK, CLOCK_BAND, SAME_CLOCK, CLOCK_LABELS, PaperClock,
                    clock_row, clock_rows, on_the_papers_clock, same_clock, FOURIER_MIN_GROKKED, NORM_MIN_GROKKED,
                    WD_PAPER_EDGES)
from .tables import (CALIBRATION_COLUMNS, CLOCK_COLUMNS, clock_numbers, clock_table, common_step, PAPER_BASELINE_DELAY, PAPER_ETA_LAMBDA, activation_numbers, arch_numbers,
                     calibration_text, canonical_member, clock_calibration, delay_variance_ratio, depth_numbers,
                     fourier_null, fourier_nulls, fourier_numbers, fourier_table, mechanism_table, member_table,
                     mul_numbers, mul_table, norm_numbers, PAPER_SETTING_PROFILE, reference_numbers, reference_row, reference_table, rms_table, seed_span, share_table, slug,
                     summary,
                     wd_parts, wd_summary, wd_table)
