"""`build_book`: execute every chapter that is not up to date (in parallel worker processes),
then build and check the HTML."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import validate
from .chapters import ChapterFailed, Paths, chapters, compose, find_root, select
from .execute import _execute_job, up_to_date
from .site import build_html


def build_book(profile: str = "quick", root=None, log=print, jobs: int = 1,
               force: bool = False, only=None) -> dict[str, float]:
    """Execute every chapter (or those picked by `only`, see `select`) at `profile`, `jobs` at
    a time (each with cpus/jobs torch threads), skipping chapters that are up to date unless
    `force`; then build and check the HTML. A chapter that fails keeps its last good page and
    verdicts (see `execute.execute`); the others still execute and the HTML is still built, then
    BookIncomplete names the failed ones. Returns the wall time of each chapter executed now."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context
    p = Paths(Path(root) if root else find_root())
    chs = chapters(p.root)
    chs = {n: chs[n] for n in select(chs, only)}
    plans = {name: compose(ch, profile) for name, ch in chs.items()}  # all input checked first
    for name, params in plans.items():
        validate.check(chs[name], params)
    todo = [n for n in chs if force or not up_to_date(chs[n], plans[n], p.root)]
    if jobs > 1:  # longest first, so that the pool drains evenly: by the last recorded time at this
        # profile, else by the chapter's `minutes` hint in its yml, else first (unknown)
        last = json.loads(p.timings.read_text()) if p.timings.exists() else {}

        def expected(n):
            rec = last.get(n, {})
            if rec.get("profile") == profile:
                return rec["wall_s"]
            return 60.0 * chs[n].minutes.get(profile, float("inf"))
        todo.sort(key=lambda n: -expected(n))
    for n in chs:
        if n not in todo:
            log(f"== {n} ({profile}): up to date, not re-executed")
    workers = max(1, jobs)
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0
    times, failures, running = {}, {}, {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        while todo or running:
            while todo and len(running) < workers:
                n = todo.pop(0)
                log(f"== {n} ({profile})")
                running[pool.submit(_execute_job, n, profile, plans[n], str(p.root), threads)] = n
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                n = running.pop(fut)
                try:
                    times[n] = fut.result()[1]
                    log(f"   {n}: {times[n]:.1f} s")
                except ChapterFailed as e:
                    failures[n] = str(e)
                    log(f"   {n}: failed (its last good page is kept; reported at the end)")
    if times:
        log(f"== executed {len(times)} chapters in {time.perf_counter() - t0:.1f} s wall, {workers} at a time")
    if p.offset:  # a replication build: its verdicts sit beside the book's, its pages outside it
        log(f"== replication (seed offset {p.offset}): verdicts in {p.claims}; the ledger page sets them "
            "beside the book's at its next build (`grok book`)")
        if failures:
            raise BookIncomplete(failures, times)
        return times
    try:
        build_html(p.root, log)
    except ChapterFailed as e:
        if not failures:
            raise
        failures["HTML build"] = str(e)
    if failures:
        raise BookIncomplete(failures, times)
    return times


class BookIncomplete(ChapterFailed):
    """Chapters failed; the book was built from every other chapter and their last good pages."""

    def __init__(self, failures: dict[str, str], times: dict[str, float]):
        self.failures, self.times = failures, times
        super().__init__(f"{len(failures)} chapter(s) failed: {', '.join(failures)} (their last good "
                         "pages and verdicts are kept; the book was built from them and the others)")
