"""One run: inputs -> compile units -> Facts -> Program -> Findings.

The CLI, tests and benchmarks all go through `Inputs` and `analyse`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import compdb
from .catalog import Catalog, load_catalog
from .facts import Diagnostic, TUFacts
from .findings import Finding
from .parallel import FrontEndOptions, Stats, parse_units
from .program import Program, link
from .registry import all_rules


class InputError(ValueError):
    """Unusable input: reported in one line, exit code 2."""


@dataclass
class Inputs:
    paths: list = field(default_factory=list)
    compdb: str | None = None
    kernel_tree: str | None = None
    includes: list = field(default_factory=list)
    defines: list = field(default_factory=list)
    kernel: str | None = None  # flag layout override: 6.1 | 6.12
    catalog: str | None = None
    cwd: str = field(default_factory=os.getcwd)
    context_catalog: str | None = None  # extra enter/exit/registration entries (gfplint/data/context.json format)
    through_fields: bool = False  # resolve calls through struct member pointers (lower confidence)
    through_inlines: bool = False  # follow the calls header inlines make every time they run
    first_use: bool = False  # report sleep-in-atomic paths through a lazy initialization (lower confidence)
    # How the front end runs (gfplint/parallel.py): jobs, --tu-timeout, cache.
    front_end: FrontEndOptions = field(default_factory=FrontEndOptions)


@dataclass
class Plan:
    root: str
    kernel: str
    units: list
    diagnostics: list = field(default_factory=list)
    configured: bool = True
    origin: str = "plain"


def _fsname(p) -> str:
    return os.fsdecode(p).encode("utf-8", "backslashreplace").decode("utf-8")


def _check_paths(paths: list) -> list[Path]:
    out = []
    for p in paths:
        path = Path(os.path.join(os.getcwd(), p)) if not os.path.isabs(p) else Path(p)
        if not path.exists():
            raise InputError(f"{_fsname(p)}: no such file or directory")
        if not path.is_dir() and not os.access(path, os.R_OK):
            raise InputError(f"{_fsname(p)}: cannot read file")
        out.append(path)
    return out


def _binary(path: Path) -> int | None:
    """Offset of the first NUL byte in the first 64 KiB, None for text."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return None
    i = head.find(b"\0")
    return None if i < 0 else i


def plan(inp: Inputs) -> Plan:
    paths = _check_paths(inp.paths)
    if inp.compdb:
        return _plan_compdb(inp, paths)
    tree = Path(inp.kernel_tree) if inp.kernel_tree else None
    if tree is not None and not compdb.is_kernel_root(tree):
        raise InputError(f"{_fsname(inp.kernel_tree)}: not a kernel tree (needs MAINTAINERS, Kbuild and include/linux)")
    if tree is None and paths:
        tree = compdb.find_kernel_root(paths[0])
    if not paths:
        if tree is None:
            raise InputError("no input: name C files or directories, or give -p compile_commands.json")
        paths = [tree]
    files = compdb.collect_c_files(paths)
    if not files:
        raise InputError(f"{', '.join(_fsname(p) for p in inp.paths) or 'input'}: no C files found")
    diags = []
    units = []
    for f in files:
        off = _binary(f)
        if off is not None:
            if str(f) in {str(p) for p in paths}:
                raise InputError(f"{_fsname(f)}: binary file (NUL byte at offset {off}), not C source")
            diags.append(Diagnostic(_fsname(f), 0, 0, "error", f"binary file (NUL byte at offset {off}) skipped"))
            continue
        units.append(f)
    if tree is not None:
        root = str(tree.resolve())
        args = compdb.kernel_tree_args(tree) + compdb.plain_args(inp.includes, inp.defines)
        kernel = inp.kernel or compdb.layout_for_version(compdb.kernel_version(tree))
        cus = [compdb.CompileUnit(str(f), root, args, "kernel-tree") for f in units]
        p = Plan(root, kernel, cus, diags, compdb.kernel_tree_configured(tree), "kernel-tree")
    else:
        root = os.path.abspath(inp.cwd)
        args = compdb.plain_args(inp.includes, inp.defines)
        cus = [compdb.CompileUnit(str(f), str(f.parent), args, "plain") for f in units]
        p = Plan(root, inp.kernel or "6.12", cus, diags, True, "plain")
    for d in p.diagnostics:
        d.file = _rel(d.file, p.root)
    return p


def _rel(path: str, root: str) -> str:
    r = os.path.relpath(path, root)
    return path if r.startswith("..") else r.replace(os.sep, "/")


def _plan_compdb(inp: Inputs, paths: list[Path]) -> Plan:
    wanted = [str(p.resolve()) for p in paths]
    keep = (lambda f: any(f == w or f.startswith(w.rstrip("/") + "/") for w in wanted)) if paths else None
    try:
        units, c_files = compdb.select_compdb(inp.compdb, keep)
    except compdb.CompdbError as e:
        raise InputError(str(e)) from None
    if not c_files:
        raise InputError(f"{_fsname(inp.compdb)}: compile database lists no C files")
    if not units:
        raise InputError(f"{', '.join(_fsname(p) for p in inp.paths)}: no entry of the compile database lies there")
    tree = compdb.find_kernel_root(Path(units[0].directory)) or compdb.find_kernel_root(Path(inp.compdb))
    root = str(tree) if tree else os.path.abspath(inp.cwd)
    kernel = inp.kernel or compdb.layout_for_version(compdb.kernel_version(Path(root)) if tree else None)
    return Plan(root, kernel, units, [], True, "compdb")


@dataclass
class Result:
    program: Program
    findings: list
    plan: Plan
    catalog: Catalog
    front_end: Stats = field(default_factory=Stats)  # cache hits, TUs parsed, workers lost


def parse_all(p: Plan, catalog: Catalog, progress=None, options: FrontEndOptions | None = None,
              stats: Stats | None = None) -> list[TUFacts]:
    """Facts of every unit in plan order: from the cache, in-process, or in worker processes.

    PROGRESS: an object with start/advance/finish (gfplint/progress.py), or a
    plain callable called once per unit.
    """
    if callable(progress) and not hasattr(progress, "advance"):
        progress = _CallPerUnit(progress, p.units)
    facts, run = parse_units(p.units, p.root, catalog, p.kernel, options or FrontEndOptions(), progress)
    if stats is not None:
        stats.__dict__.update(run.__dict__)
    return facts


class _CallPerUnit:
    """The old progress protocol: progress(unit) after each unit."""

    def __init__(self, fn, units):
        self.fn, self.units, self.i = fn, units, 0

    def start(self, total):
        pass

    def advance(self, cached=False, failed=False):
        self.fn(self.units[self.i])
        self.i += 1

    def finish(self):
        pass


def run_rules(prog: Program, catalog: Catalog, rules=None) -> list[Finding]:
    findings = []
    for mod in rules if rules is not None else all_rules():
        findings += list(mod.check(prog, catalog))
    return sorted(findings, key=Finding.sort_key)


def analyse(inp: Inputs, rules=None, progress=None) -> Result:
    catalog = _catalog(inp)
    p = plan(inp)
    stats = Stats()
    facts = parse_all(p, catalog, progress, inp.front_end, stats)
    prog = link(facts, catalog, p.root, p.kernel, through_fields=inp.through_fields,
                through_inlines=inp.through_inlines)
    prog.first_use = inp.first_use
    prog.diagnostics = p.diagnostics + prog.diagnostics
    prog.diagnostics += [Diagnostic(".", 0, 0, "note", n) for n in stats.notes]
    if not p.configured:
        prog.diagnostics.insert(0, Diagnostic(".", 0, 0, "warning",
                                              "kernel tree is not configured (no include/generated/autoconf.h): "
                                              "run 'make defconfig prepare' or pass -p for faithful parses"))
    return Result(prog, run_rules(prog, catalog, rules), p, catalog, stats)


def _catalog(inp: Inputs) -> Catalog:
    from .catalog import CatalogError

    from .context_catalog import ContextCatalogError, load_context_catalog

    try:
        catalog = load_catalog(Path(inp.catalog) if inp.catalog else None)
        # travels with the allocation catalog: to the workers, into the cache key, to the linker
        catalog.context = load_context_catalog(Path(inp.context_catalog) if inp.context_catalog else None)
    except (CatalogError, ContextCatalogError) as e:
        raise InputError(str(e)) from None
    return catalog
