"""The `grok` command. `grok train` trains one configuration (a comma-separated value sweeps
it); the book's subcommands (run, book, chapters, status) come from `cli.book` and
`cli.status`. Names in the help are read from the library's registries."""
from __future__ import annotations

import itertools
import json
import sys

from ..core.config import MEMBER_FIELDS, ConfigError, RunConfig
from ..core.layers import ACTIVATIONS
from ..core.models import MODELS
from ..core.optim import OPTIMIZERS
from ..core.tasks import IMAGE_TASKS, TASKS
from . import book as book_cmds
from . import plan as plan_cmds
from . import status as status_cmds
from .common import Parser, csv_of, fail, parse_seeds, str_list


def _names(registry) -> str:
    return ", ".join(registry)


# flag -> (RunConfig field, parser, help)
TRAIN_FLAGS = {
    "task": (str_list, f"modular task ({_names(TASKS)}) or image set ({_names(IMAGE_TASKS)})"),
    "p": (csv_of(int), "modulus p (prime for div)"),
    "frac": (csv_of(float), "train fraction of all valid pairs, in (0, 1)"),
    "split": (str_list, "'shared': one split for all members; 'per_seed': each seed its own split"),
    "select": (str_list, "which pairs train: 'random', or 'diagonal' (k = round(frac*p) whole diagonals (a, a+d))"),
    "split_seed": (csv_of(int), "seed of the shared split"),
    "n_train": (csv_of(int), "image tasks: first N training examples (0 = all)"),
    "data_dir": (str_list, "image tasks: folder of MNIST IDX files"),
    "model": (str_list, _names(MODELS)),
    "depth": (csv_of(int), "MLP hidden layers / transformer blocks / LSTM layers / deepmlp Linear layers"),
    "width": (csv_of(int), "MLP width, transformer d_model, LSTM hidden size"),
    "embed": (csv_of(int), "token embedding width"),
    "combine": (str_list, "MLP input: sum or concat of embeddings, or onehot"),
    "act": (str_list, f"activation: {_names(ACTIVATIONS)}"),
    "residual": (csv_of(int), "1: MLP with pre-LayerNorm residual blocks"),
    "res_scale": (csv_of(float), "residual branch scale"),
    "heads": (csv_of(int), "transformer heads"),
    "d_mlp": (csv_of(int), "transformer FFN width"),
    "norm": (str_list, "transformer norm: pre or none"),
    "readout": (str_list, "transformer input: last ([a,b,=], last position) or mean ([a,b] pooled)"),
    "init": (str_list, "transformer init: torch (nn.Linear defaults) or gpt2 (TransformerLens: N(0, 0.64/d_model), zero biases)"),
    "optimizer": (str_list, f"{_names(OPTIMIZERS)} (sgd: momentum, coupled weight decay)"),
    "lr": (csv_of(float), "learning rate (a list sweeps it inside one ensemble)"),
    "wd": (csv_of(float), "weight decay (a list sweeps it inside one ensemble)"),
    "l1": (csv_of(float), "l1 penalty coefficient over weight matrices"),
    "l2": (csv_of(float), "unsquared l2 (Frobenius) penalty coefficient"),
    "nuclear": (csv_of(float), "nuclear-norm penalty coefficient"),
    "init_scale": (csv_of(float), "multiply every parameter at init by this"),
    "momentum": (csv_of(float), "SGD momentum"),
    "warmup": (csv_of(int), "linear warmup steps"),
    "clip": (csv_of(float), "per-member gradient-norm clip (0 = off)"),
    "batch_size": (csv_of(int), "minibatch size (0 = full batch)"),
    "loss": (str_list, "ce or mse (on one-hot targets)"),
    "dtype": (str_list, "parameter dtype: float32 or float64"),
    "loss_dtype": (str_list, "dtype the loss is computed in"),
    "steps": (csv_of(int), "optimizer steps (budget)"),
    "eval_every": (csv_of(int), "evaluate every k steps (plus log-spaced early steps)"),
}


def add_train(sub):
    p = sub.add_parser("train", help="train one configuration as a batched ensemble",
                       description="Train one configuration (all seeds and list-valued lr/wd/l1/l2/"
                       "nuclear/init_scale as one ensemble) and print a row per member. A "
                       "comma-separated value of any other flag runs one ensemble per value.")
    defaults = RunConfig()
    for name, (parse, text) in TRAIN_FLAGS.items():
        default = getattr(defaults, name)
        if isinstance(default, tuple):
            default = default[0]
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=parse, default=None,
                       help=f"{text} (default: {default})")
    p.add_argument("--betas", type=csv_of(float), default=None, help="Adam betas, e.g. 0.9,0.98 (default: 0.9,0.999)")
    p.add_argument("--seeds", type=parse_seeds, default=(0,),
                   help="8 = seeds 0-7; 1,4 = exactly those; 2-4 = inclusive range (default: 1 seed, 0)")
    p.add_argument("--no-early-stop", action="store_true", help="train the full budget even after every member groks")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda (default: auto)")
    p.add_argument("--out", default=None, help="results folder (default: $GROK_RESULTS or ./results)")
    p.add_argument("--force", action="store_true", help="retrain even if the results file exists")
    p.add_argument("--json", action="store_true", help="print JSON (rows plus model_steps_per_s) instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def configs_from_args(args) -> list[RunConfig]:
    fixed, sweeps = {"seeds": args.seeds, "early_stop": not args.no_early_stop}, {}
    if args.betas is not None:
        if len(args.betas) != 2:
            fail(f"--betas needs two values, got {len(args.betas)}")
        fixed["betas"] = tuple(args.betas)
    for name in TRAIN_FLAGS:
        v = getattr(args, name)
        if v is None:
            continue
        if name in MEMBER_FIELDS:
            fixed[name] = tuple(v)
        elif len(v) == 1:
            fixed[name] = v[0]
        else:
            sweeps[name] = v
    keys = list(sweeps)
    out = []
    for combo in itertools.product(*(sweeps[k] for k in keys)):
        d = {**fixed, **dict(zip(keys, combo))}
        if "residual" in d:
            d["residual"] = bool(d["residual"])
        out.append(RunConfig(**d))
    return out


def cmd_train(args):
    from ..core.config import validate
    from ..core.train import resolve_device
    from ..results import run, store
    from ..results.tables import members_table

    cfgs = configs_from_args(args)
    try:
        for c in cfgs:
            validate(c)
        resolve_device(args.device)
        store.check_writable(args.out)
    except (ConfigError, ValueError, store.StoreError) as e:
        fail(str(e))
    rows, speeds = [], []
    for c in cfgs:
        ds = run(c, root=args.out, device=args.device, progress=not args.quiet, force=args.force)
        df = members_table(ds)
        if len(cfgs) > 1:
            for k in ("task", "p", "frac", "model", "depth", "width", "act"):
                df.insert(0, k, getattr(c, k))
        rows.append(df)
        speeds.append(float(ds.attrs["model_steps_per_s"]))
    import pandas as pd
    table = pd.concat(rows, ignore_index=True)
    if args.json:
        print(json.dumps({"rows": json.loads(table.to_json(orient="records")),
                          "model_steps_per_s": speeds[0] if len(speeds) == 1 else speeds}, indent=1))
    else:
        show = [c for c in table.columns if c not in ("l1", "l2", "nuclear", "init_scale", "split_seed", "config_hash")
                or table[c].nunique() > 1]
        print(table[show].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"model-steps/s: {', '.join(f'{s:.1f}' for s in speeds)}; results in {store.results_dir(args.out)}")


def main(argv=None):
    parser = Parser(prog="grok", description="Reproducible grokking experiments (grokcore).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_train(sub)
    book_cmds.register(sub)
    status_cmds.register(sub)
    plan_cmds.register(sub)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
