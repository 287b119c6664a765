"""A progress bar for long runs: TUs done / total, cache hits, parse errors, ETA.

Shown only when stderr is a terminal and --quiet is not given: a log file or
a CI job gets no control sequences.  It writes to stderr, so stdout stays the
report.
"""
from __future__ import annotations

import sys


def make_progress(quiet: bool, stream=None):
    """A progress object for analyse(), or None when nothing should be shown."""
    stream = stream or sys.stderr
    if quiet or not stream.isatty():
        return None
    return BarProgress(stream)


class BarProgress:
    def __init__(self, stream):
        from rich.console import Console

        self.console = Console(file=stream)
        self.hits = 0
        self.errors = 0
        self._bar = None
        self._task = None

    def start(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("parsing"), BarColumn(), MofNCompleteColumn(),
            TextColumn("TUs · {task.fields[hits]} cached · {task.fields[errors]} with parse errors"),
            TextColumn("· ETA"), TimeRemainingColumn(),
            console=self.console, transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("parse", total=total, hits=0, errors=0)

    def advance(self, cached: bool = False, failed: bool = False) -> None:
        self.hits += cached
        self.errors += failed
        self._bar.update(self._task, advance=1, hits=self.hits, errors=self.errors)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
