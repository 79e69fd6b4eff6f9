"""`grok run`, `grok book` and `grok chapters`: the book's commands (library in grokcore.book).
Every input is checked before anything executes; bad input is a one-line error, exit status 2."""
from __future__ import annotations

import os
import sys
import time

from ..book import build, chapters, execute, site
from ..results.executors import add_executor_args, apply_executor_args
from .common import fail


def register(sub):
    r = sub.add_parser("run", help="execute one chapter (papermill) and rebuild the HTML",
                       description="Execute notebooks/CHAPTER.ipynb into book/chapters/ with the profile's "
                       "parameters, then your -p overrides, and rebuild the HTML book.")
    r.add_argument("chapter", help="chapter name (see `grok chapters`)")
    r.add_argument("--profile", default="quick", help=f"one of {', '.join(chapters.PROFILES)} (default: quick)")
    r.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override a parameter of the chapter's parameters cell (repeatable)")
    r.add_argument("--no-build", action="store_true", help="execute only; do not rebuild the HTML")
    add_max_steps(r)
    add_executor_args(r)
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("book", help="execute every chapter, then build and check the HTML book",
                       description="Execute every chapter at the profile (stops at the first failing "
                       "chapter), build the HTML with Jupyter Book (-W -n --keep-going) and check it.")
    b.add_argument("--profile", default="quick", help=f"one of {', '.join(chapters.PROFILES)} (default: quick)")
    b.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="chapters executed at once, each with cpus/jobs torch threads (default: "
                   "min(2, cpus); small models run about as fast on one thread as on two)")
    b.add_argument("--force", action="store_true",
                   help="re-execute every chapter, even those whose notebook, parameters and grokcore "
                   "source are unchanged since their last execution (results still come from the store)")
    b.add_argument("--only", nargs="+", metavar="NAME", default=None,
                   help="execute only these chapters or parts (e.g. P3, or p3_fraction); the HTML "
                   "is still built from every executed chapter")
    add_max_steps(b)
    add_executor_args(b)
    b.set_defaults(func=cmd_book)

    c = sub.add_parser("chapters", help="list chapters, their parameters, defaults and claim ids")
    c.set_defaults(func=cmd_chapters)


def add_max_steps(parser) -> None:
    parser.add_argument("--max-steps", type=int, default=None, metavar="N",
                        help="train every config for at most N steps (sets $GROK_MAX_STEPS): the profile's "
                        "settings, truncated; pages and the ledger read e.g. 'paper (max N steps)'")


def apply_max_steps(args) -> None:
    """Export --max-steps as $GROK_MAX_STEPS (the chapters' kernels inherit it); check either."""
    if args.max_steps is not None:
        if args.max_steps < 1:
            fail(f"--max-steps must be at least 1, got {args.max_steps}")
        os.environ["GROK_MAX_STEPS"] = str(args.max_steps)
    _checked(chapters.step_cap)


def _checked(fn, *a, **k):
    try:
        return fn(*a, **k)
    except chapters.BookError as e:
        fail(str(e))


def cmd_run(args):
    root = _checked(chapters.find_root)
    apply_max_steps(args)
    ch = _checked(chapters.get_chapter, args.chapter, root)
    params = _checked(chapters.compose, ch, args.profile, args.param)
    apply_executor_args(args)
    os.environ["GROK_PLAN"] = f"{ch.name}-{args.profile}"  # what `grok status` reads
    print(f"running {ch.name} at profile {args.profile} with {params}", file=sys.stderr)
    try:
        wall = execute.execute(ch, params, root)
        execute.record_timing(ch.name, args.profile, params, wall, root)
        execute.mark_executed(ch, params, root)
        print(f"{ch.name}: {wall:.1f} s -> {chapters.Paths(root).chapters / (ch.name + '.ipynb')}")
        if not args.no_build:
            index = site.build_html(root, log=lambda m: print(m, file=sys.stderr))
            print(f"book: {index}")
    except chapters.ChapterFailed as e:
        sys.stderr.write(f"grok: chapter failed: {e}\n")
        return 1
    return 0


def cmd_book(args):
    root = _checked(chapters.find_root)
    if args.profile not in chapters.PROFILES:
        fail(f"unknown profile {args.profile!r}; valid: {', '.join(chapters.PROFILES)}")
    if args.jobs < 1:
        fail(f"--jobs must be at least 1, got {args.jobs}")
    apply_max_steps(args)
    apply_executor_args(args)
    t0 = time.perf_counter()
    try:
        times = _checked(build.build_book, args.profile, root, lambda m: print(m, file=sys.stderr),
                         jobs=args.jobs, force=args.force, only=args.only)
    except chapters.ChapterFailed as e:
        sys.stderr.write(f"grok: book failed: {e}\n")
        return 1
    print(execute.timings_table(root))
    print(f"total {time.perf_counter() - t0:.1f} s ({len(times)} chapters executed, {args.jobs} at a time); "
          f"book: {chapters.Paths(root).html / 'index.html'}")
    return 0


def cmd_chapters(args):
    root = _checked(chapters.find_root)
    for name, ch in _checked(chapters.chapters, root).items():
        print(f"{name}: {ch.title} [{ch.part}] claims: {', '.join(ch.claims) or '-'}")
        for k, v in ch.params.items():
            per = "; ".join(f"{prof} {ch.profiles[prof][k]!r}" for prof in chapters.PROFILES
                            if k in ch.profiles.get(prof, {}))
            print(f"    {k} = {v!r}" + (f"   ({per})" if per else ""))
    return 0
