"""`grok plan`: per chapter, the configs, members, steps, FLOPs and estimated wall time of a
profile, on this machine and on a GPU, before anything trains (library in grokcore.book.plan)."""
from __future__ import annotations

import sys

from ..book import chapters
from .common import fail


def register(sub):
    p = sub.add_parser("plan", help="what a profile costs: configs, members, steps, FLOPs, time here and on a GPU",
                       description="Per chapter: its configs, members, step budgets, member-steps, an "
                       "estimate of FLOPs, and of wall time on this machine (measured seconds per "
                       "member-step) and on one GPU (a stated throughput), with the total. The first "
                       "plan of a chapter runs its code with every config cut to one step, in a scratch "
                       "store, to learn its configs (cached in _build/plan/).")
    p.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapters or parts (default: all)")
    p.add_argument("--profile", default="quick", help=f"one of {', '.join(chapters.PROFILES)} (default: quick)")
    p.add_argument("--max-steps", type=int, default=None, metavar="N", help="plan with every config cut to N steps")
    p.add_argument("--calibrate", type=float, default=60.0, metavar="S",
                   help="seconds allowed for measuring steps on this machine (cached per host; default 60)")
    p.set_defaults(func=cmd_plan)


def cmd_plan(args):
    from ..book.plan import plan_table
    try:
        root = chapters.find_root()
        if args.profile not in chapters.PROFILES:
            raise chapters.BookError(f"unknown profile {args.profile!r}; valid: {', '.join(chapters.PROFILES)}")
        if args.max_steps is not None and args.max_steps < 1:
            raise chapters.BookError(f"--max-steps must be at least 1, got {args.max_steps}")
        if args.calibrate < 0:
            raise chapters.BookError(f"--calibrate must be at least 0, got {args.calibrate}")
        names = chapters.select(chapters.chapters(root), args.chapters)
    except chapters.BookError as e:
        fail(str(e))
    print(plan_table(args.profile, names, root, cap=args.max_steps, calibrate_s=args.calibrate,
                     log=lambda m: print(m, file=sys.stderr, flush=True)))
    return 0
