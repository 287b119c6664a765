"""The triage scripts behind the precision figures: bench/sample_findings.py and bench/compare_findings.py."""
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _finding(file, line, entry):
    return {"rule": "sleep-in-atomic", "file": file, "line": line, "column": 1, "function": "f", "message": "m",
            "path": [{"file": "e.c", "line": 1, "function": entry, "what": "spin_lock(&l) acquired here"}]}


def _run(script, *args):
    proc = subprocess.run([sys.executable, str(BENCH / script), *map(str, args)], capture_output=True, text=True,
                          cwd=BENCH)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_compare_lists_gone_new_and_moved_findings(tmp_path):
    old = {"findings": [_finding("a.c", 1, "x"), _finding("b.c", 2, "x"), _finding("c.c", 3, "x")]}
    new = {"findings": [_finding("a.c", 1, "x"), _finding("c.c", 3, "y"), _finding("d.c", 4, "x")]}
    verdicts = {"b.c:2:x": {"verdict": "FALSE POSITIVE"}}
    for name, doc in (("old.json", old), ("new.json", new), ("v.json", verdicts)):
        (tmp_path / name).write_text(json.dumps(doc))
    out = _run("compare_findings.py", tmp_path / "old.json", tmp_path / "new.json", "--verdicts", tmp_path / "v.json")
    assert "# sleep-in-atomic: 3 -> 3; shared 1" in out
    gone, added = out.split("## only in new")
    assert "FALSE POSITIVE  b.c:2:x" in gone
    assert "c.c:3:x  (moved: c.c:3:y)" in gone
    assert "d.c:4:x" in added and "c.c:3:y  (moved: c.c:3:x)" in added


def test_sample_counts_precision_over_decided_findings(tmp_path):
    report = {"findings": [_finding("a.c", 1, "x"), _finding("b.c", 2, "x"), _finding("c.c", 3, "x")]}
    verdicts = {"a.c:1:x": {"verdict": "TRUE"}, "b.c:2:x": {"verdict": "FALSE POSITIVE"},
                "c.c:3:x": {"verdict": "UNCONFIRMED"}}
    (tmp_path / "r.json").write_text(json.dumps(report))
    (tmp_path / "v.json").write_text(json.dumps(verdicts))
    out = _run("sample_findings.py", tmp_path / "r.json", "--verdicts", tmp_path / "v.json")
    assert "all findings: 3 findings, FALSE POSITIVE 1, TRUE 1, UNCONFIRMED 1; precision (TRUE / decided) 50%" in out
