"""Commands and options for whole-kernel runs: --jobs/--cache, worklist, census, cache.

Kept apart from cli.py so that file stays the entry point; cli.py calls
register(main) and decorates `check` with front_end_options.
"""
from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from .parallel import FrontEndOptions


@dataclass
class RunSettings:
    front_end: FrontEndOptions
    quiet: bool


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # the CPUs we may use, not the machine's
    except AttributeError:
        return os.cpu_count() or 1


def front_end_options(f):
    """--jobs, --tu-timeout, --cache-dir, --no-cache, --quiet -> one `run` argument."""

    @click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                  help="Parse N translation units at a time, each in a worker process  [default: CPUs available].")
    @click.option("--tu-timeout", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True,
                  metavar="SECONDS", help="Give up on a translation unit after this long; it becomes a diagnostic.")
    @click.option("--cache-dir", metavar="DIR",
                  help="Facts cache  [default: .gfplint-cache in the analysis root, else $XDG_CACHE_HOME/gfplint].")
    @click.option("--no-cache", is_flag=True, help="Parse every translation unit; read and write no cache.")
    @click.option("-q", "--quiet", is_flag=True, help="No progress bar (it is shown only on a terminal anyway).")
    @functools.wraps(f)
    def wrapper(*args, jobs, tu_timeout, cache_dir, no_cache, quiet, **kwargs):
        fe = FrontEndOptions(jobs=jobs or _default_jobs(), tu_timeout=tu_timeout, cache_dir=cache_dir,
                             use_cache=not no_cache)
        return f(*args, run=RunSettings(fe, quiet), **kwargs)

    return wrapper


def source_options(f):
    """PATHS, -p, --kernel-tree, -I, -D, --kernel, --catalog, --context-catalog, --through-fields
    -> one `inputs` argument (analysis.Inputs)."""

    @click.argument("paths", nargs=-1, type=click.Path())
    @click.option("-p", "compdb", metavar="PATH",
                  help="compile_commands.json, or the directory holding it (Kbuild: scripts/clang-tools/gen_compile_commands.py).")
    @click.option("--kernel-tree", metavar="DIR",
                  help="Infer kernel compile flags for DIR (found automatically when PATHS lie in a kernel tree).")
    @click.option("-I", "includes", multiple=True, metavar="DIR", help="Include directory for plain files (repeatable).")
    @click.option("-D", "defines", multiple=True, metavar="MACRO[=VAL]", help="Macro definition for plain files (repeatable).")
    @click.option("--kernel", type=click.Choice(["6.1", "6.12"]),
                  help="GFP flag layout (default: from the tree's Makefile, else 6.12).")
    @click.option("--catalog", metavar="FILE", help="Extra allocation APIs (JSON, same format as the built-in catalog).")
    @click.option("--context-catalog", metavar="FILE",
                  help="Extra atomic sections, scopes, callback registrations and ops fields "
                       "(JSON, same format as gfplint/data/context.json).")
    @click.option("--through-fields", is_flag=True,
                  help="Also follow calls through struct member pointers (p->ops->fn()) to every function stored "
                       "in that field of that struct type; findings whose path uses one say 'lower confidence'.")
    @click.option("--through-inlines", is_flag=True,
                  help="Also follow the calls a header inline makes every time it runs, as calls of its caller "
                       "(kfree_skb() -> kfree_skb_reason()), with the constants it passes. More reach; on "
                       "Debian's corpus it adds 8 sleep-in-atomic findings, none true (docs/context.md).")
    @click.option("--first-use", is_flag=True,
                  help="Also report sleep-in-atomic paths that go through a lazy initialization "
                       "(`if (!p->buf) p->buf = kmalloc(...)`): they allocate only on an object's first call, "
                       "and whether that call can be atomic depends on call order; they say 'lower confidence'.")
    @functools.wraps(f)
    def wrapper(*args, paths, compdb, kernel_tree, includes, defines, kernel, catalog, context_catalog,
                through_fields, through_inlines, first_use, **kwargs):
        from .analysis import Inputs

        inp = Inputs(list(paths), compdb, kernel_tree, list(includes), list(defines), kernel, catalog,
                     context_catalog=context_catalog, through_fields=through_fields,
                     through_inlines=through_inlines, first_use=first_use)
        return f(*args, inputs=inp, **kwargs)

    return wrapper


def input_options(f):
    """source_options plus --maintainers (worklist, census)."""
    f = click.option("--maintainers", metavar="FILE",
                     help="MAINTAINERS file  [default: the one at the analysis root].")(f)
    return source_options(f)


def _fail(msg: str) -> None:
    click.echo(f"gfplint: error: {msg}", err=True)
    sys.exit(2)


def _analyse(inp, run: RunSettings):
    from .analysis import InputError, analyse
    from .progress import make_progress
    from .report import diagnostics_text

    inp.front_end = run.front_end
    try:
        result = analyse(inp, progress=make_progress(run.quiet))
    except InputError as e:
        _fail(str(e))
    if not run.quiet:
        click.echo(diagnostics_text(result), err=True, nl=False)
    return result


def _maintainers(result, path: str | None, required: bool):
    from .maintainers import MaintainersError, load

    root = Path(result.program.root)
    p = Path(path) if path else root / "MAINTAINERS"
    if not p.is_file():
        if required or path:
            _fail(f"{p}: no MAINTAINERS file (pass --maintainers FILE; worklists are per MAINTAINERS section)")
        return None
    try:
        return load(p, root)
    except MaintainersError as e:
        _fail(str(e))


def coverage(result) -> dict:
    """What the numbers cover: a census must say which configuration it saw (FRONTEND-NOTES trap 5)."""
    from . import __version__

    prog, plan = result.program, result.plan
    how = {"compdb": "the configuration of its compile database", "kernel-tree": "flags inferred for the tree",
           "plain": "plain files"}.get(plan.origin, plan.origin)
    text = (f"{len(prog.sites)} allocation sites in {prog.tus} translation units under {prog.root}, "
            f"{how}; GFP layout {prog.kernel}; code disabled by #ifdef is not seen")
    if prog.tus_with_errors:
        text += f"; {prog.tus_with_errors} translation units had parse errors"
    return {"gfplint": __version__, "root": prog.root, "kernel_layout": prog.kernel, "origin": plan.origin,
            "translation_units": prog.tus, "tus_with_parse_errors": prog.tus_with_errors, "coverage": text}


# ------------------------------------------------------------------ worklist


@click.command()
@input_options
@click.option("-o", "output", metavar="DIR", required=True, help="Directory to write the worklists into.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv", "json"]), default="markdown",
              show_default=True)
@front_end_options
def worklist(inputs, maintainers, output, fmt, run):
    """Write one worklist per MAINTAINERS section into DIR, plus an index.

    \b
    Each worklist names the section, its status, lists and maintainers, then:
      1. bugs (sleep-in-atomic, nofail-misuse, unchecked-may-fail, always-fails),
      2. migrations by target class, with the dead error-handling lines each removes,
      3. live failure paths that need fault-injection testing.
    Orphan and obsolete sections are flagged.  A site belongs to its most specific
    section; other matching sections are named beside it.
    Example:
      gfplint worklist -p ~/linux ~/linux/fs ~/linux/mm -o worklists/
    """
    from .subsystems import group
    from .worklist import FORMATS, build, write_dir

    result = _analyse(inputs, run)
    maint = _maintainers(result, maintainers, required=True)
    files = build(group(result, maint), fmt, coverage(result))
    try:
        write_dir(output, files)
    except OSError as e:
        _fail(f"{output}: cannot write worklists: {e.strerror or e}")
    click.echo(f"gfplint: {len(files) - 1} worklists written to {output} (see index{FORMATS[fmt]})", err=True)


# ------------------------------------------------------------------ census


@click.command()
@input_options
@click.option("--by", type=click.Choice(["section", "directory"]), default="section", show_default=True,
              help="Rows per MAINTAINERS section, or per directory (two levels: fs/ext4, net/core).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Length of the top list of subsystems by dead lines.")
@click.option("--json", "json_out", metavar="FILE", help="Write the census as JSON.")
@click.option("--csv", "csv_out", metavar="FILE", help="Write the census as CSV (one row per subsystem, then TOTAL).")
@click.option("--plot", "plot_out", metavar="FILE.png",
              help="Plot dead lines and too-small-to-fail share per top-level directory (needs gfplint[plot]).")
@front_end_options
def census(inputs, maintainers, by, top, json_out, csv_out, plot_out, run):
    """Count sites by verdict, dead error handling and bugs, per subsystem and in total.

    \b
    Example:
      gfplint census -p ~/linux ~/linux/fs/ext4 ~/linux/mm --json census.json --plot census.png
    """
    from rich.console import Console

    from . import census as c
    from .report import write_atomically
    from .subsystems import group

    result = _analyse(inputs, run)
    maint = _maintainers(result, maintainers, required=False) if by == "section" else None
    subs = group(result, maint)
    meta = coverage(result) | {"by": "section" if maint else "directory"}
    doc = c.compute(subs, meta, top)
    # Not a terminal (a pipe, a mail): wide enough that no table wraps, no colour codes.
    console = Console(width=None if sys.stdout.isatty() else 400, no_color=not sys.stdout.isatty(),
                      highlight=False)
    c.print_census(doc, console)
    for path, text in ((json_out, c.to_json(doc) if json_out else ""), (csv_out, c.to_csv(doc) if csv_out else "")):
        if path:
            try:
                write_atomically(path, text)
            except OSError as e:
                _fail(f"{path}: cannot write: {e.strerror}")
    if plot_out:
        _plot(c, subs, plot_out, meta)


def _plot(c, subs, path: str, meta: dict) -> None:
    try:
        c.plot(c.by_directory(subs), path, f"gfplint census: {meta['translation_units']} TUs, GFP layout "
                                           f"{meta['kernel_layout']}")
    except c.PlotUnavailable as e:
        click.echo(f"gfplint: {e}", err=True)
    except OSError as e:
        _fail(f"{path}: cannot write plot: {e.strerror}")


# ------------------------------------------------------------------ cache


@click.group()
def cache():
    """Manage the per-translation-unit Facts cache."""


@cache.command()
@click.option("--cache-dir", metavar="DIR", help="The cache to remove  [default: the one for ROOT].")
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False))
def clean(cache_dir, root):
    """Remove the Facts cache (of ROOT, default: the kernel tree around the current directory)."""
    from .cache import CacheCleanError, clean as remove, default_dir

    d = Path(cache_dir) if cache_dir else default_dir(_analysis_root(root))
    try:
        n = remove(d)
    except CacheCleanError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{d}: cannot remove: {e.strerror}")
    click.echo(f"gfplint: removed {n} cache entries from {d}" if n else f"gfplint: no cache at {d}")


def _analysis_root(root: str | None) -> str:
    from .compdb import find_kernel_root

    start = Path(root or os.getcwd())
    tree = find_kernel_root(start)
    return str(tree if tree else start.resolve())


def register(main) -> None:
    main.add_command(worklist)
    main.add_command(census)
    main.add_command(cache)
