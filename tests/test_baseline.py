"""Baselines survive code moving: line shifts and renamed neighbours do not resurrect findings."""
import json
import os
import shutil

import pytest

from click.testing import CliRunner

from fixture_expect import EXAMPLE_INCLUDE, ROOT

from gfplint import baseline
from gfplint.cli import main
from gfplint.findings import Finding

REVIEW = ROOT / "tests" / "reviews" / "review.c"


@pytest.fixture(autouse=True)
def _keep_cwd(monkeypatch):
    monkeypatch.chdir(os.getcwd())  # restored after each test; check() moves into tmp_path


def check(tmp_path, *extra):
    os.chdir(tmp_path)  # the analysis root of plain files: paths in keys are relative to it
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--format", "json", "--fail-on", "never",
                                    *extra, str(tmp_path / "review.c")])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["findings"], res.stderr


def setup(tmp_path):
    shutil.copy(REVIEW, tmp_path / "review.c")
    findings, _ = check(tmp_path, "--write-baseline", str(tmp_path / "base.json"))
    assert len(findings) == 6
    return tmp_path / "base.json"


def edit(tmp_path, *pairs):
    path = tmp_path / "review.c"
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def test_baseline_file_is_readable_and_line_independent(tmp_path):
    base = setup(tmp_path)
    doc = json.loads(base.read_text())
    assert doc["format"] == baseline.FORMAT
    row = next(r for r in doc["findings"] if r["rule"] == "always-fails")
    assert row["file"] == "review.c" and row["function"] == "frob_table" and row["api"] == "kmalloc" and row["call"].startswith("kmalloc(")
    assert row["key"].endswith(":1")


def test_inserted_lines_and_renamed_neighbours_do_not_resurrect_findings(tmp_path):
    base = setup(tmp_path)
    edit(tmp_path,
         ("struct frob { int n;", "/* moved down\n * by\n * five\n * lines\n */\nstruct frob { int n;"),
         ("char *frob_rx(", "char *frob_receive("),
         ("void *frob_table(void)", "static int frob_unused;\n\nvoid *frob_big_table(void)"))
    new, _ = check(tmp_path, "--baseline", str(base))
    # frob_init's findings moved five lines down: still known
    assert not [f for f in new if f["function"] == "frob_init"]
    # the renamed functions' findings are new only because their own function changed name
    assert {f["function"] for f in new} == {"frob_receive", "frob_big_table"}


def test_only_moved_code_reports_nothing(tmp_path):
    base = setup(tmp_path)
    edit(tmp_path, ("#include <linux/gfp.h>\n", "#include <linux/gfp.h>\n\n/* a new comment */\n\n"))
    new, _ = check(tmp_path, "--baseline", str(base))
    assert new == []


def test_a_new_site_is_reported_and_removed_ones_are_listed_as_fixed(tmp_path):
    base = setup(tmp_path)
    edit(tmp_path,
         ("\treturn kmalloc(8 << 20, GFP_KERNEL);", "\treturn kmalloc(16 << 20, GFP_KERNEL);"),
         ("\t*out = f;", "\t*out = f;\n\tf->name[0] = *(char *)kmalloc(64, GFP_NOWAIT);"))
    new, err = check(tmp_path, "--baseline", str(base), "--show-fixed")
    assert sorted((f["rule"], f["function"]) for f in new) == [
        ("always-fails", "frob_table"),  # its call changed: a different finding now
        ("migrate", "frob_init"),  # the new GFP_NOWAIT site
    ]
    fixed = [l for l in err.splitlines() if l.startswith("gfplint: fixed:")]
    assert len(fixed) == 1 and "always-fails in frob_table()" in fixed[0] and "review.c: " in fixed[0] and "kmalloc(8<<20,GFP_KERNEL)" in fixed[0]


def test_identical_calls_in_one_function_are_told_apart():
    a = Finding("migrate", "note", "f.c", 10, 2, "fn", "m", api="kmalloc", call="kmalloc(8, GFP_KERNEL)")
    b = Finding("migrate", "note", "f.c", 20, 2, "fn", "m", api="kmalloc", call="kmalloc(8,  GFP_KERNEL)")
    ka, kb = baseline.finding_keys([b, a])[::-1]
    assert ka.endswith(":1") and kb.endswith(":2") and ka[:-2] == kb[:-2]
    new, fixed = baseline.compare([a], {ka: {"key": ka}, kb: {"key": kb, "file": "f.c", "line": 20}})
    assert new == [] and [r["key"] for r in fixed] == [kb]


def test_bad_baseline_is_a_one_line_error(tmp_path):
    (tmp_path / "bad.json").write_text("{\"findings\": 3}")
    shutil.copy(REVIEW, tmp_path / "review.c")
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--baseline", str(tmp_path / "bad.json"),
                                    str(tmp_path / "review.c")])
    assert res.exit_code == 2
    assert "not a gfplint baseline" in res.output
