"""The bundled example tree (what `make demo` analyses) matches its inline expectations."""
import json
import subprocess
import sys

from fixture_expect import ROOT, check_expectations

from gfplint.analysis import Inputs, analyse

EXAMPLES = ROOT / "examples"


def test_examples_tree_is_recognised_as_a_kernel_tree():
    result = analyse(Inputs([str(EXAMPLES)], cwd=str(EXAMPLES)))
    assert result.plan.origin == "kernel-tree"
    assert result.plan.kernel == "6.12"
    assert result.program.root == str(EXAMPLES.resolve())
    assert not result.program.diagnostics


def test_examples_match_expectations():
    result = analyse(Inputs([str(EXAMPLES)], cwd=str(EXAMPLES)))
    files = {p.relative_to(EXAMPLES).as_posix(): p for p in sorted(EXAMPLES.rglob("*.c"))}
    assert len(files) >= 3
    check_expectations(result, files)


def test_demo_command_runs(tmp_path):
    """`make demo` runs this command; it must succeed and report every verdict kind."""
    out = tmp_path / "demo.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gfplint", "check", "--fail-on", "never", "--format", "json", "-o", str(out), "."],
        cwd=EXAMPLES, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    verdicts = {s["verdict"] for s in doc["sites"]}
    assert verdicts == {"nofail", "too-small-to-fail", "may-fail", "always-fails", "unknown"}
    assert all(not s["file"].startswith("/") for s in doc["sites"])
