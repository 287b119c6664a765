"""Command line: gfplint check | rules | explain (more commands join as issues land)."""
from __future__ import annotations

import sys

import click

from . import __version__
from .analysis import InputError, Inputs, analyse
from .findings import LEVELS, level_rank
from .registry import RuleError, all_rules, get_rule, select_rules

FAIL_ON = LEVELS + ("never",)


def _split(values) -> list[str]:
    out = []
    for v in values or ():
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _fail(msg: str) -> None:
    click.echo(f"gfplint: error: {msg}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gfplint")
def main():
    """Static analysis of Linux kernel memory-allocation call sites.

    For every allocation site gfplint says whether it can fail (too-small-to-fail,
    may-fail, nofail, always-fails, unknown), how much error handling behind it is
    dead, and which explicit allocation class it maps to.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-p", "compdb", metavar="PATH", help="compile_commands.json, or the directory holding it (Kbuild: scripts/clang-tools/gen_compile_commands.py).")
@click.option("--kernel-tree", metavar="DIR", help="Infer kernel compile flags for DIR (found automatically when PATHS lie in a kernel tree).")
@click.option("-I", "includes", multiple=True, metavar="DIR", help="Include directory for plain files (repeatable).")
@click.option("-D", "defines", multiple=True, metavar="MACRO[=VAL]", help="Macro definition for plain files (repeatable).")
@click.option("--kernel", type=click.Choice(["6.1", "6.12"]), help="GFP flag layout (default: from the tree's Makefile, else 6.12).")
@click.option("--catalog", metavar="FILE", help="Extra allocation APIs (JSON, same format as the built-in catalog).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "output", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
@click.option("--select", multiple=True, metavar="RULES", help="Only these rule ids (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rule ids.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 when a finding at or above this level is reported.")
def check(paths, compdb, kernel_tree, includes, defines, kernel, catalog, fmt, output, select, ignore, fail_on):
    """Analyse PATHS (C files or directories) and report findings.

    \b
    Exit status: 0 no finding at or above --fail-on, 1 findings, 2 bad usage or unusable input.
    Examples:
      gfplint check -p ~/linux fs/ext4
      gfplint check --kernel-tree ~/linux ~/linux/mm/slub.c --format json -o slub.json
      gfplint check -I include drivers/foo.c
    """
    from .report import diagnostics_text, to_json, to_text, write_atomically

    try:
        rules = select_rules(_split(select), _split(ignore))
        inp = Inputs(list(paths), compdb, kernel_tree, list(includes), list(defines), kernel, catalog)
        result = analyse(inp, rules)
    except (InputError, RuleError) as e:
        _fail(str(e))
    text = to_json(result) if fmt == "json" else to_text(result)
    if fmt == "text":
        click.echo(diagnostics_text(result), err=True, nl=False)
    if output:
        try:
            write_atomically(output, text)
        except OSError as e:
            _fail(f"{output}: cannot write: {e.strerror}")
    else:
        click.echo(text, nl=False)
    if fail_on != "never" and any(level_rank(f.level) >= level_rank(fail_on) for f in result.findings):
        sys.exit(1)


@main.command("rules")
def rules_cmd():
    """List the rules: id, level and what each reports."""
    for m in all_rules():
        click.echo(f"{m.ID:20} {m.LEVEL:8} {m.SHORT}")


@main.command()
@click.argument("rule")
def explain(rule):
    """Print the documentation of RULE."""
    try:
        m = get_rule(rule)
    except RuleError as e:
        _fail(str(e))
    click.echo(f"{m.ID} ({m.LEVEL})\n\n{m.SHORT}\n\n{m.FULL}\n\nBad:\n{m.BAD}\nGood:\n{m.GOOD}")
    if getattr(m, "SILENCE", None):
        click.echo(f"How to silence: {m.SILENCE}")


@main.command()
@click.argument("mask", required=False)
@click.option("--size", type=int, help="Request size in bytes (kmalloc-like APIs).")
@click.option("--order", type=int, help="Page order (page allocator APIs).")
@click.option("--api", metavar="NAME", help="Allocation API, e.g. kmalloc, kvmalloc, vmalloc, mempool_alloc, alloc_pages.")
@click.option("--kernel", type=click.Choice(["6.12", "6.1"]), default="6.12", show_default=True)
@click.option("--context", metavar="LIST", help="Comma list of nofs,noio,pin,noreclaim,atomic,task,kthread,user.")
@click.option("--policy", default="today", show_default=True, help="today | tstf:N (too small to fail guaranteed up to order N) | brown (the proposed classes).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--check", "do_check", is_flag=True, help="Check the simulator against outcome() and every rule's claim.")
@click.option("--full", is_flag=True, help="With --check: all worlds (slower).")
def model(mask, size, order, api, kernel, context, policy, fmt, do_check, full):
    """Ask the reference allocator model: can MASK fail, in which world, and why?

    \b
    Examples:
      gfplint model GFP_KERNEL --size 4096
      gfplint model "GFP_KERNEL|__GFP_ACCOUNT" --size 64 --api kmalloc
      gfplint model "GFP_KERNEL|__GFP_NOFAIL" --order 4 --kernel 6.1
      gfplint model --check
    """
    from .model.cli import run_check, run_query

    if do_check:
        sys.exit(run_check(out=click.echo, full=full))
    if not mask:
        _fail("model: give a MASK such as GFP_KERNEL, or --check")
    contexts = tuple(context.split(",")) if context else ()
    code = run_query(mask, size, order, api, kernel, contexts, policy, fmt, click.echo)
    sys.exit(code)
