"""Diff-only runs: unified diff parsing, and --diff-base/--diff on a small git repository."""
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from fixture_expect import EXAMPLE_INCLUDE, ROOT
from sarif_check import validate

from gfplint.cli import main
from gfplint.diffscope import changed_lines, touched
from gfplint.findings import Finding

REVIEW = ROOT / "tests" / "reviews" / "review.c"

GIT_DIFF = """\
diff --git a/fs/foo.c b/fs/foo.c
index 1111111..2222222 100644
--- a/fs/foo.c
+++ b/fs/foo.c
@@ -10,3 +10,4 @@ int foo(void)
 \tint a;
-\tp = kmalloc(8, GFP_KERNEL);
+\tp = kmalloc(16, GFP_KERNEL);
+\t++i;
 \treturn 0;
@@ -40,2 +41,0 @@ int bar(void)
-\tif (!p)
--- not a header, a removed line
diff --git a/mm/new.c b/mm/new.c
new file mode 100644
--- /dev/null
+++ b/mm/new.c
@@ -0,0 +1,2 @@
+int x;
++++ not a header, an added line
"""


def test_unified_diff_lines():
    assert changed_lines(GIT_DIFF) == {"fs/foo.c": {11, 12, 41, 42}, "mm/new.c": {1, 2}}


def test_plain_diff_u_keeps_paths():
    diff = "--- drivers/x.c.orig\t2024-01-01\n+++ drivers/x.c\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n"
    assert changed_lines(diff) == {"drivers/x.c": {1}}


def test_deleted_file_is_ignored():
    assert changed_lines("--- a/x.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n") == {}


def test_a_finding_is_touched_by_its_site_its_path_or_a_related_location():
    f = Finding("sleep-in-atomic", "error", "a.c", 50, 1, "f", "m", {"site_line": 48},
                path=[{"file": "b.c", "line": 7, "function": "g", "what": "lock"}])
    assert touched(f, {"a.c": {50}}) and touched(f, {"a.c": {48}}) and touched(f, {"b.c": {7}})
    assert not touched(f, {"a.c": {49}, "b.c": {8}})
    f.properties["related"] = [{"file": "c.h", "line": 3}]
    assert touched(f, {"c.h": {3}})


# ------------------------------------------------------------------ a git repository


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo,
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    shutil.copy(REVIEW, tmp_path / "review.c")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "review.c")
    git(tmp_path, "commit", "-q", "-m", "base")
    path = tmp_path / "review.c"
    text = path.read_text(encoding="utf-8")
    # the patch under review: a new allocation in frob_init, and frob_table's size changed
    text = text.replace("\t*out = f;\n", "\t*out = f;\n\tf->n = 0;\n\tkfree(kmalloc(128, GFP_NOWAIT));\n")
    text = text.replace("kmalloc(8 << 20, GFP_KERNEL)", "kmalloc(16 << 20, GFP_KERNEL)")
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*extra):
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--fail-on", "never", *extra, "review.c"])
    assert res.exit_code == 0, res.output
    return res


def rules_and_lines(res):
    return sorted((f["rule"], f["line"]) for f in json.loads(res.stdout)["findings"])


def test_diff_base_reports_only_changed_lines(repo):
    everything = rules_and_lines(check("--format", "json"))
    assert len(everything) == 7
    res = check("--format", "json", "--diff-base", "HEAD")
    # the new GFP_NOWAIT site (line 16) and the resized always-failing one; not frob_init's old findings
    assert rules_and_lines(res) == [("always-fails", 29), ("migrate", 16)]


def test_diff_file_gives_the_same_answer_and_valid_sarif(repo):
    patch = subprocess.run(["git", "diff", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout
    (repo / "change.patch").write_text(patch)
    from_git = rules_and_lines(check("--format", "json", "--diff-base", "HEAD"))
    from_file = rules_and_lines(check("--format", "json", "--diff", "change.patch"))
    assert from_file == from_git
    doc = validate(check("--format", "sarif", "--diff", "change.patch").stdout)
    assert len(doc["runs"][0]["results"]) == len(from_git)


def test_untouched_tree_reports_nothing(repo):
    git(repo, "commit", "-q", "-am", "the change")
    assert rules_and_lines(check("--format", "json", "--diff-base", "HEAD")) == []


def test_bad_revision_is_a_one_line_error(repo):
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--diff-base", "no-such-rev", "review.c"])
    assert res.exit_code == 2
    assert res.stderr.startswith("gfplint: error: git diff") and len(res.stderr.splitlines()) == 1


def test_not_a_diff_is_a_one_line_error(repo):
    (repo / "notes.txt").write_text("hello\n")
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--diff", "notes.txt", "review.c"])
    assert res.exit_code == 2 and "not a unified diff" in res.stderr
