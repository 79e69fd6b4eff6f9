"""`grok run`, `grok book` and `grok chapters`: the book's commands (library in grokcore.book).
Every input is checked before anything executes; bad input is a one-line error, exit status 2."""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time

from ..book import build, chapters, execute, site, validate
from ..results.executors import add_executor_args, apply_executor_args, plan_name
from .common import check_seed_offset, fail


FAILED_HELP = """

What a failed run leaves behind: a chapter that raises while it executes changes nothing of the
last good book: its page book/chapters/CHAPTER.ipynb, its verdicts (book/chapters/_claims/),
its data, its stamp and the built HTML (_build/html) stay as they were. The partly executed
notebook is in _build/failed/CHAPTER.ipynb, and book/chapters/_failed/CHAPTER.json records the
attempt (when, profile, parameters, error, the command to retry); the claims ledger and the
chapter's page say that the last attempt failed once the HTML is next built. The next successful
execution of the chapter replaces its page and verdicts and removes both."""


def register(sub):
    r = sub.add_parser("run", help="execute one chapter (papermill) and rebuild the HTML",
                       description=textwrap.fill(
                           "Execute notebooks/CHAPTER.ipynb into book/chapters/ with the profile's "
                           "parameters, then your -p overrides, and rebuild the HTML book. Every value is "
                           "checked before a kernel starts (a bad one: one line, exit status 2, nothing "
                           "written).", 96) + FAILED_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("chapter", help="chapter name (see `grok chapters`)")
    r.add_argument("--profile", default="quick", help=f"one of {', '.join(chapters.PROFILES)} (default: quick)")
    r.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override a parameter of the chapter's parameters cell (repeatable)")
    r.add_argument("--no-build", action="store_true", help="execute only; do not rebuild the HTML")
    _add_seed_offset(r)
    add_max_steps(r)
    add_executor_args(r)
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("book", help="execute every chapter, then build and check the HTML book",
                       description=textwrap.fill(
                           "Execute every chapter at the profile, build the HTML with Jupyter Book (-W -n "
                           "--keep-going) and check it. Every chapter's values are checked before any kernel "
                           "starts. A chapter that fails does not stop the others: the book is built from "
                           "them and from the failed chapter's last good page, then the command exits with "
                           "status 1 naming the failed chapters.", 96) + FAILED_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
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
    _add_seed_offset(b)
    add_max_steps(b)
    add_executor_args(b)
    b.set_defaults(func=cmd_book)

    c = sub.add_parser("chapters", help="list chapters, their parameters, defaults and claim ids")
    c.set_defaults(func=cmd_chapters)


def _add_seed_offset(p):
    p.add_argument("--seed-offset", type=int, default=0, metavar="K",
                   help="replication: move every config's seeds (initialisation and split) by K, so the "
                   "chapters train seeds disjoint from the book's, into the same results store; the "
                   "verdicts go to book/chapters/_claims/offset-K/ (the ledger sets them beside the "
                   "book's), the pages to _build/offset-K/, and the HTML is not rebuilt (default 0: the book)")


def _apply_seed_offset(args):
    check_seed_offset(args.seed_offset)
    if args.seed_offset:
        os.environ["GROK_SEED_OFFSET"] = str(args.seed_offset)
    else:
        os.environ.pop("GROK_SEED_OFFSET", None)


def _overrides(ch, profile: str, params: dict) -> dict:
    """The parameters that differ from the profile's: what a ledger row must say it ran with."""
    base = chapters.compose(ch, profile)
    return {k: v for k, v in params.items() if k != "profile" and base.get(k, ch.params.get(k)) != v}
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
    _checked(validate.check, ch, params)
    _apply_seed_offset(args)
    apply_executor_args(args)
    os.environ["GROK_PLAN"] = plan_name(ch.name, args.profile)  # what `grok status` reads
    over = _overrides(ch, args.profile, params)
    os.environ["GROK_OVERRIDES"] = json.dumps(over)      # recorded in each ledger row
    if args.seed_offset:
        args.no_build = True                              # a replication never rebuilds the book
    if over and ch.claims:
        print(f"note: the ledger will show a non-default verdict for {', '.join(ch.claims)}: run with "
              f"{', '.join(f'{k}={v!r}' for k, v in over.items())} (rerun without -p to restore the book's)",
              file=sys.stderr)
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
        if not args.no_build:
            sys.stderr.write("grok: the HTML book was not rebuilt: it still shows the last good execution\n")
        return 1
    return 0


def cmd_book(args):
    root = _checked(chapters.find_root)
    if args.profile not in chapters.PROFILES:
        fail(f"unknown profile {args.profile!r}; valid: {', '.join(chapters.PROFILES)}")
    if args.jobs < 1:
        fail(f"--jobs must be at least 1, got {args.jobs}")
    _apply_seed_offset(args)
    os.environ.pop("GROK_OVERRIDES", None)                # the book runs each profile as it is
    apply_max_steps(args)
    apply_executor_args(args)
    t0 = time.perf_counter()
    try:
        times = _checked(build.build_book, args.profile, root, lambda m: print(m, file=sys.stderr),
                         jobs=args.jobs, force=args.force, only=args.only)
    except build.BookIncomplete as e:
        for msg in e.failures.values():
            sys.stderr.write(f"grok: {msg}\n")
        sys.stderr.write(f"grok: book incomplete: {e}\n")
        return 1
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
