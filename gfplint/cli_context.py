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

    \b
    Registration wrappers are listed too: a function that passes one of its
    parameters to a registration API (request_irq, netif_napi_add, ...)
    registers whatever its callers pass there, in that API's context.
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
    regs = _registration_wrappers(prog)
    if fmt == "json":
        click.echo(json.dumps({"wrappers": rows, "registration_wrappers": regs}, indent=2))
        return
    for w in rows:
        param = f", gfp_t parameter '{w['gfp_param']}'" if w["gfp_param"] else ""
        click.echo(f"{w['file']}:{w['line']}: {w['function']}() {w['why']} (line {w['inner_line']}{param}); "
                   f"{w['calls']} call site{'s' if w['calls'] != 1 else ''} judged as allocations")
    for r in regs:
        n = r["calls"]
        click.echo(f"{r['file']}:{r['line']}: {r['function']}() registers its parameter '{r['param']}' with "
                   f"{r['api']}() ({r['context']}); {n} call site{'s' if n != 1 else ''} "
                   f"register{'' if n != 1 else 's'} a function through it")
    click.echo(f"gfplint: {len(rows)} wrappers inferred, {len(regs)} registration wrappers")


def _registration_wrappers(prog) -> list:
    """Functions that register a parameter themselves (FunctionFacts.registers), with the number
    of callbacks registered through them (callgraph.wrapped_registrations())."""
    through: dict = {}
    for r in prog.registrations:
        if r.wrapper is not None:
            through[r.wrapper] = through.get(r.wrapper, 0) + 1
    out = []
    for (file, name), f in sorted(prog.functions.items()):
        for idx, context, api, _why, line in f.registers:
            param = f.params[idx] if idx < len(f.params) else str(idx)
            out.append({"function": name, "file": file, "line": line, "param": param, "api": api,
                        "context": context, "calls": through.get(name, 0)})
    return out
