"""Checks of a chapter's parameter values, run by `grok run` and `grok book` before any kernel
starts: a value of the right type that no run could use (0 steps, no seed, a fraction of 1.5, a
negative penalty, an unknown activation) is refused with one line naming the chapter, the
parameter, the value and what is allowed.

The rules are a table by parameter name (`RULES`), with `CHAPTER_RULES` where a chapter's name
means something else (P2's linear problems: `betas` are penalty strengths, `seeds` instances).
Where the trainer has a check for the same quantity the rule reuses it: it builds a `RunConfig`
(or P2's `LinearConfig`) with that one value and runs the config's own `validate`. `JOINT` holds
the few checks that need two values at once. Every parameter of every chapter has a rule or is
listed in `FREE` with the reason (tests/test_validate.py checks that).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .chapters import BookError, Chapter


@dataclass(frozen=True)
class Rule:
    allowed: str                    # what a valid value is, as the error says it
    check: Callable[[object], None]  # raises ValueError for a bad value (its text is the detail)
    empty: bool = False             # a list-valued parameter may be an empty list


def _number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        raise ValueError(f"not a number: {v!r}")
    return v


def _where(ok: Callable[[object], bool]):
    def check(v):
        if not ok(v):
            raise ValueError("")
    return check


def _integer(lo: int):
    return _where(lambda v: isinstance(_number(v), int) and v >= lo)


def _between(lo, hi, closed_hi=False):
    return _where(lambda v: lo < _number(v) < hi or (closed_hi and v == hi))


def _trainer(name: str, **base):
    """The trainer's own check of RunConfig field `name` (core.config.validate)."""
    def check(v):
        from ..core.config import RunConfig, validate
        validate(RunConfig(**{**base, name: v}))
    return check


def _linear(name: str, **base):
    """The check of P2's linear problems for LinearConfig field `name` (core.linear_problems.validate)."""
    def check(v):
        from ..core.linear_problems import LinearConfig, validate
        validate(LinearConfig(**{**base, name: v}))
    return check


def _prime(v):
    from ..core.tasks import is_prime
    if not (isinstance(_number(v), int) and v >= 3 and is_prime(v)):
        raise ValueError("")


def _device(v):
    if v == "auto":
        return
    import torch
    try:
        kind = torch.device(v).type
    except RuntimeError:
        kind = None
    if kind not in ("cpu", "cuda"):  # whether CUDA is there is for the machine that runs the jobs
        raise ValueError("")


def _data_set(empty_ok: bool):
    def check(v):
        from ..claims.p4 import data_task
        if not (empty_ok and v == ""):
            data_task(v)
    return check


def _folder(v):
    from pathlib import Path
    if v and not Path(v).is_dir():
        raise ValueError(f"no folder {v}")


def _table(*groups) -> dict:
    out = {}
    for names, rule in groups:
        out.update(dict.fromkeys(names.split(), rule))
    return out


STEPS = Rule("a step budget >= 1", _trainer("steps"))
PRIME = Rule("a prime >= 3 (the modulus)", _prime)
FRAC = Rule("a training fraction in (0, 1)", _trainer("frac"))
SEEDS = Rule("a number of seeds >= 1", _trainer("seeds"))
LR = Rule("a learning rate > 0", _between(0, float("inf")))
WD = Rule("a weight decay >= 0", _trainer("wd"))
WIDTH = Rule("a width >= 1", _trainer("width"))
TF_WIDTH = Rule("a d_model >= 1 divisible by the 4 heads", _trainer("width", model="transformer"))
PENALTY = Rule("a penalty strength >= 0", _linear("beta"))
TOL = Rule("a relative-error tolerance in (0, 1)", _linear("tol"))

RULES: dict[str, Rule] = _table(
    ("steps steps_a steps_b mlp_steps tf_steps lstm_steps mod_steps matrix_steps depth_steps deep_steps "
     "lin_steps mat_steps paper_steps", STEPS),
    ("eval_every", Rule("an evaluation interval >= 1 step", _trainer("eval_every"))),
    ("seeds n_seeds mul_seeds mod_seeds lin_seeds matrix_seeds", SEEDS),
    ("ref_seeds", Rule("a number of seeds >= 0 (0: the reference run is skipped)", _integer(0))),
    ("p ref_p lstm_p mod_p", PRIME),
    ("frac fracs ref_frac lstm_frac", FRAC),
    ("lr lrs lr_a lr_b tf_lr mlp_lr calib_lr matrix_lr depth_lr cs_lr lin_lr mat_lr mod_lr", LR),
    ("wd wd_a wd_b tf_wd mlp_wd wds mlp_wds lstm_wds wd_grid", WD),
    ("wd_control", Rule("a weight decay >= 0", _trainer("wd"), empty=True)),   # [] skips the control
    ("l1", Rule("an l1 penalty strength >= 0", _trainer("l1"))),
    ("l2", Rule("an l2 penalty strength >= 0", _trainer("l2"), empty=True)),   # [] skips l2
    ("nuclear", Rule("a nuclear-norm penalty strength >= 0", _trainer("nuclear"), empty=True)),
    ("width width_a width_b width_res mlp_width mod_width", WIDTH),
    ("tf_width", TF_WIDTH),
    ("d_mlp tf_d_mlp", Rule("an FFN width >= 1", _trainer("d_mlp"))),
    ("depths mod_depths wd_depth", Rule("a depth >= 1", _trainer("depth"))),
    ("acts", Rule("an activation of grokcore.core.layers.ACTIVATIONS", _trainer("act"))),
    ("optimizer mlp_optimizer", Rule("an optimizer of grokcore.core.optim.OPTIMIZERS",
                                                _trainer("optimizer"))),
    ("batch_size", Rule("a batch size >= 0 (0: full batch)", _trainer("batch_size"))),
    ("dtype", Rule("float32 or float64", _trainer("dtype"))),
    ("loss_dtype", Rule("float32 or float64", _trainer("loss_dtype"))),
    ("init_scale", Rule("an init scale > 0", _between(0, float("inf")))),
    ("depth_init", Rule("an init scale > 0", _linear("init_scale"))),
    ("update_noise", Rule("a noise std >= 0", _trainer("update_noise"))),
    ("weight_noise", Rule("a noise std >= 0", _trainer("weight_noise"))),
    ("device", Rule("auto, cpu, cuda or cuda:N", _device)),
    ("dataset", Rule("a data set of grokcore.claims.p4.DATA_NAMES", _data_set(False))),
    ("compare", Rule("a data set of grokcore.claims.p4.DATA_NAMES, or '' to skip", _data_set(True))),
    ("data_dir", Rule("'' or an existing folder with MNIST's IDX files", _folder)),
    ("n_train n_trains wd_n_trains norm_n_trains", Rule("a training-set size >= 1", _integer(1))),
    ("probe_size", Rule("a number of test examples >= 1", _integer(1))),
    ("rank_fraction", Rule("a fraction in (0, 1]", _between(0, 1, closed_hi=True))),
    ("top", Rule("a number of frequencies >= 1", _integer(1))),
    ("t_train_max", Rule("a step count > 0", _between(0, float("inf")))),
    ("margin", Rule("an accuracy margin in [0, 1)", _where(lambda v: 0 <= _number(v) < 1))),
    # P2's linear problems (sparse recovery, matrix completion)
    ("tol lin_tol mat_tol", TOL),
    ("l2_beta lin_beta matrix_beta cs_beta matrix_betas mat_betas", PENALTY),
    ("n", Rule("a signal dimension >= 1", _integer(1))),
    ("s", Rule("a number of non-zeros >= 1", _integer(1))),
    ("N cs_N depth_N", Rule("a number of measurements in 1..n", _linear("N", problem="sparse"))),
    ("depth_at_N", Rule("a number of measurements >= 1", _integer(1))),
    ("matrix_N mat_N", Rule("a number of observed entries in 1..100 (10 x 10)",
                                       _linear("N", problem="matrix"))),
    ("scaling", Rule("a scaling of grokcore.core.linear_problems.SCALINGS", _linear("scaling"))),
    ("taus", Rule("a share of coherent samples in [0, 1]", _linear("tau"))),
    ("mod_k", Rule("a number of diagonals >= 1", _integer(1))),
)

# Where a chapter's name means something else than in RULES.
CHAPTER_RULES: dict[str, dict[str, Rule]] = {
    "p2_linear": {"betas": Rule("an l1 penalty strength >= 0", _linear("beta")),
                  "depths": Rule("a number of factors >= 1", _linear("depth"))},
    "p3_fraction": {"ref_steps": Rule("a step budget >= 0 (0: the reference run is skipped)", _integer(0)),
                    "width": TF_WIDTH},
    "p3_architectures": {"width": TF_WIDTH},   # the transformer's; the MLP's is mlp_width
    "p3_optimizers": {"width": TF_WIDTH},
}

# Parameters any value of the right type is good for, and why.
FREE = {
    "profile": "set by --profile, which is checked on its own",
    "canonical_train": "a switch: both True and False run",
}


def _joint_sparse(v):
    from ..core.linear_problems import LinearConfig, validate
    if v["s"] > v["n"]:
        raise ValueError(f"s={v['s']} non-zeros do not fit in n={v['n']}")
    validate(LinearConfig(problem="sparse", n=v["n"], s=v["s"], N=(v["N"], *v["depth_N"])))
    if v["depth_at_N"] not in v["depth_N"]:
        raise ValueError(f"depth_at_N={v['depth_at_N']} is not one of depth_N={v['depth_N']}")


def _joint_diagonals(v):
    from ..core.config import RunConfig, validate
    validate(RunConfig(p=v["mod_p"], frac=v["mod_k"] / v["mod_p"], select="diagonal"))


def _joint_pool(sizes: str):
    def check(v):
        from ..claims.p4 import data_task
        from ..core.images import TRAIN_POOL
        task = data_task(v["dataset"], v["data_dir"])[0]
        too_big = [n for n in _sizes(v, sizes) if n > TRAIN_POOL[task]]
        if too_big:
            raise ValueError(f"{too_big[0]} training examples asked of {task}, which has {TRAIN_POOL[task]}")
    return check


def _sizes(v: dict, names: str) -> list:
    out = []
    for name in names.split():
        out += v[name] if isinstance(v[name], list) else [v[name]]
    return out


JOINT = {
    "p2_linear": [("n s N depth_N depth_at_N", _joint_sparse)],
    "p2_selection": [("mod_p mod_k", _joint_diagonals)],
    "p4_deep": [("dataset data_dir n_trains", _joint_pool("n_trains"))],
    "p4_rank": [("dataset data_dir n_train wd_n_trains norm_n_trains",
                 _joint_pool("n_train wd_n_trains norm_n_trains"))],
}


def rule_for(chapter: str, name: str) -> Rule | None:
    return CHAPTER_RULES.get(chapter, {}).get(name) or RULES.get(name)


def _bad(ch: Chapter, name: str, value, rule: Rule, detail: str) -> BookError:
    many = isinstance(value, (list, tuple))
    allowed = (f"a {'' if rule.empty else 'non-empty '}list, each {rule.allowed}" if many else rule.allowed)
    return BookError(f"chapter {ch.name}: bad value {value!r} for parameter {name}"
                     f"{f' ({detail})' if detail else ''}; allowed: {allowed}")


def check(ch: Chapter, params: dict) -> None:
    """Raise BookError (one line) for the first parameter value of `ch` that no run could use.
    `params` are the composed overrides (`chapters.compose`); the notebook's defaults fill in
    the rest. A name without a rule (nor in FREE) is a new parameter: tests/test_validate.py
    fails until it gets one."""
    values = {**ch.params, **params}
    for name, value in values.items():
        rule = rule_for(ch.name, name)
        if rule is None:
            continue
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items and not rule.empty:
            raise _bad(ch, name, value, rule, "empty")
        for v in items:
            try:
                rule.check(v)
            except (ValueError, TypeError) as e:
                detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
                raise _bad(ch, name, value, rule, detail) from None
    for names, joint in JOINT.get(ch.name, []):
        try:
            joint(values)
        except (ValueError, TypeError, KeyError) as e:
            shown = ", ".join(f"{k}={values.get(k)!r}" for k in names.split())
            raise BookError(f"chapter {ch.name}: bad values {shown} together ({e})") from None
