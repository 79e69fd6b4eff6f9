"""Part II (P2, "Grokking Beyond the Euclidean Norm of Model Parameters"): its configurations
(`configs`: the MLP, the linear problems, one builder per chapter), the tables its rules read
(`tables`) and its verdict rules by claim id (`rules`). The names below are re-exported so that
`from grokcore.claims import p2; p2.something` reaches each of them."""
from .configs import (INIT, SELECTIONS, depth_configs, linear_configs, loss_dtype_arm, matrix, mlp,  # noqa: F401
                      modadd_configs, norms_linear_configs, norms_mlp_configs, selection_configs, sparse,
                      wd_control_config)
from .rules import SLOPE_BAND, depth_rule, l1_rule, l2proxy_rule, nuc_rule, scaling_rule, select_rule  # noqa: F401
from .tables import (depth_summary, depth_table, linear_norm_change, linear_penalty_table, linear_table,  # noqa: F401
                     loss_dtype_table, mlp_norm_change, modadd_comparison, modadd_table, norm_change, penalty_table,
                     recoverable_by_n, run_config, selection_instances, selection_summary, selection_table, unrecoverable)
