"""P2's configurations: the MLP of the authors' code (`mlp`), the linear problems (`sparse`,
`matrix`), and one builder per chapter that turns the chapter's parameters into its configs.
The builders reproduce the configs the chapters always ran (same hashes: tests/test_claims_p2.py)."""
from __future__ import annotations

from ...core.config import RunConfig
from ...core.linear_problems import LinearConfig

INIT = 1e-6   # P2's init scale of the linear problems at depth 1 (and of L = 1 in the depth sweep)


def mlp(**kw) -> RunConfig:
    """P2's MLP on (a + b) mod p (the authors' code, `p2mlp`, with their init 'p2': hidden and output
    weights N(0, 1/fan_out)): ReLU, Adam, no weight decay, run to the end (no early exit: the
    norms are read after T_grok)."""
    base = dict(task="add", model="p2mlp", act="relu", optimizer="adam", wd=0.0, early_stop=False, init="p2")
    return RunConfig(**{**base, **kw})


def sparse(**kw) -> LinearConfig:
    """Sparse recovery (compressed sensing) under the l1 penalty, from P2's init scale."""
    return LinearConfig(**{"problem": "sparse", "reg": "l1", "init_scale": INIT, **kw})


def matrix(**kw) -> LinearConfig:
    """Matrix completion (10 x 10, rank 2) under the nuclear-norm penalty, from P2's init scale."""
    return LinearConfig(**{"problem": "matrix", "reg": "nuclear", "init_scale": INIT, **kw})


def every(steps: int, records: int) -> int:
    """The evaluation interval that records a run of `steps` about `records` times."""
    return max(steps // records, 1)


# ------------------------------------------------------------------------------ chapters
def linear_configs(n, s, N, scaling, lrs, betas, tol, steps, eval_every, seeds, matrix_N, matrix_lr,
                   matrix_betas, matrix_steps, l2_beta, matrix_seeds=None) -> dict:
    """p2_linear's penalised runs: sparse recovery over the (lr, beta) grid, matrix completion over
    its betas (W* scaled to ||W*||_F = sqrt(n1 n2), as the authors'; `matrix_seeds` instances, by
    default `seeds`), and the l2-penalised control (one lr, at most 5,000 steps)."""
    sp = sparse(n=n, s=s, N=N, lr=tuple(lrs), beta=tuple(betas), scaling=scaling, steps=steps, tol=tol,
                seeds=seeds, eval_every=eval_every, early_stop=False)
    mc = matrix(N=matrix_N, lr=matrix_lr, beta=tuple(matrix_betas), steps=matrix_steps, tol=tol,
                seeds=seeds if matrix_seeds is None else matrix_seeds,
                eval_every=every(matrix_steps, 400), early_stop=False, normalize=True)
    return {"sparse_recovery": sp, "matrix_completion": mc,
            "l2_only": sp.replace(reg="l2", beta=l2_beta, lr=lrs[0], steps=min(steps, 5000))}


DEPTH_1_STEPS = 20_000   # L = 1 fits by ~100 steps, then never moves: a shorter budget


def depth_configs(depths, n, s, depth_N, scaling, depth_lr, depth_init, tol, depth_steps, deep_steps, seeds) -> list:
    """p2_linear's depth sweep: beta = 0, a = A_1 * ... * A_L; one config per depth over the N grid.
    L = 1 and 2 train for `depth_steps` (L = 1 at most DEPTH_1_STEPS), L > 2 for `deep_steps`: from
    its small start L = 3 memorises only after 4e5 to 9e6 steps here."""
    def budget(d):
        return min(depth_steps, DEPTH_1_STEPS) if d == 1 else depth_steps if d == 2 else deep_steps

    return [sparse(reg="none", beta=0.0, n=n, s=s, N=tuple(depth_N), depth=d, scaling=scaling, lr=depth_lr,
                   init_scale=INIT if d == 1 else depth_init, tol=tol, steps=budget(d), seeds=seeds,
                   eval_every=every(depth_steps if d <= 2 else deep_steps, 200)) for d in depths]


def norms_mlp_configs(p, frac, width, lrs, l1, nuclear, l2, batch_size, loss_dtype, steps, eval_every,
                      seeds) -> dict:
    """p2_norms's MLP: one ensemble per penalty kind ('l1', 'nuclear', 'l2'; an empty grid is not
    run); beta = 0 is the unregularised control inside the l1 ensemble."""
    base = mlp(p=p, frac=frac, width=width, lr=tuple(lrs), batch_size=batch_size, loss_dtype=loss_dtype,
               steps=steps, eval_every=eval_every, seeds=seeds)
    cfgs = {"l1": base.replace(l1=(0.0, *l1))}
    if nuclear:
        cfgs["nuclear"] = base.replace(nuclear=tuple(nuclear))
    if l2:
        cfgs["l2"] = base.replace(l2=tuple(l2))
    return cfgs


def loss_dtype_arm(cfgs: dict):
    """p2_norms's float32-loss arm: the l1 ensemble of `norms_mlp_configs` (its beta = 0 control
    included) with the loss in float32, the authors' precision, beside the chapter's `loss_dtype`;
    None when the chapter's loss is float32 already."""
    l1 = cfgs["l1"]
    return None if l1.loss_dtype == "float32" else l1.replace(loss_dtype="float32")


def wd_control_config(cfgs: dict, wd):
    """P2-l2proxy's weight-decay control for the MLP: the l1 ensemble of `norms_mlp_configs` with
    no l1 and decoupled weight decay `wd` (AdamW; a list), where the weight-norm story's fall of
    l2 should show. This book's addition, as the beta = 0 control; None when `wd` is empty."""
    return cfgs["l1"].replace(optimizer="adamw", wd=tuple(wd), l1=(0.0,)) if len(wd) else None


CONTROL_MATRIX_STEPS = 5000   # without a penalty the unobserved entries never move: a short control


def norms_linear_configs(lin_lr, lin_beta, lin_tol, lin_steps, lin_seeds, mat_N, mat_lr, mat_betas, mat_tol,
                         mat_steps) -> tuple[dict, dict]:
    """p2_norms's linear arms, each penalty against its control ('none': the same instances, no penalty):
    sparse recovery under l1 and matrix completion under the nuclear norm (W* at the authors' scale,
    ||W*||_F = sqrt(n1 n2), as in p2_linear and p2_selection)."""
    lin = sparse(lr=lin_lr, beta=lin_beta, tol=lin_tol, steps=lin_steps, seeds=lin_seeds,
                 eval_every=every(lin_steps, 200), early_stop=False)
    mat = matrix(N=mat_N, lr=mat_lr, beta=tuple(mat_betas), steps=mat_steps, tol=mat_tol, seeds=lin_seeds,
                 eval_every=every(mat_steps, 400), early_stop=False, normalize=True)
    return ({"l1": lin, "none": lin.replace(reg="none", beta=0.0)},
            {"nuclear": mat, "none": mat.replace(reg="none", beta=0.0, steps=min(mat_steps, CONTROL_MATRIX_STEPS))})


def selection_configs(taus, matrix_N, matrix_lr, matrix_beta, cs_N, cs_lr, cs_beta, tol, steps, seeds) -> dict:
    """p2_selection's linear problems over the share tau of coherent samples, run to the budget (the
    authors' plateau times read the last records); W* scaled to ||W*||_F = sqrt(n1 n2) as the authors'."""
    common = dict(tau=tuple(taus), tol=tol, steps=steps, seeds=seeds, eval_every=every(steps, 100), early_stop=False)
    return {"matrix_completion": matrix(N=tuple(matrix_N), lr=matrix_lr, beta=matrix_beta, normalize=True, **common),
            "compressed_sensing": sparse(N=cs_N, lr=cs_lr, beta=cs_beta, **common)}


SELECTIONS = ("random", "diagonal")


def modadd_configs(mod_p, mod_k, mod_lr, mod_steps, mod_seeds) -> dict:
    """p2_selection's modular-addition arm: the introduction's reference MLP (concatenated 128-d
    embeddings, one ReLU layer of 128, AdamW wd 1) trained on `mod_k` whole diagonals of the
    addition table against a random set of the same size."""
    base = RunConfig(task="add", p=mod_p, frac=mod_k / mod_p, model="mlp", embed=128, width=128, depth=1,
                     combine="concat", act="relu", optimizer="adamw", lr=mod_lr, wd=1.0, betas=(0.9, 0.98),
                     steps=mod_steps, eval_every=50, seeds=mod_seeds)
    return {s: base.replace(select=s) for s in SELECTIONS}
