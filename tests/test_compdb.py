"""Compile flags: Kbuild gcc commands translated for libclang, kernel-tree inference, plain files."""
import json
import shlex
from pathlib import Path

import pytest

from gfplint import compdb

KBUILD_CMD = (
    "gcc -Wp,-MMD,fs/foo/.bar.o.d -nostdinc -I./arch/x86/include -I./include -include ./include/linux/kconfig.h "
    "-D__KERNEL__ -Werror -std=gnu11 -mpreferred-stack-boundary=3 -mindirect-branch=thunk-extern "
    "-fno-allow-store-data-races -fconserve-stack -falign-jumps=1 -Wno-alloc-size-larger-than "
    "-Wimplicit-fallthrough=5 -Werror=designated-init -fpatchable-function-entry=16,16 -O2 "
    "-DKBUILD_MODNAME='\"foo\"' -c -o fs/foo/bar.o fs/foo/bar.c"
)


def test_translate_drops_gcc_only_flags_and_keeps_the_rest():
    args = compdb.translate_gcc_args(shlex.split(KBUILD_CMD), "/src/linux", "fs/foo/bar.c")
    for dropped in compdb.GCC_ONLY_FLAGS:
        assert dropped not in args
    assert not any(a.startswith("-fpatchable-function-entry") for a in args)
    assert "-c" not in args and "-o" not in args and "fs/foo/bar.o" not in args
    assert not any(a.startswith("-Wp,-M") for a in args)
    assert "fs/foo/bar.c" not in args and "/src/linux/fs/foo/bar.c" not in args
    assert "-I/src/linux/arch/x86/include" in args and "-I/src/linux/include" in args
    i = args.index("-include")
    assert args[i + 1] == "/src/linux/include/linux/kconfig.h"
    assert "-D__KERNEL__" in args and "-std=gnu11" in args and '-DKBUILD_MODNAME="foo"' in args
    assert "-Wno-error" in args


def test_load_compdb_command_and_arguments_forms(tmp_path):
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps([
        {"directory": "/src/linux", "file": "fs/foo/bar.c", "command": KBUILD_CMD},
        {"directory": "/src/linux", "file": "/src/linux/fs/foo/baz.c",
         "arguments": ["gcc", "-I", "include", "-c", "fs/foo/baz.c"]},
        {"directory": "/src/linux", "file": "arch/x86/entry.S", "command": "gcc -c arch/x86/entry.S"},
    ]))
    units = compdb.load_compdb(tmp_path)  # a directory holding the database works too
    assert [u.file for u in units] == ["/src/linux/fs/foo/bar.c", "/src/linux/fs/foo/baz.c"]
    assert units[1].args[:2] == ("-I", "/src/linux/include")
    assert all(u.origin == "compdb" for u in units)


def test_shell_metacharacters_are_never_interpreted(tmp_path):
    marker = tmp_path / "pwned"
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps([{"directory": str(tmp_path), "file": "a.c",
                               "command": f"gcc -DX=$(touch {marker}) `touch {marker}`; touch {marker} -c a.c"}]))
    units = compdb.load_compdb(db)
    assert any("$(touch" in a for a in units[0].args)
    assert not marker.exists()


def _fake_tree(root: Path, configured: bool, version=("6", "1")) -> Path:
    (root / "include" / "linux").mkdir(parents=True)
    (root / "arch" / "x86" / "include").mkdir(parents=True)
    (root / "MAINTAINERS").write_text("")
    (root / "Kbuild").write_text("")
    (root / "Makefile").write_text(f"VERSION = {version[0]}\nPATCHLEVEL = {version[1]}\nSUBLEVEL = 9\n")
    (root / "include" / "linux" / "kconfig.h").write_text("")
    if configured:
        (root / "include" / "generated").mkdir()
        (root / "include" / "generated" / "autoconf.h").write_text("")
    (root / "fs").mkdir()
    return root


def test_kernel_tree_detection_and_flags(tmp_path):
    tree = _fake_tree(tmp_path / "linux", configured=False)
    assert compdb.find_kernel_root(tree / "fs") == tree.resolve()
    assert compdb.find_kernel_root(tmp_path) is None
    assert compdb.kernel_version(tree) == "6.1"
    assert compdb.layout_for_version("6.1") == "6.1"
    assert compdb.layout_for_version("6.12") == "6.12"
    assert compdb.layout_for_version(None) == "6.12"
    args = compdb.kernel_tree_args(tree)
    assert "-D__KERNEL__" in args and "-std=gnu11" in args and "-nostdinc" in args
    assert ["-I", str(tree / "include")] == list(args[args.index("-I", args.index("-I") + 2) - 0: args.index("-I", args.index("-I") + 2) + 2]) or \
        str(tree / "include") in args
    assert "-include" in args and str(tree / "include/linux/kconfig.h") in args
    assert not compdb.kernel_tree_configured(tree)
    assert compdb.kernel_tree_configured(_fake_tree(tmp_path / "cfg", configured=True))


def test_unconfigured_tree_is_reported_honestly(tmp_path):
    from gfplint.analysis import Inputs, analyse

    tree = _fake_tree(tmp_path / "linux", configured=False, version=("6", "12"))
    (tree / "fs" / "a.c").write_text("#include <linux/slab.h>\nvoid *f(void) { return kmalloc(8, GFP_KERNEL); }\n")
    result = analyse(Inputs([str(tree / "fs")], cwd=str(tmp_path)))
    assert result.plan.origin == "kernel-tree"
    messages = [d.message for d in result.program.diagnostics]
    assert any("not configured" in m for m in messages)
    assert result.program.tus_with_errors == 1  # linux/slab.h is missing: a parse error, reported


def test_plain_args():
    args = compdb.plain_args(["inc"], ["FOO=1"])
    assert args[0] == "-I" and Path(args[1]).is_absolute() and "-DFOO=1" in args


def test_collect_c_files_skips_symlink_loops(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.c").write_text("")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    files = compdb.collect_c_files([tmp_path])
    assert [f.name for f in files] == ["a.c"]


@pytest.mark.parametrize("bad", ["[1, 2]", '[{"file": 3, "directory": "/"}]', '[{"file": "a.c", "directory": "/", "arguments": "gcc"}]'])
def test_bad_entries_raise_one_clear_error(tmp_path, bad):
    db = tmp_path / "compile_commands.json"
    db.write_text(bad)
    with pytest.raises(compdb.CompdbError, match="entry 0"):
        compdb.load_compdb(db)


def test_only_selected_entries_are_split(tmp_path):
    """A run over one directory of a 3,000-entry kernel database splits only that directory's
    commands (shlex over every entry was most of a warm run); the others are only shape-checked."""
    entries = [{"directory": str(tmp_path), "file": "a/x.c", "command": "gcc -c -DA a/x.c"},
               {"directory": str(tmp_path), "file": "b/y.c", "command": "gcc -c 'unbalanced b/y.c"}]
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps(entries))
    units, c_files = compdb.select_compdb(db, keep=lambda f: "/a/" in f)
    assert c_files == 2 and [Path(u.file).name for u in units] == ["x.c"] and "-DA" in units[0].args
    with pytest.raises(compdb.CompdbError, match="entry 1: cannot split command"):
        compdb.select_compdb(db, keep=lambda f: "/b/" in f)
    with pytest.raises(compdb.CompdbError, match="entry 1: cannot split command"):
        compdb.load_compdb(db)
