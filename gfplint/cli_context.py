"""`gfplint wrappers`: the allocation wrappers gfplint inferred, and why."""
from __future__ import annotations

import json
import sys

import click

from .analysis import InputError, analyse
from .cli_kernel import source_options


@click.command()
@source_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def wrappers(inputs, fmt):
    """List the functions gfplint treats as allocators, and why.

    \b
    A function is a wrapper when it returns an allocation's result unchecked
    (its callers do the NULL check), possibly passing its own gfp_t and size
    parameters through, or when it loops until its allocation succeeds (a
    never-fail wrapper: nofail for its callers). Each call to a wrapper is an
    allocation site judged with the caller's mask and size. Wrappers that
    cannot be inferred (through function pointers, across unanalysed code) can
    be declared with --catalog, in the format of gfplint/data/alloc_apis.json.
    """
    try:
        result = analyse(inputs)
    except InputError as e:
        click.echo(f"gfplint: error: {e}", err=True)
        sys.exit(2)
    prog = result.program
    calls = {}
    for r in prog.sites:
        if r.site.via:
            calls[r.site.via] = calls.get(r.site.via, 0) + 1
    rows = sorted(prog.wrappers.values(), key=lambda w: (w["file"], w["line"]))
    for w in rows:
        w["calls"] = calls.get(w["function"], 0)
    if fmt == "json":
        click.echo(json.dumps({"wrappers": rows}, indent=2))
        return
    for w in rows:
        param = f", gfp_t parameter '{w['gfp_param']}'" if w["gfp_param"] else ""
        click.echo(f"{w['file']}:{w['line']}: {w['function']}() {w['why']} (line {w['inner_line']}{param}); "
                   f"{w['calls']} call site{'s' if w['calls'] != 1 else ''} judged as allocations")
    click.echo(f"gfplint: {len(rows)} wrappers inferred")
