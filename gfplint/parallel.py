"""Run the front end over many translation units: worker processes, isolation, cache.

libclang can segfault or loop on odd input.  Each TU is parsed in a worker
process that handles one TU at a time, so a worker killed by a signal or
stopped after `tu_timeout` seconds costs exactly that TU: it becomes a
diagnostic, a fresh worker takes over, and the run completes.  (A
concurrent.futures pool cannot do this: one dead worker breaks the whole pool,
and it has no per-task timeout.)

Workers are started with the "spawn" method: no libclang state, open files or
progress-bar threads leak from the parent into them.  Results come back as
plain dicts (TUFacts.to_dict) and are returned in plan order, so the output
does not depend on the number of jobs or on which worker finished first.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from .facts import Diagnostic, TUFacts


@dataclass
class FrontEndOptions:
    jobs: int = 0  # 0: parse in this process (library default, no isolation); N >= 1: N worker processes
    tu_timeout: float = 120.0
    cache_dir: str | None = None  # None: the default place (cache.default_dir)
    use_cache: bool = False


@dataclass
class Stats:
    total: int = 0
    parsed: int = 0
    cache_hits: int = 0
    failed: int = 0  # crashed or timed out
    parse_errors: int = 0
    notes: list = field(default_factory=list)


def parse_unit_task(unit, root, catalog, kernel) -> dict:
    """What a worker runs for one TU (module level: picklable by reference under spawn).

    libclang calls back into Python while walking the AST; an exception there
    (RecursionError on a 10,000-deep expression) cannot propagate and Python
    prints a traceback per callback.  They are collected instead and become
    one warning on the TU: its sites inside that code are missing.
    """
    from .frontend.parse import parse_unit
    from .model.flags import layout

    lost: list = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda u: lost.append(type(u.exc_value).__name__)
    try:
        facts = parse_unit(unit, root, catalog, layout(kernel))
    finally:
        sys.unraisablehook = previous
    from .frontend.clangutil import LOST

    lost += LOST
    if lost:
        kinds = ", ".join(sorted(set(lost)))
        facts.diagnostics.append(Diagnostic(facts.tu, 0, 0, "warning",
                                            f"front end lost parts of the AST walk ({len(lost)} x {kinds}; "
                                            "expressions nested too deeply?): sites there may be missing", facts.tu))
    return facts.to_dict()


# Tests replace this with a function that crashes or hangs on chosen TUs.
PARSE_TASK = parse_unit_task


def _worker(conn, task, root, catalog, kernel) -> None:
    # The parent handles Ctrl-C and tears workers down; a worker must not die
    # half-way through sending a result because the terminal sent SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        index, unit = job
        try:
            conn.send((index, "ok", task(unit, root, catalog, kernel)))
        except Exception as e:  # a Python-level failure of the front end: report, keep serving
            conn.send((index, "error", f"{type(e).__name__}: {e}"))


class _Slot:
    """One worker process and the TU it is working on."""

    def __init__(self, ctx, task, root, catalog, kernel):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, task, root, catalog, kernel), daemon=True)
        self.proc.start()
        child.close()
        self.job = None  # (index, unit)
        self.deadline = 0.0

    def give(self, job, timeout: float) -> None:
        self.job = job
        self.deadline = time.monotonic() + timeout
        self.conn.send(job)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=2)
        self.kill()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def failed_facts(unit, root: str, why: str) -> TUFacts:
    rel = os.path.relpath(unit.file, root)
    name = unit.file if rel.startswith("..") else rel.replace(os.sep, "/")
    name = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return TUFacts(tu=name, diagnostics=[Diagnostic(name, 0, 0, "error", why, name)], parse_errors=1)


def run_workers(jobs: list, n: int, timeout: float, root: str, catalog, kernel: str, done) -> dict:
    """Parse JOBS [(index, unit)] in N workers; index -> TUFacts.  DONE(index, facts, failed) after each."""
    ctx = mp.get_context("spawn")
    task = PARSE_TASK
    pending = deque(jobs)
    slots: list[_Slot] = []
    results: dict = {}

    def finish(slot: _Slot, facts: TUFacts, failed: bool = False) -> None:
        index = slot.job[0]
        slot.job = None
        results[index] = facts
        done(index, facts, failed)

    try:
        while pending or any(s.job for s in slots):
            while pending and len(slots) < n:
                slots.append(_Slot(ctx, task, root, catalog, kernel))
            for s in slots:
                if s.job is None and pending:
                    s.give(pending.popleft(), timeout)
            busy = [s for s in slots if s.job]
            now = time.monotonic()
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy],
                         timeout=max(0.0, min(s.deadline for s in busy) - now))
            for s in busy:
                if s.conn in ready or s.proc.sentinel in ready:
                    _collect(s, root, finish)
                elif time.monotonic() >= s.deadline:
                    unit = s.job[1]
                    s.kill()
                    finish(s, failed_facts(unit, root, f"front end gave up after {timeout:g} s (--tu-timeout); TU skipped"), True)
            dead = [s for s in slots if s.conn.closed]
            slots = [s for s in slots if not s.conn.closed]
            for s in dead:
                s.kill()
    finally:
        for s in slots:
            s.stop()
    return results


def _collect(s: _Slot, root: str, finish) -> None:
    """Read a worker's answer, or bury it when it died mid-TU."""
    unit = s.job[1]
    try:
        if s.conn.poll():
            index, status, payload = s.conn.recv()
            if status == "ok":
                finish(s, TUFacts.from_dict(payload))
            else:
                finish(s, failed_facts(unit, root, f"front end failed: {payload}"), True)
            return
    except (EOFError, OSError):
        pass
    s.proc.join(timeout=5)
    why = _signal_name(s.proc.exitcode)
    s.kill()
    finish(s, failed_facts(unit, root, f"front end worker {why} while parsing this TU; TU skipped"), True)


def _cacheable(facts: TUFacts) -> bool:
    """A TU libclang could not even load records no headers: re-try it next run."""
    return bool(facts.headers) or not facts.parse_errors


def parse_units(units: list, root: str, catalog, kernel: str, options: FrontEndOptions,
                progress=None) -> tuple[list[TUFacts], Stats]:
    """Facts for every unit, in plan order: cache hits first, the rest parsed.

    PROGRESS, when given, is told start(total), then advance(cached, failed) per TU.
    """
    from .cache import FactsCache, default_dir, run_salt

    stats = Stats(total=len(units))
    cache = None
    if options.use_cache:
        directory = options.cache_dir or default_dir(root)
        cache = FactsCache(directory, run_salt(root, kernel, catalog))
    if progress:
        progress.start(len(units))
    results: dict = {}
    todo = []
    for i, unit in enumerate(units):
        facts = cache.get(unit, root) if cache else None
        if facts is None:
            todo.append((i, unit))
            continue
        results[i] = facts
        stats.cache_hits += 1
        if progress:
            progress.advance(cached=True, failed=bool(facts.parse_errors))

    def done(index: int, facts: TUFacts, crashed: bool = False) -> None:
        stats.parsed += 1
        stats.failed += crashed
        if cache and not crashed and _cacheable(facts):
            cache.put(units[index], root, facts)
        if progress:
            progress.advance(cached=False, failed=bool(facts.parse_errors))

    if options.jobs <= 0:
        for i, unit in todo:
            try:
                facts, failed = TUFacts.from_dict(PARSE_TASK(unit, root, catalog, kernel)), False
            except Exception as e:  # as in a worker: one TU's front-end failure is its diagnostic
                facts, failed = failed_facts(unit, root, f"front end failed: {type(e).__name__}: {e}"), True
            results[i] = facts
            done(i, facts, failed)
    elif todo:
        n = min(options.jobs, len(todo))
        results.update(run_workers(todo, n, options.tu_timeout, root, catalog, kernel, done))
    out = [results[i] for i in range(len(units))]
    stats.parse_errors = sum(1 for f in out if f.parse_errors)
    if cache and cache.dropped:
        stats.notes.append(f"dropped {cache.dropped} corrupt cache entries (rebuilt)")
    if cache and not cache.writable:
        stats.notes.append(f"cache directory {cache.dir} is not writable: results not cached")
    if progress:
        progress.finish()
    return out, stats
