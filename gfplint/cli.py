"""Command line: gfplint check | rules | explain (more commands join as issues land)."""
from __future__ import annotations

import sys

import click

from . import __version__
from .analysis import InputError, analyse
from .cli_kernel import front_end_options, register, source_options
from .progress import make_progress
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


def _review_options(f):
    """Options for reviews and CI, shared by check and report."""
    options = [
        click.option("--category", metavar="ID", help="SARIF automationDetails.id, so runs for several configs or subsystems coexist in code scanning."),
        click.option("--baseline", metavar="FILE", help="Report only findings not recorded in FILE (from --write-baseline)."),
        click.option("--write-baseline", metavar="FILE", help="Record this run's findings in FILE, by line-independent key."),
        click.option("--show-fixed", is_flag=True, help="With --baseline: list baseline entries that no longer occur (stderr)."),
        click.option("--diff-base", metavar="REV", help="Report only findings on lines changed since git revision REV."),
        click.option("--diff", "diff_file", metavar="FILE", help="Report only findings on lines a unified diff adds or modifies (paths relative to the analysis root)."),
        click.option("--statistics", is_flag=True, help="Print the number of findings per rule (stderr)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gfplint")
def main():
    """Static analysis of Linux kernel memory-allocation call sites.

    For every allocation site gfplint says whether it can fail (too-small-to-fail,
    may-fail, nofail, always-fails, unknown), how much error handling behind it is
    dead, and which explicit allocation class it maps to.
    """


def _output_options(f):
    """How findings are reported: --format, -o, --select, --ignore, --fail-on (check and report)."""
    for opt in reversed([
        click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
                     show_default=True, help="sarif: SARIF 2.1.0 for GitHub code scanning and other viewers."),
        click.option("-o", "output", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--select", multiple=True, metavar="RULES", help="Only these rule ids (comma-separated, repeatable)."),
        click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rule ids."),
        click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
                     help="Exit 1 when a finding at or above this level is reported."),
    ]):
        f = opt(f)
    return _review_options(f)


@main.command()
@source_options
@_output_options
@front_end_options
def check(inputs, fmt, output, select, ignore, fail_on, run, **review):
    """Analyse PATHS (C files or directories) and report findings.

    \b
    Exit status: 0 no finding at or above --fail-on, 1 findings, 2 bad usage or unusable input.
    Examples:
      gfplint check -p ~/linux fs/ext4
      gfplint check --kernel-tree ~/linux ~/linux/mm/slub.c --format json -o slub.json
      gfplint check -I include drivers/foo.c
      gfplint check -p ~/linux fs/ext4 --format sarif --category ext4 -o ext4.sarif
      gfplint check -p ~/linux fs/ext4 --diff-base origin/master
    """
    try:
        rules = select_rules(_split(select), _split(ignore))
        inputs.front_end = run.front_end
        result = analyse(inputs, rules, progress=make_progress(run.quiet))
    except (InputError, RuleError) as e:
        _fail(str(e))
    _finish(result, fmt, output, fail_on, **review)


def _finish(result, fmt, output, fail_on, category=None, baseline=None, write_baseline=None, show_fixed=False,
            diff_base=None, diff_file=None, statistics=False):
    """Narrow, render, write and exit: shared by check and report (gfplint/reviews.py)."""
    from .baseline import BaselineError
    from .diffscope import DiffError
    from .report import diagnostics_text, write_atomically
    from .reviews import Review, fixed_text, narrow, render
    from .reviews import statistics as statistics_text
    from .sarif import SarifLimitError

    review = Review(baseline, write_baseline, diff_base, diff_file)
    try:
        narrow(result, review)
        text = render(result, fmt, category, review.keys)
    except (BaselineError, DiffError, SarifLimitError) as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e.filename}: cannot write: {e.strerror}")
    if fmt == "text":
        click.echo(diagnostics_text(result), err=True, nl=False)
    if output:
        try:
            write_atomically(output, text)
        except OSError as e:
            _fail(f"{output}: cannot write: {e.strerror}")
    else:
        click.echo(text, nl=False)
    if show_fixed:
        click.echo(fixed_text(review.fixed), err=True, nl=False)
    if statistics:
        click.echo(statistics_text(result.findings), err=True, nl=False)
    if fail_on != "never" and any(level_rank(f.level) >= level_rank(fail_on) for f in result.findings):
        sys.exit(1)


@main.command("rules")
@click.option("--markdown", is_flag=True, help="Print every rule's documentation page (docs/rules.md).")
def rules_cmd(markdown):
    """List the rules: id, level and what each reports."""
    if markdown:
        from .ruledocs import rules_markdown

        click.echo(rules_markdown(), nl=False)
        return
    for m in all_rules():
        click.echo(f"{m.ID:20} {m.LEVEL:8} {m.SHORT}")


@main.command()
@click.argument("rule")
def explain(rule):
    """Print the documentation of RULE: what it reports, why it matters, examples, claim, silencing."""
    from .ruledocs import text_page

    try:
        m = get_rule(rule)
    except RuleError as e:
        _fail(str(e))
    click.echo(text_page(m), nl=False)


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


# gcc flags must reach cc untouched: with any short option (even -h for help) click would read
# "-fshort-wchar" as a cluster -f -s -h ...; so cc declares no options and parses its own leading ones.
@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def cc(ctx, args):
    """Checker for Kbuild: make C=1 CHECK="gfplint cc --facts-dir DIR".

    \b
    gfplint cc --facts-dir DIR [--kernel 6.1|6.12] [--catalog FILE] GCC-FLAGS... FILE.c
    Kbuild calls it per translation unit with $(CHECKFLAGS) $(c_flags) file.c.
    Prints this TU's findings sparse-style on stderr, stores its Facts in DIR,
    and exits 0 (a finding never fails the build). Then: gfplint report --facts-dir DIR.
    """
    import os

    from .analysis import run_rules
    from .catalog import CatalogError, load_catalog
    from .frontend.parse import parse_unit
    from .kbuild import KbuildError, analysis_root, compile_unit, kernel_layout, parse_cc_options, sparse_lines, store
    from .model.flags import layout
    from .program import link

    if args[:1] in (("--help",), ("-h",)):
        click.echo(ctx.get_help())
        return
    try:
        (facts_dir, kernel, catalog), args = parse_cc_options(list(args))
    except KbuildError as e:
        _fail(str(e))
    try:
        unit = compile_unit(list(args), os.getcwd())
        cat = load_catalog(catalog)
    except (KbuildError, CatalogError) as e:
        _fail(str(e))
    root = analysis_root(unit)
    lay = kernel_layout(root, kernel)
    facts = parse_unit(unit, root, cat, layout(lay))
    try:
        store(facts_dir, facts, root, lay)
    except OSError as e:
        _fail(f"{facts_dir}: cannot store facts: {e.strerror}")
    prog = link([facts], cat, root, lay)
    for line in sparse_lines(run_rules(prog, cat), prog.diagnostics):
        click.echo(line, err=True)


@main.command()
@click.option("--facts-dir", required=True, metavar="DIR", help="Facts stored by 'gfplint cc'.")
@click.option("--kernel", type=click.Choice(["6.1", "6.12"]), help="GFP flag layout (default: the one cc used).")
@click.option("--catalog", metavar="FILE", help="Extra allocation APIs (JSON).")
@click.option("--first-use", is_flag=True,
              help="Also report sleep-in-atomic paths through a lazy initialization (lower confidence).")
@_output_options
def report(facts_dir, kernel, catalog, first_use, fmt, output, select, ignore, fail_on, **review):
    """Link the Facts 'gfplint cc' stored in DIR and report whole-program findings.

    \b
    Two steps, the way sparse runs:
      make C=1 CHECK="gfplint cc --facts-dir /tmp/f"     (C=2: every file, built or not)
      gfplint report --facts-dir /tmp/f --format sarif -o gfplint.sarif
    """
    from .analysis import Plan, Result, run_rules
    from .catalog import CatalogError, load_catalog
    from .kbuild import KbuildError, link_stored

    try:
        rules = select_rules(_split(select), _split(ignore))
        cat = load_catalog(catalog)
        prog = link_stored(facts_dir, cat, kernel)
    except (KbuildError, CatalogError, RuleError) as e:
        _fail(str(e))
    prog.first_use = first_use
    plan = Plan(prog.root, prog.kernel, [], [], True, "kbuild")
    _finish(Result(prog, run_rules(prog, cat, rules), plan, cat), fmt, output, fail_on, **review)


register(main)  # worklist, census, cache (gfplint/cli_kernel.py)


from .cli_context import wrappers as _wrappers  # noqa: E402

main.add_command(_wrappers)
