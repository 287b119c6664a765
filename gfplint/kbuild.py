"""Kbuild integration: `make C=1 CHECK="gfplint cc --facts-dir DIR"`, then `gfplint report`.

Kbuild runs the checker once per translation unit as
`$(CHECK) $(CHECKFLAGS) $(c_flags) file.c` (scripts/Makefile.build,
cmd_checksrc), from the top of the object tree, the way sparse and smatch run.
`cc` parses with exactly those flags (translated for libclang like a compile
database entry), prints what it can see in this one TU sparse-style, and
stores the TU's Facts; `report` links every stored Facts file into one program
and reports the whole-program findings.  The build itself is never failed by
a finding: `cc` exits 0 unless it was called wrongly.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from . import __version__, compdb
from .cache import code_fingerprint
from .catalog import Catalog
from .facts import TUFacts
from .program import Program, link

FACTS_SUFFIX = ".facts.json"
FORMAT = "gfplint-facts/v1"

# CHECKFLAGS meant for sparse (top-level Makefile) that clang rejects or redefines.
SPARSE_ONLY_PREFIXES = ("--arch=",)
SPARSE_ONLY_FLAGS = frozenset({"-D__STDC__", "-Wsparse-all", "-Wsparse-error", "-Wno-sparse-all"})


class KbuildError(ValueError):
    """Bad checker invocation or unusable facts directory (exit code 2)."""


CC_OPTIONS = ("--facts-dir", "--kernel", "--catalog")
KERNELS = ("6.1", "6.12")


def parse_cc_options(args: list[str]) -> tuple[tuple, list[str]]:
    """gfplint's own leading options of `cc` -> ((facts_dir, kernel, catalog), the compiler's arguments)."""
    values = dict.fromkeys(CC_OPTIONS)
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        if name not in CC_OPTIONS:
            break
        if not eq:
            if i + 1 >= len(args):
                raise KbuildError(f"cc: {name} needs a value")
            i += 1
            value = args[i]
        values[name] = value
        i += 1
    if not values["--facts-dir"]:
        raise KbuildError('cc: --facts-dir DIR is required (CHECK="gfplint cc --facts-dir DIR")')
    if values["--kernel"] and values["--kernel"] not in KERNELS:
        raise KbuildError(f"cc: --kernel {values['--kernel']}: not one of {', '.join(KERNELS)}")
    return tuple(values[o] for o in CC_OPTIONS), args[i:]


def split_invocation(args: list[str]) -> tuple[list[str], str]:
    """Kbuild's arguments -> (compiler flags, the source file): the last argument naming a .c file."""
    sources = [i for i, a in enumerate(args) if a.endswith(".c") and not a.startswith("-")]
    if not sources:
        raise KbuildError("cc: no C source file among the arguments (Kbuild passes it last)")
    i = sources[-1]
    flags = [a for a in args[:i] + args[i + 1:]
             if a not in SPARSE_ONLY_FLAGS and not a.startswith(SPARSE_ONLY_PREFIXES)]
    return flags, args[i]


def compile_unit(args: list[str], cwd: str) -> compdb.CompileUnit:
    flags, source = split_invocation(args)
    path = os.path.normpath(os.path.join(cwd, source))
    if not os.path.isfile(path):
        raise KbuildError(f"cc: {source}: no such file")
    argv = ["cc", *flags, source]  # argv[0] stands for the compiler Kbuild would have run
    return compdb.CompileUnit(path, cwd, compdb.translate_gcc_args(argv, cwd, source), "kbuild")


def analysis_root(unit: compdb.CompileUnit) -> str:
    """The kernel source tree holding the file (also right for O= builds), else the build directory."""
    tree = compdb.find_kernel_root(Path(unit.file))
    return str(tree) if tree else os.path.abspath(unit.directory)


def kernel_layout(root: str, override: str | None) -> str:
    return override or compdb.layout_for_version(compdb.kernel_version(Path(root)))


def facts_name(tu: str) -> str:
    """One file per TU; quoting every '/' keeps fs/ext4/super.c and fs_ext4_super.c apart."""
    return quote(tu, safe="") + FACTS_SUFFIX


def store(facts_dir: str, facts: TUFacts, root: str, kernel: str) -> str:
    from .report import write_atomically

    os.makedirs(facts_dir, exist_ok=True)
    doc = {"format": FORMAT, "gfplint": __version__, "frontend": code_fingerprint(), "root": root,
           "kernel": kernel, "facts": facts.to_dict()}
    path = os.path.join(facts_dir, facts_name(facts.tu))
    # Atomic: `make -j` runs many checkers at once, and report may read while one writes.
    write_atomically(path, json.dumps(doc, sort_keys=True) + "\n")
    return path


def sparse_lines(findings: list, diagnostics: list) -> list[str]:
    """What sparse users expect on stderr: file:line:col: level: message."""
    out = [f"{d.file}:{d.line}:{d.column}: {d.severity}: {d.message}" for d in diagnostics]
    out += [f"{f.file}:{f.line}:{f.column}: {f.level}: {f.message} [{f.rule}]" for f in findings]
    return out


def load_facts(facts_dir: str) -> tuple[list[TUFacts], str, str]:
    """All stored Facts, sorted by TU, with the root and kernel layout they were made for."""
    if not os.path.isdir(facts_dir):
        raise KbuildError(f"{facts_dir}: no such facts directory (run make C=1 CHECK=\"gfplint cc --facts-dir {facts_dir}\" first)")
    names = sorted(n for n in os.listdir(facts_dir) if n.endswith(FACTS_SUFFIX))
    if not names:
        raise KbuildError(f"{facts_dir}: holds no gfplint facts (run make C=1 CHECK=\"gfplint cc --facts-dir {facts_dir}\" first)")
    facts, roots, kernels = [], set(), set()
    for n in names:
        path = os.path.join(facts_dir, n)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("format") != FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT}")
            stored = TUFacts.from_dict(doc["facts"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise KbuildError(f"{path}: unusable facts file: {e}") from None
        if doc.get("frontend") != code_fingerprint():
            # Facts an older front end made lack what it did not record yet (first-use marks,
            # guards): linking them would silently change findings.  C=2: after an upgrade
            # nothing is recompiled, so C=1 would not check a file again.
            raise KbuildError(f"{path}: made by another gfplint front end (gfplint {doc.get('gfplint')}); "
                              f"rebuild the facts: make C=2 CHECK=\"gfplint cc --facts-dir {facts_dir}\"")
        facts.append(stored)
        roots.add(doc["root"])
        kernels.add(doc["kernel"])
    if len(roots) > 1:
        raise KbuildError(f"{facts_dir}: facts from several trees ({', '.join(sorted(roots))}); use one directory per tree")
    if len(kernels) > 1:
        raise KbuildError(f"{facts_dir}: facts made for several flag layouts ({', '.join(sorted(kernels))})")
    return facts, roots.pop(), kernels.pop()


def link_stored(facts_dir: str, catalog: Catalog, kernel: str | None = None) -> Program:
    facts, root, stored_kernel = load_facts(facts_dir)
    return link(facts, catalog, root, kernel or stored_kernel)
