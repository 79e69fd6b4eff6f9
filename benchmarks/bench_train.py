"""Model-steps per second: grokcore's batched ensemble vs a plain per-model PyTorch loop.

Both train the same configs and seeds for the same number of steps (full batch, or P4's
minibatches of 200), evaluating every k steps, alternating plain/grokcore `--repeats` times;
the medians and their ratio are printed. Four families: the reference MLP (p = 97), P1's SGD MLP
at width 64 (depth 4, GELU, p = 59), P3's transformer and P4's deep MLP (depth 12, batch 200). E plain models are trained one after another (as public code does), so the plain
rate is E * steps / time. On CUDA it also prints nominal FLOP/s and the fraction of FP32 peak.

    python benchmarks/bench_train.py                    # CPU: reference MLP, E = 1, 8
    python benchmarks/bench_train.py --models mlp,p1_sgd,transformer,p4_deep --sizes 8
    python benchmarks/bench_train.py --models p1_sgd --sizes 8 --threads 1   # as the book runs a chapter
    python benchmarks/bench_train.py --device cuda --sizes 1,8,64,256 --models mlp,transformer
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from plain import PlainDeepMLP, PlainMLP, PlainSumMLP, PlainTransformer, train_plain  # noqa: E402

import grokcore as gc  # noqa: E402
from grokcore.core.tasks import make_data  # noqa: E402

CONFIGS = {  # the foundation issue's reference MLP, P1's SGD MLP (p1_activation's regime B), P3's
    # transformer, P4's deep MLP (p4_deep's deepest)
    "mlp": dict(model="mlp", p=97, frac=0.5, embed=128, width=128, depth=1, combine="concat", act="relu",
                optimizer="adamw", lr=1e-3, wd=1.0, betas=(0.9, 0.98)),
    "p1_sgd": dict(model="mlp", p=59, frac=0.4, embed=64, width=64, depth=4, combine="sum", act="gelu",
                   optimizer="sgd", momentum=0.9, lr=0.4, wd=5e-4),
    "transformer": dict(model="transformer", p=97, frac=0.5, depth=1, width=128, heads=4, d_mlp=512, act="relu",
                        norm="none", readout="last", optimizer="adamw", lr=1e-3, wd=1.0, betas=(0.9, 0.98)),
    "p4_deep": dict(model="deepmlp", task="digits", n_train=400, depth=12, width=128, act="relu", init_scale=8.0,
                    loss="mse", batch_size=200, optimizer="adamw", lr=4e-3, wd=0.05),
}
FP32_PEAK = {"H100": 67e12, "H200": 67e12, "A100": 19.5e12}  # dense FP32 (non-tensor-core) FLOP/s


def nominal_flops(name, cfg, n_train):
    """Training FLOPs of one model-step: 6 x MACs per example x examples (fwd + bwd)."""
    c = CONFIGS[name]
    if name == "mlp":
        macs = 2 * c["embed"] * c["width"] + c["width"] * c["p"]
    elif name == "p1_sgd":
        macs = c["depth"] * c["width"] ** 2 + c["width"] * c["p"]
    elif name == "p4_deep":
        macs = (64 + (c["depth"] - 2) * c["width"] + 10) * c["width"]
        n_train = c["batch_size"]
    else:
        d, T = c["width"], 3
        macs = T * (4 * d * d + 2 * d * c["d_mlp"]) + 2 * T * T * d + d * c["p"]
    return 6 * macs * n_train


def run_grokcore(cfg, device):
    t = time.perf_counter()
    gc.train(cfg, device=device, progress=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t


def run_plain(name, cfg, device):
    data = make_data(cfg, device)
    c = CONFIGS[name]
    make = {"mlp": lambda: PlainMLP(c["p"], c["embed"], c["width"], c["depth"]),
            "p1_sgd": lambda: PlainSumMLP(c["p"], c["width"], c["depth"]),
            "transformer": lambda: PlainTransformer(c["p"], c["width"], c["heads"], c["d_mlp"]),
            "p4_deep": lambda: PlainDeepMLP(data.x_train.shape[-1], c["width"], c["depth"], data.n_classes,
                                            c["init_scale"])}[name]
    tensors = (data.x_train, data.y_train, data.x_test, data.y_test)
    t = time.perf_counter()
    for seed in cfg.seeds:
        train_plain(make, tensors, cfg.steps, cfg.eval_every, cfg.lr[0], cfg.wd[0], cfg.betas, seed, device,
                    cfg.optimizer, cfg.momentum, cfg.loss, cfg.batch_size)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    ap.add_argument("--models", default="mlp", help=f"comma list of: {', '.join(CONFIGS)} (default: mlp)")
    ap.add_argument("--sizes", default="1,8", help="ensemble sizes E (default: 1,8)")
    ap.add_argument("--steps", type=int, default=200, help="steps per measured run (default: 200)")
    ap.add_argument("--eval-every", type=int, default=100, help="evaluate every k steps (default: 100)")
    ap.add_argument("--repeats", type=int, default=3, help="alternating repeats; medians reported (default: 3)")
    ap.add_argument("--plain-max", type=int, default=64,
                    help="train at most this many plain models per repeat and extrapolate (default: 64)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for both loops; 1 is how `grok book` runs each chapter (default: torch's)")
    args = ap.parse_args()
    if args.threads < 0:
        ap.error(f"--threads must be 0 (torch's default) or more, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    models = args.models.split(",")
    unknown = [m for m in models if m not in CONFIGS]
    if unknown:
        ap.error(f"unknown model {unknown[0]!r} in --models; valid: {', '.join(CONFIGS)}")
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error(f"--sizes must be a comma list of ensemble sizes, got {args.sizes!r}")
    if min(sizes) < 1 or args.steps < 1 or args.repeats < 1 or args.eval_every < 1:
        ap.error("--sizes, --steps, --repeats and --eval-every must be at least 1")
    torch.backends.cuda.matmul.allow_tf32 = False
    print(f"device={args.device} torch={torch.__version__} threads={torch.get_num_threads()}")
    print(f"{'model':12s} {'E':>4s} {'plain steps/s':>14s} {'grokcore steps/s':>17s} {'ratio':>7s} "
          f"{'peak MB':>8s} {'GFLOP/s':>8s} {'%FP32':>6s}")
    for name in models:
        for E in sizes:
            base = dict(CONFIGS[name], steps=args.steps, eval_every=args.eval_every, eval_log_points=0,
                        early_stop=False)
            cfg = gc.RunConfig(**base, seeds=tuple(range(E)))
            n_plain = min(E, args.plain_max)
            plain_cfg = gc.RunConfig(**base, seeds=tuple(range(n_plain)))
            run_grokcore(cfg.replace(steps=5), args.device)  # warm-up (allocations, kernels)
            t_plain, t_ours = [], []
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            for _ in range(args.repeats):
                t_plain.append(run_plain(name, plain_cfg, args.device) / n_plain * E)
                t_ours.append(run_grokcore(cfg, args.device))
            plain_rate = E * args.steps / statistics.median(t_plain)
            ours_rate = E * args.steps / statistics.median(t_ours)
            if args.device.startswith("cuda"):
                peak = torch.cuda.max_memory_allocated() / 2 ** 20
            else:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            flops = ours_rate * nominal_flops(name, cfg, make_data(cfg).train_size())
            peak_fp32 = next((v for k, v in FP32_PEAK.items()
                              if args.device.startswith("cuda") and k in torch.cuda.get_device_name()), None)
            frac = f"{100 * flops / peak_fp32:6.1f}" if peak_fp32 else "   n/a"
            print(f"{name:12s} {E:4d} {plain_rate:14.1f} {ours_rate:17.1f} {ours_rate / plain_rate:6.2f}x "
                  f"{peak:8.0f} {flops / 1e9:8.1f} {frac}", flush=True)


if __name__ == "__main__":
    main()
