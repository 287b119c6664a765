"""Kbuild two-step: `gfplint cc` as make C=1 CHECK=... calls it, then `gfplint report`."""
import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fixture_expect import ROOT
from sarif_check import validate

from gfplint.cli import main
from gfplint.kbuild import KbuildError, facts_name, split_invocation

EXAMPLES = ROOT / "examples"
UNITS = ("drivers/net/acme/acme_main.c", "fs/tinyfs/super.c", "mm/toypool.c")


def kbuild_argv(source: str) -> list[str]:
    """What scripts/Makefile.build's cmd_checksrc passes: $(CHECKFLAGS) $(c_flags) $<."""
    obj = source[:-2]
    checkflags = ["-D__linux__", "-Dlinux", "-D__STDC__", "-Dunix", "-D__unix__", "-Wbitwise", "-Wno-return-void",
                  "-Wno-unknown-attribute", "-D__x86_64__", "--arch=x86", "-mlittle-endian", "-m64"]
    c_flags = [f"-Wp,-MMD,{os.path.dirname(obj)}/.{os.path.basename(obj)}.o.d", "-nostdinc", "-I./include",
               "-include", "./include/linux/kconfig.h", "-D__KERNEL__", "-std=gnu11", "-fno-strict-aliasing",
               "-fshort-wchar", "-funsigned-char", "-fno-PIE", "-mno-sse",  # -fshort-wchar: not click's -h
               "-mindirect-branch=thunk-extern", "-fconserve-stack", "-Werror", "-O2",
               f"-DKBUILD_MODFILE=\"{obj}\"", f"-DKBUILD_BASENAME=\"{os.path.basename(obj)}\"",
               f"-DKBUILD_MODNAME=\"{os.path.basename(obj)}\""]
    return checkflags + c_flags + [source]


def gfplint(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gfplint", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def facts_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("facts")
    for src in UNITS:
        proc = gfplint("cc", "--facts-dir", str(d), *kbuild_argv(src), cwd=EXAMPLES)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == ""  # Kbuild's output stays clean; findings go to stderr
        lines = proc.stderr.splitlines()
        assert all(l.startswith(src + ":") for l in lines), lines
        assert all(" [" in l and l.endswith("]") for l in lines), lines
    return d


def test_cc_stores_one_facts_file_per_unit(facts_dir):
    names = sorted(os.listdir(facts_dir))
    assert names == sorted(facts_name(u) for u in UNITS)
    doc = json.loads((facts_dir / facts_name("mm/toypool.c")).read_text())
    assert doc["root"] == str(EXAMPLES) and doc["kernel"] == "6.12"
    assert doc["facts"]["tu"] == "mm/toypool.c" and doc["facts"]["sites"] and doc["facts"]["parse_errors"] == 0


def test_cc_prints_sparse_style_findings(tmp_path):
    proc = gfplint("cc", "--facts-dir", str(tmp_path), *kbuild_argv("mm/toypool.c"), cwd=EXAMPLES)
    assert proc.returncode == 0
    assert re.search(r"^mm/toypool\.c:\d+:\d+: note: error handling for mempool_alloc\(\) at line \d+ is dead .*"
                     r"\[dead-error-path\]$", proc.stderr, re.M)
    acme = "drivers/net/acme/acme_main.c"
    proc = gfplint("cc", "--facts-dir", str(tmp_path), *kbuild_argv(acme), cwd=EXAMPLES)
    assert proc.returncode == 0  # even with an always-fails error: a finding never breaks the build
    assert re.search(rf"^{acme}:\d+:\d+: error: kmalloc\(\) of 6291456 bytes with GFP_KERNEL always fails.*"
                     r"\[always-fails\]$", proc.stderr, re.M)


def test_cc_help_documents_the_two_steps():
    res = CliRunner().invoke(main, ["cc", "--help"])
    assert res.exit_code == 0 and "make C=1" in res.output and "gfplint report" in res.output


def test_cc_options_come_first_and_are_checked():
    from gfplint.kbuild import parse_cc_options

    assert parse_cc_options(["--facts-dir=/f", "--kernel", "6.1", "-fshort-wchar", "a.c"]) == (
        ("/f", "6.1", None), ["-fshort-wchar", "a.c"])
    with pytest.raises(KbuildError, match="required"):
        parse_cc_options(["-O2", "a.c"])
    with pytest.raises(KbuildError, match="not one of"):
        parse_cc_options(["--facts-dir", "/f", "--kernel", "5.4", "a.c"])


def test_report_matches_a_whole_tree_check(facts_dir):
    proc = gfplint("report", "--facts-dir", str(facts_dir), "--format", "json", "--fail-on", "never", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    linked = json.loads(proc.stdout)
    direct = json.loads(gfplint("check", "--format", "json", "--fail-on", "never", ".", cwd=EXAMPLES).stdout)
    key = lambda f: (f["file"], f["line"], f["column"], f["rule"], f["message"])  # noqa: E731
    assert sorted(map(key, linked["findings"])) == sorted(map(key, direct["findings"]))
    assert linked["summary"]["tus"] == len(UNITS)


def test_report_sarif_and_statistics(facts_dir, tmp_path):
    out = tmp_path / "kbuild.sarif"
    res = CliRunner().invoke(main, ["report", "--facts-dir", str(facts_dir), "--format", "sarif", "-o", str(out),
                                    "--category", "kbuild-x86_64", "--statistics", "--fail-on", "never"])
    assert res.exit_code == 0, res.output
    doc = validate(out.read_text())
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == EXAMPLES.as_uri() + "/"
    assert "total" in res.stderr and "dead-error-path" in res.stderr


def test_report_exit_code_follows_fail_on(facts_dir):
    res = CliRunner().invoke(main, ["report", "--facts-dir", str(facts_dir)])
    assert res.exit_code == 1  # acme_main.c has an always-fails error


def test_invocation_without_a_source_is_a_usage_error(tmp_path):
    with pytest.raises(KbuildError):
        split_invocation(["-D__KERNEL__", "-I./include"])
    proc = gfplint("cc", "--facts-dir", str(tmp_path), "-D__KERNEL__", cwd=EXAMPLES)
    assert proc.returncode == 2 and "no C source file" in proc.stderr


def test_sparse_only_flags_are_dropped():
    flags, src = split_invocation(kbuild_argv("mm/toypool.c"))
    assert src == "mm/toypool.c"
    assert "--arch=x86" not in flags and "-D__STDC__" not in flags and "-Wbitwise" in flags


def test_report_on_an_empty_directory_says_what_to_do(tmp_path):
    res = CliRunner().invoke(main, ["report", "--facts-dir", str(tmp_path)])
    assert res.exit_code == 2 and "make C=1" in res.stderr


def test_report_refuses_facts_from_another_front_end(facts_dir, tmp_path):
    """Facts stored by an older gfplint lack what its front end did not record (first-use marks):
    report says to rebuild them instead of linking them."""
    stale = tmp_path / "stale"
    stale.mkdir()
    doc = json.loads((facts_dir / facts_name("mm/toypool.c")).read_text())
    doc["frontend"] = "0" * 64
    (stale / facts_name("mm/toypool.c")).write_text(json.dumps(doc))
    res = CliRunner().invoke(main, ["report", "--facts-dir", str(stale)])
    assert res.exit_code == 2
    path = str(stale / facts_name("mm/toypool.c"))
    assert res.stderr.count(path) == 1 and "made by another gfplint front end" in res.stderr
    assert "make C=2" in res.stderr  # C=1 would not recheck files an upgrade did not recompile
