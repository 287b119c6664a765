"""The command line: output format, exit codes, and one-line errors for bad input."""
import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fixture_expect import EXAMPLE_INCLUDE, FIXTURES

from gfplint.cli import main

VERDICTS = FIXTURES / "verdicts.c"


def run(args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gfplint", *args], cwd=cwd, capture_output=True, text=True)


def check_args(*extra):
    return ["check", "-I", str(EXAMPLE_INCLUDE), *extra]


def test_text_output_is_compiler_style():
    proc = run(check_args(str(VERDICTS)), cwd=FIXTURES)
    lines = [l for l in proc.stdout.splitlines() if not l.startswith("gfplint:")]
    assert lines
    pattern = re.compile(r"^[\w./-]+\.c:\d+:\d+: (note|warning|error): .+ \[[a-z-]+\]$")
    assert all(pattern.match(l) for l in lines), lines
    assert any(l.startswith("verdicts.c:") for l in lines)
    summary = [l for l in proc.stdout.splitlines() if l.startswith("gfplint:")]
    assert "allocation sites in 1 translation units" in summary[0]


def test_exit_code_follows_fail_on():
    # verdicts.c has always-fails errors: exit 1 by default
    assert run(check_args(str(VERDICTS)), cwd=FIXTURES).returncode == 1
    assert run(check_args("--fail-on", "never", str(VERDICTS)), cwd=FIXTURES).returncode == 0
    # gfpvars.c has only notes: error threshold passes, note threshold fails
    gfpvars = str(FIXTURES / "gfpvars.c")
    assert run(check_args(gfpvars), cwd=FIXTURES).returncode == 0
    assert run(check_args("--fail-on", "note", gfpvars), cwd=FIXTURES).returncode == 1


def test_json_document_shape(tmp_path):
    out = tmp_path / "r.json"
    proc = run(check_args("--format", "json", "-o", str(out), "--fail-on", "never", str(VERDICTS)), cwd=FIXTURES)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert set(doc) >= {"version", "root", "sites", "findings", "diagnostics"}
    site_keys = {"file", "line", "column", "function", "api", "gfp", "flags", "size", "order", "verdict",
                 "reasons", "checked", "error_path"}
    assert all(site_keys <= set(s) for s in doc["sites"])
    finding_keys = {"rule", "level", "file", "line", "column", "function", "message", "properties"}
    assert doc["findings"] and all(finding_keys <= set(f) for f in doc["findings"])
    assert all(s["file"] == "verdicts.c" for s in doc["sites"])


def test_select_and_ignore():
    proc = run(check_args("--select", "always-fails", "--format", "json", str(VERDICTS)), cwd=FIXTURES)
    rules = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert rules == {"always-fails"}
    proc = run(check_args("--ignore", "always-fails,migrate", "--format", "json", str(VERDICTS)), cwd=FIXTURES)
    rules = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert "always-fails" not in rules and "migrate" not in rules and "too-small-to-fail" in rules
    assert proc.returncode == 0


def test_rules_lists_every_rule():
    out = CliRunner().invoke(main, ["rules"]).output
    for rid in ("too-small-to-fail", "dead-error-path", "migrate", "unchecked-may-fail", "always-fails"):
        assert rid in out


def test_explain_prints_examples():
    res = CliRunner().invoke(main, ["explain", "dead-error-path"])
    assert res.exit_code == 0
    assert "Bad:" in res.output and "Good:" in res.output and "fault injection" in res.output


# ------------------------------------------------------------------ bad input


def one_line_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("gfplint: error: ")
    for f in fragments:
        assert f in err[0], err[0]
    assert "Traceback" not in proc.stderr


def test_missing_path(tmp_path):
    one_line_error(run(["check", str(tmp_path / "nope.c")]), "nope.c", "no such file")


def test_directory_without_c_files(tmp_path):
    (tmp_path / "README").write_text("nothing here\n")
    one_line_error(run(["check", str(tmp_path)]), "no C files")


def test_binary_file(tmp_path):
    f = tmp_path / "blob.c"
    f.write_bytes(b"int x;\0\x01\x02")
    one_line_error(run(["check", str(f)]), "blob.c", "binary file")


def test_binary_file_in_directory_is_a_diagnostic(tmp_path):
    (tmp_path / "blob.c").write_bytes(b"\0\0\0")
    (tmp_path / "ok.c").write_text("int f(void) { return 0; }\n")
    proc = run(["check", "--format", "json", str(tmp_path)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert any("binary" in d["message"] and d["file"] == "blob.c" for d in doc["diagnostics"])


def test_non_utf8_source_is_parsed(tmp_path):
    f = tmp_path / "latin1.c"
    f.write_bytes(b"/* caf\xe9 */\n#include <linux/slab.h>\nvoid *f(void) { return kmalloc(8, GFP_KERNEL); }\n")
    proc = run(["check", "-I", str(EXAMPLE_INCLUDE), "--format", "json", str(f)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [s["verdict"] for s in json.loads(proc.stdout)["sites"]] == ["too-small-to-fail"]


def test_non_utf8_file_name(tmp_path):
    name = os.fsencode(str(tmp_path)) + b"/bad\xff.c"
    with open(name, "wb") as f:
        f.write(b"int x;\n")
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", os.fsdecode(name) + "x"],
                          capture_output=True, text=True)
    one_line_error(proc, "no such file")
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_unparsable_file_is_a_diagnostic_not_a_crash(tmp_path):
    (tmp_path / "broken.c").write_text("int f( { this is not C\n")
    (tmp_path / "fine.c").write_text('#include <linux/slab.h>\nvoid *g(void) { return kmalloc(8, GFP_KERNEL); }\n')
    proc = run(["check", "-I", str(EXAMPLE_INCLUDE), "--format", "json", str(tmp_path)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert any(d["file"] == "broken.c" and d["severity"] == "error" for d in doc["diagnostics"])
    assert [s["file"] for s in doc["sites"]] == ["fine.c"]
    assert doc["summary"]["tus_with_parse_errors"] == 1


def test_unknown_rule_id():
    one_line_error(run(["check", "--select", "no-such-rule", str(VERDICTS)]), "no-such-rule")
    one_line_error(run(["explain", "no-such-rule"]), "no-such-rule")


def test_unreadable_compile_database(tmp_path):
    one_line_error(run(["check", "-p", str(tmp_path / "missing.json")]), "missing.json")


@pytest.mark.parametrize("content,fragment", [
    ("{not json", "malformed"),
    ('{"a": 1}', "JSON array"),
    ('[{"file": "x.c"}]', "entry 0"),
    ('[{"file": "x.c", "directory": "/tmp"}]', "arguments"),
    ('[{"file": "x.c", "directory": "/tmp", "command": "gcc \\"unterminated"}]', "cannot split"),
])
def test_malformed_compile_database(tmp_path, content, fragment):
    db = tmp_path / "compile_commands.json"
    db.write_text(content)
    one_line_error(run(["check", "-p", str(db)]), fragment)


def test_binary_compile_database(tmp_path):
    db = tmp_path / "compile_commands.json"
    db.write_bytes(b"\xff\xfe\x00garbage")
    one_line_error(run(["check", "-p", str(db)]), "compile_commands.json")


def test_no_partial_output_file_on_error(tmp_path):
    out = tmp_path / "report.json"
    proc = run(["check", "--format", "json", "-o", str(out), str(tmp_path / "missing.c")])
    assert proc.returncode == 2
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir()]


def test_unwritable_output_directory(tmp_path):
    proc = run(check_args("-o", str(tmp_path / "no" / "dir" / "r.txt"), str(VERDICTS)), cwd=FIXTURES)
    one_line_error(proc, "cannot write")


def test_compile_database_entries_outside_paths(tmp_path):
    src = tmp_path / "a.c"
    src.write_text('#include <linux/slab.h>\nvoid *g(void) { return kmalloc(8, GFP_KERNEL); }\n')
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps([{"directory": str(tmp_path), "file": "a.c",
                               "arguments": ["gcc", "-I", str(EXAMPLE_INCLUDE), "-c", "-o", "a.o", "a.c"]}]))
    proc = run(["check", "-p", str(db), "--format", "json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [s["verdict"] for s in json.loads(proc.stdout)["sites"]] == ["too-small-to-fail"]
    other = tmp_path / "sub"
    other.mkdir()
    one_line_error(run(["check", "-p", str(db), str(other)], cwd=tmp_path), "no entry")


def test_help_explains_itself():
    res = CliRunner().invoke(main, ["check", "--help"])
    assert res.exit_code == 0
    for opt in ("-p", "--kernel-tree", "--format", "--fail-on", "--select", "Exit status"):
        assert opt in res.output


def test_output_file_has_ordinary_permissions(tmp_path):
    out = tmp_path / "r.txt"
    proc = run(check_args("--fail-on", "never", "-o", str(out), str(VERDICTS)), cwd=FIXTURES)
    assert proc.returncode == 0, proc.stderr
    mask = os.umask(0)
    os.umask(mask)
    assert (out.stat().st_mode & 0o777) == (0o666 & ~mask)
