"""Compile flags for libclang: a compile database, a kernel tree, or plain files.

Kbuild writes gcc command lines (scripts/clang-tools/gen_compile_commands.py).
libclang 18 rejects some gcc flags outright and turns others into errors under
Kbuild's -Werror; those are dropped here (GCC_ONLY_FLAGS, measured in
FRONTEND-NOTES.md).  Commands are split with shlex, never run through a shell.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path


class CompdbError(ValueError):
    """Unusable compile-flag input (exit code 2)."""


@dataclass(frozen=True)
class CompileUnit:
    file: str  # absolute path of the source file
    directory: str  # working directory of the original command
    args: tuple  # libclang arguments, paths made absolute, no source file
    origin: str  # compdb | kernel-tree | plain


# gcc-only flags that libclang 18 rejects or that become errors (FRONTEND-NOTES.md).
GCC_ONLY_FLAGS = frozenset(
    {
        "-mpreferred-stack-boundary=3",
        "-mindirect-branch=thunk-extern",
        "-mindirect-branch-register",
        "-mindirect-branch-cs-prefix",
        "-mfunction-return=thunk-extern",
        "-mskip-rax-setup",
        "-fno-allow-store-data-races",
        "-fconserve-stack",
        "-falign-jumps=1",
        "-falign-loops=1",
        "-fno-stack-clash-protection",
        "-fzero-call-used-regs=used-gpr",
        "-Wno-alloc-size-larger-than",
        "-Wno-dangling-pointer",
        "-Wno-maybe-uninitialized",
        "-Wno-packed-not-aligned",
        "-Wno-stringop-overflow",
        "-Wno-stringop-truncation",
        "-Wimplicit-fallthrough=5",
        "-Werror=designated-init",
        "-Werror",
    }
)
# Prefixes of gcc-only flag families with arguments.
GCC_ONLY_PREFIXES = ("-fpatchable-function-entry=", "-fmin-function-alignment=", "-mrecord-mcount",
                     "-fplugin", "-fsanitize-coverage", "-mharden-sls", "-fconserve")
# Flags that take the next argument as a separate word and are dropped with it.
_DROP_WITH_ARG = {"-o", "-MF", "-MT", "-MQ"}
_DROP = {"-c", "-MD", "-MMD", "-MP"}
# Flags whose (attached or separate) argument is a path relative to the command's directory.
_PATH_FLAGS = ("-I", "-include", "-isystem", "-iquote", "-idirafter", "-imacros")

# Added to every parse: clang-only warnings must never become errors.
EXTRA_ARGS = ("-Wno-error", "-Wno-unknown-warning-option", "-Wno-unused-command-line-argument")


def _absolute(path: str, directory: str) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(directory, path))


def translate_gcc_args(argv: list[str], directory: str, source: str) -> tuple:
    """A gcc command line (argv[0] is the compiler) -> libclang arguments."""
    out: list[str] = []
    src = os.path.normpath(_absolute(source, directory))
    i = 1
    while i < len(argv):
        a = argv[i]
        i += 1
        if a in _DROP or a in GCC_ONLY_FLAGS or a.startswith(GCC_ONLY_PREFIXES) or a.startswith("-Wp,-M"):
            continue
        if a in _DROP_WITH_ARG:
            i += 1
            continue
        if a in _PATH_FLAGS and i < len(argv):
            out += [a, _absolute(argv[i], directory)]
            i += 1
            continue
        attached = next((f for f in ("-I", "-isystem", "-iquote", "-idirafter") if a.startswith(f) and len(a) > len(f)), None)
        if attached:
            out.append(attached + _absolute(a[len(attached):], directory))
            continue
        if not a.startswith("-") and os.path.normpath(_absolute(a, directory)) == src:
            continue
        out.append(a)
    return tuple(out) + EXTRA_ARGS


def _entries(path: Path) -> list:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise CompdbError(f"{path}: not a text file (compile_commands.json must be UTF-8 JSON)") from None
    except OSError as e:
        raise CompdbError(f"{path}: cannot read: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise CompdbError(f"{path}:{e.lineno}:{e.colno}: malformed compile_commands.json: {e.msg}") from None
    if not isinstance(doc, list):
        raise CompdbError(f"{path}: malformed compile_commands.json: expected a JSON array of entries")
    return doc


def _entry_file(entry, path: Path, index: int) -> str:
    """The entry's source file as an absolute, normalized path (the entry's shape checked)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not isinstance(entry.get("directory"), str):
        raise CompdbError(f"{path}: entry {index}: needs string 'file' and 'directory'")
    return os.path.normpath(_absolute(entry["file"], entry["directory"]))


def _unit(entry, path: Path, index: int) -> CompileUnit:
    where = f"{path}: entry {index}"
    _entry_file(entry, path, index)
    if isinstance(entry.get("arguments"), list) and all(isinstance(a, str) for a in entry["arguments"]):
        argv = entry["arguments"]
    elif isinstance(entry.get("command"), str):
        try:
            argv = shlex.split(entry["command"])
        except ValueError as e:
            raise CompdbError(f"{where}: cannot split command: {e}") from None
    else:
        raise CompdbError(f"{where}: needs 'arguments' (list) or 'command' (string)")
    if not argv:
        raise CompdbError(f"{where}: empty command")
    directory = entry["directory"]
    file = os.path.normpath(_absolute(entry["file"], directory))
    return CompileUnit(file, directory, translate_gcc_args(argv, directory, entry["file"]), "compdb")


def load_compdb(path_or_dir: str | os.PathLike) -> list[CompileUnit]:
    """Read compile_commands.json (a file, or a directory holding one)."""
    return select_compdb(path_or_dir)[0]


def select_compdb(path_or_dir: str | os.PathLike, keep=None) -> tuple[list[CompileUnit], int]:
    """The C units of a compile database whose file KEEP accepts (all when None), and how many C
    files it lists.  Commands are split and translated only for kept entries: a whole-kernel
    database has 3,000 entries, and a run over one directory should not pay shlex for all of them
    (that was most of a warm run's time)."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / "compile_commands.json"
    if not path.exists():
        raise CompdbError(f"{path}: no such compile database")
    units, c_files = [], 0
    for i, e in enumerate(_entries(path)):
        file = _entry_file(e, path, i)
        if not file.endswith(".c"):
            continue
        c_files += 1
        if keep is None or keep(file):
            units.append(_unit(e, path, i))
    return units, c_files


# ---------------------------------------------------------------- kernel trees


def is_kernel_root(d: Path) -> bool:
    return (d / "MAINTAINERS").is_file() and (d / "Kbuild").is_file() and (d / "include" / "linux").is_dir()


def find_kernel_root(start: Path) -> Path | None:
    """The nearest ancestor (or START itself) that looks like a kernel tree root."""
    p = start.resolve()
    if p.is_file():
        p = p.parent
    for d in (p, *p.parents):
        if is_kernel_root(d):
            return d
    return None


def kernel_version(root: Path) -> str | None:
    """'6.12' from the top-level Makefile's VERSION/PATCHLEVEL, None when absent."""
    try:
        head = (root / "Makefile").read_text(errors="replace")[:2000]
    except OSError:
        return None
    v = re.search(r"^VERSION\s*=\s*(\d+)", head, re.M)
    p = re.search(r"^PATCHLEVEL\s*=\s*(\d+)", head, re.M)
    return f"{v.group(1)}.{p.group(1)}" if v and p else None


def layout_for_version(version: str | None) -> str:
    """The flag layout gfplint models for a tree version (6.1 layout before 6.3)."""
    if not version:
        return "6.12"
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return "6.12"
    return "6.1" if (major, minor) < (6, 3) else "6.12"


def kernel_tree_args(root: Path, arch: str = "x86") -> tuple:
    """Flags Kbuild would pass for ARCH, inferred without a compile database."""
    r = root.resolve()
    inc = []
    for d in (f"arch/{arch}/include", f"arch/{arch}/include/generated", "include",
              f"arch/{arch}/include/uapi", f"arch/{arch}/include/generated/uapi",
              "include/uapi", "include/generated/uapi"):
        if (r / d).is_dir():
            inc += ["-I", str(r / d)]
    pre = []
    for h in ("include/linux/compiler-version.h", "include/linux/kconfig.h", "include/linux/compiler_types.h"):
        if (r / h).is_file():
            pre += ["-include", str(r / h)]
    return tuple(["-nostdinc", *inc, *pre, "-D__KERNEL__", "-std=gnu11", "-fno-strict-aliasing",
                  "-funsigned-char", "-fshort-wchar"] + (["-m64"] if arch == "x86" else [])) + EXTRA_ARGS


def kernel_tree_configured(root: Path) -> bool:
    """Generated headers exist (make prepare has run): parses will be faithful."""
    return (root / "include" / "generated" / "autoconf.h").is_file()


def plain_args(includes: list[str], defines: list[str]) -> tuple:
    args = []
    for d in includes:
        args += ["-I", os.path.abspath(d)]
    for m in defines:
        args.append("-D" + m)
    return tuple(args + ["-std=gnu11"]) + EXTRA_ARGS


def collect_c_files(paths: list[Path]) -> list[Path]:
    """C files named by PATHS (files, or directories walked without following links)."""
    out = []
    for p in paths:
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".c")]
        else:
            out.append(p)
    seen, unique = set(), []
    for f in out:
        key = os.path.normpath(os.path.abspath(f))
        if key not in seen:
            seen.add(key)
            unique.append(Path(key))
    return unique
