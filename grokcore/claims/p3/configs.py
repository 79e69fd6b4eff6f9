"""P3's configurations: the paper's three models (`transformer`, `mlp`, `lstm`), its eight
optimizer variants batched into few ensembles, and one builder per chapter that turns the
chapter's parameters into its configs (same hashes as the chapters always ran:
tests/test_claims_p3.py)."""
from __future__ import annotations

from ...core.config import RunConfig


def transformer(**kw) -> RunConfig:
    """P3's "simplified encoding" transformer: 1 block, d_model 128, 4 heads, d_mlp 512, ReLU,
    no LayerNorm, [a, b, =] read out at the last position; AdamW lr 1e-3, wd 1, betas
    (0.9, 0.98), full batch, loss in float64, (a+b) mod 97. P3 ran the TransformerLens demo, so
    the init is TransformerLens's: every weight N(0, (0.8/sqrt(d_model))^2), biases 0."""
    base = dict(task="add", p=97, model="transformer", depth=1, width=128, heads=4, d_mlp=512, act="relu",
                norm="none", readout="last", init="gpt2", optimizer="adamw", lr=1e-3, wd=1.0,
                betas=(0.9, 0.98), loss_dtype="float64", batch_size=0)
    return RunConfig(**{**base, **kw})


def mlp(**kw) -> RunConfig:
    """P3's MLP: two hidden ReLU layers of width 512 on concatenated 128-d embeddings of a and b
    (the embedding is our choice); Adam lr 1e-3, no weight decay, same betas and loss dtype."""
    base = dict(transformer().to_dict(), model="mlp", depth=2, width=512, embed=128, combine="concat",
                init="torch", optimizer="adam", wd=0.0)
    return RunConfig(**{**base, **kw})


def lstm(**kw) -> RunConfig:
    """P3's LSTM: one layer, hidden 20, over [a, b] with 20-d embeddings (our choice); Adam lr 1e-2."""
    base = dict(transformer().to_dict(), model="lstm", depth=1, width=20, embed=20, init="torch",
                optimizer="adam", lr=1e-2, wd=0.0)
    return RunConfig(**{**base, **kw})


# ----------------------------------------------------------------------------- optimizers
def optimizer_base(**kw) -> RunConfig:
    """The base of P3's optimizer comparison: the transformer with Adam (AdamW at wd 0 is the
    same update), betas (0.9, 0.98), a 10-step linear warmup, full batch, 1,800 updates."""
    return transformer(**{"optimizer": "adamw", "wd": 0.0, "warmup": 10, "steps": 1800, **kw})


def optimizer_configs(base: RunConfig, update_noise: float = 1e-3, weight_noise: float = 0.01,
                      batch_size: int = 128) -> list[RunConfig]:
    """The eight variants as five ensembles (variants that differ only in lr or wd share one):
    Adam at three lrs; Adam + gradient noise; Adam + weight noise; Adam and AdamW (wd 1) with
    minibatches; AdamW wd 1 full batch. Name the members with `variant_names`."""
    return [base.replace(lr=(3e-4, 1e-3, 3e-3), wd=0.0),
            base.replace(lr=1e-3, wd=0.0, update_noise=update_noise),
            base.replace(lr=1e-3, wd=0.0, weight_noise=weight_noise),
            base.replace(lr=1e-3, wd=(0.0, 1.0), batch_size=batch_size),
            base.replace(lr=1e-3, wd=1.0)]


def variant_name(cfg: RunConfig, member: dict) -> str:
    """The paper's name of the optimizer variant a member of `cfg` trains with."""
    kind = f"AdamW wd {member['wd']:g}" if member["wd"] > 0 else "Adam"
    if cfg.batch_size:
        return f"{kind} minibatch {cfg.batch_size}"
    if cfg.update_noise:
        return f"{kind} + update noise {cfg.update_noise:g}"
    if cfg.weight_noise:
        return f"{kind} + weight noise {cfg.weight_noise:g}"
    return kind if member["wd"] > 0 else f"Adam lr {member['lr']:g}"


def variant_names(cfg: RunConfig) -> list[str]:
    """One name per member of `cfg`, in member order (the order of `members_table` rows)."""
    return [variant_name(cfg, m) for m in cfg.members()]


def clock(cfg: RunConfig) -> float:
    """eta * lambda * T of `cfg` (its largest lr and weight decay, and its budget): the quantity a
    proxy keeps when it rescales time (the slow phase after memorisation scales as 1/(eta*lambda))."""
    def top(v):
        return max(v) if isinstance(v, (tuple, list)) else v
    return float(top(cfg.lr)) * float(top(cfg.wd)) * cfg.steps


# ----------------------------------------------------------------------------- chapters
def seeds_of(n_seeds: int) -> tuple:
    """P3's chapters give every seed its own split and init: seeds 0 .. n_seeds - 1 (split per seed)."""
    return tuple(range(n_seeds))


def fraction_configs(p, width, d_mlp, lr, steps, eval_every, n_seeds, fracs) -> dict:
    """p3_fraction's sweep: the transformer at every training fraction, by name `frac_<alpha>`. A
    member that grokked leaves its ensemble once it has run its stop_margin window (`retire`): the
    chapter reads only grokking times and accuracies up to then, so the rest train faster."""
    base = transformer(p=p, width=width, d_mlp=d_mlp, lr=lr, steps=steps, eval_every=eval_every, split="per_seed",
                       seeds=seeds_of(n_seeds), retire="grokked")
    return {f"frac_{a:g}": base.replace(frac=a) for a in fracs}


def reference_config(ref_p, ref_frac, ref_steps, eval_every, ref_seeds) -> RunConfig:
    """The TransformerLens/Nanda reference setting: the full-size transformer on (a + b) mod `ref_p`."""
    return transformer(p=ref_p, frac=ref_frac, steps=ref_steps, eval_every=min(eval_every, ref_steps),
                       split="per_seed", seeds=seeds_of(ref_seeds))


def architecture_configs(p, frac, steps, eval_every, n_seeds, wds, width, tf_lr, mlp_width, mlp_wds, lstm_p,
                         lstm_frac, lstm_wds, lstm_steps) -> dict:
    """p3_architectures: the transformer, MLP and LSTM (keys as the chapter names them), each over its
    weight decays (AdamW; wd 0 is Adam); the LSTM at its own modulus, fraction and budget."""
    common = dict(p=p, frac=frac, steps=steps, eval_every=eval_every, split="per_seed", seeds=seeds_of(n_seeds),
                  optimizer="adamw", wd=tuple(wds))
    return {"transformer": transformer(width=width, d_mlp=4 * width, **common, lr=tf_lr),
            "MLP": mlp(width=mlp_width, **{**common, "wd": tuple(mlp_wds)}),
            "LSTM": lstm(**{**common, "p": lstm_p, "frac": lstm_frac, "wd": tuple(lstm_wds), "steps": lstm_steps})}


def optimizer_sweep(p, width, d_mlp, steps, eval_every, n_seeds, fracs, update_noise, weight_noise,
                    batch_size) -> list[tuple[float, RunConfig]]:
    """p3_optimizers: (alpha, config) for the five ensembles of `optimizer_configs` at every alpha."""
    base = optimizer_base(p=p, width=width, d_mlp=d_mlp, steps=steps, eval_every=eval_every, split="per_seed",
                          seeds=seeds_of(n_seeds))
    return [(a, c) for a in fracs for c in optimizer_configs(base.replace(frac=a), update_noise, weight_noise, batch_size)]
