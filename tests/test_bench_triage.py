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


def test_sample_splits_precision_by_a_finding_property(tmp_path):
    found = [_finding("a.c", 1, "x"), _finding("b.c", 2, "x"), _finding("c.c", 3, "x")]
    for f, n in zip(found, (0, 2, 2)):
        f["properties"] = {"conditions": n}
    verdicts = {"a.c:1:x": {"verdict": "TRUE"}, "b.c:2:x": {"verdict": "FALSE POSITIVE"},
                "c.c:3:x": {"verdict": "TRUE"}}
    (tmp_path / "r.json").write_text(json.dumps({"findings": found}))
    (tmp_path / "v.json").write_text(json.dumps(verdicts))
    out = _run("sample_findings.py", tmp_path / "r.json", "--verdicts", tmp_path / "v.json", "--by", "conditions")
    assert "conditions=0: 1 findings, TRUE 1; precision (TRUE / decided) 100%" in out
    assert "conditions=2: 2 findings, FALSE POSITIVE 1, TRUE 1; precision (TRUE / decided) 50%" in out


def test_sample_sums_false_positives_by_what_rules_them_out(tmp_path):
    """The ceiling counts only false positives that need run-time state; an unclassified one is listed as such."""
    found = [_finding(f"{c}.c", 1, "x") for c in "abcdefgh"]
    verdicts = {f"{c}.c:1:x": {"verdict": "TRUE"} for c in "abcd"}
    verdicts["e.c:1:x"] = {"verdict": "FALSE POSITIVE", "needs": "run-time state"}
    verdicts["f.c:1:x"] = {"verdict": "FALSE POSITIVE", "needs": "source values"}
    verdicts["g.c:1:x"] = {"verdict": "FALSE POSITIVE", "needs": "source values"}
    verdicts["h.c:1:x"] = {"verdict": "FALSE POSITIVE"}
    (tmp_path / "r.json").write_text(json.dumps({"findings": found}))
    (tmp_path / "v.json").write_text(json.dumps(verdicts))
    out = _run("sample_findings.py", tmp_path / "r.json", "--verdicts", tmp_path / "v.json")
    assert ("all findings, false positives by what rules them out: "
            "not classified 1, run-time state 1, source values 2") in out
    assert ("all findings, with only the run-time-state ones left: 4 TRUE, 1 FALSE POSITIVE; precision 80% "
            "(80% allows at most 1 false positives with 4 true findings)") in out


def test_sample_prints_no_ceiling_without_false_positives(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"findings": [_finding("a.c", 1, "x")]}))
    (tmp_path / "v.json").write_text(json.dumps({"a.c:1:x": {"verdict": "TRUE"}}))
    out = _run("sample_findings.py", tmp_path / "r.json", "--verdicts", tmp_path / "v.json")
    assert "precision (TRUE / decided) 100%" in out and "rules them out" not in out


def test_sample_keeps_only_findings_whose_message_has_the_text(tmp_path):
    found = [_finding("a.c", 1, "x"), _finding("b.c", 2, "x"), _finding("c.c", 3, "x")]
    found[0]["message"] = found[2]["message"] = "maps to GFP_NOFAIL (reached only from kernel threads)"
    (tmp_path / "r.json").write_text(json.dumps({"findings": found}))
    out = _run("sample_findings.py", tmp_path / "r.json", "--grep", "reached only from kernel threads")
    assert out.startswith("# 2 of 2 sleep-in-atomic findings")
    assert "a.c:1:1" in out and "c.c:3:1" in out and "b.c:2:1" not in out


def _migrate(file, line, gfp="GFP_ATOMIC"):
    return {"rule": "migrate", "file": file, "line": line, "column": 1, "function": "f", "message": "m",
            "properties": {"gfp": gfp, "api": "kmalloc"}}


def test_seeded_recall_seeds_restores_and_scores(tmp_path):
    """bench/seeded_recall.py: GFP_ATOMIC sites become GFP_KERNEL and back, byte for byte, and recall
    counts only the sites the reading says really run in atomic context."""
    tree = tmp_path / "tree"
    tree.mkdir()
    src = "int a(void)\n{\n\tp = kmalloc(8, GFP_ATOMIC);\n\tq = kmalloc(8, GFP_ATOMIC | __GFP_NOWARN);\n" \
          "\tr = kzalloc(8, GFP_ATOMIC);\n\ts = x ? GFP_ATOMIC : GFP_ATOMIC;\n}\n"
    (tree / "a.c").write_text(src)
    report = {"findings": [_migrate("a.c", 3), _migrate("a.c", 4, "GFP_ATOMIC|__GFP_NOWARN"), _migrate("a.c", 5),
                           _migrate("a.c", 6), _migrate("a.c", 3)]}
    (tmp_path / "r.json").write_text(json.dumps(report))
    sites = tmp_path / "sites.json"
    out = _run("seeded_recall.py", "sample", tmp_path / "r.json", "-p", tree, "-n", 5, "-o", sites)
    # line 4's mask is not exactly GFP_ATOMIC, line 6 has two, line 3 is listed twice
    assert "2 of 2 GFP_ATOMIC sites" in out
    assert [s["line"] for s in json.loads(sites.read_text())] == [3, 5]
    assert "kmalloc(" not in sites.read_text()  # digests of the kernel's lines, not the lines

    _run("seeded_recall.py", "mutate", sites, "-p", tree)
    seeded = (tree / "a.c").read_text().splitlines()
    assert seeded[2] == "\tp = kmalloc(8, GFP_KERNEL);" and seeded[4] == "\tr = kzalloc(8, GFP_KERNEL);"
    assert "GFP_ATOMIC | __GFP_NOWARN" in seeded[3]
    _run("seeded_recall.py", "mutate", sites, "-p", tree)  # idempotent
    _run("seeded_recall.py", "restore", sites, "-p", tree)
    assert (tree / "a.c").read_text() == src

    after = {"findings": [{**_finding("a.c", 3, "irq"), "function": "a"}],
             "first_use_findings": [{**_finding("a.c", 5, "irq"), "function": "a"}]}
    (tmp_path / "seeded.json").write_text(json.dumps(after))
    truth = {"a.c:3": {"verdict": "ATOMIC"}, "a.c:5": {"verdict": "NOT ATOMIC"}}
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    out = _run("seeded_recall.py", "score", sites, tmp_path / "seeded.json", "--truth", tmp_path / "truth.json")
    assert "recall on really atomic seeded sites: 1/1 = 100%" in out
    assert "NOT ATOMIC: 1 sites: only --first-use 1" in out  # a lazy initialization: not reported by default

    inlines = {"findings": [], "through_inlines_findings": [{**_finding("a.c", 3, "irq"), "function": "a"}]}
    (tmp_path / "seeded.json").write_text(json.dumps(inlines))
    out = _run("seeded_recall.py", "score", sites, tmp_path / "seeded.json", "--truth", tmp_path / "truth.json")
    assert "recall on really atomic seeded sites: 0/1 = 0%" in out
    assert "with --through-inlines: 1/1" in out and "with --through-fields: 0/1" in out


def test_seeded_recall_refuses_a_changed_line(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.c").write_text("p = kmalloc(8, GFP_ATOMIC);\n")
    sites = tmp_path / "sites.json"
    sites.write_text(json.dumps([{"file": "a.c", "line": 1, "function": "f", "api": "kmalloc", "offset": 16,
                                  "sha1": "0" * 40, "seeded_sha1": "1" * 40}]))
    proc = subprocess.run([sys.executable, str(BENCH / "seeded_recall.py"), "mutate", str(sites), "-p", str(tree)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "not the sampled one" in proc.stderr
    assert (tree / "a.c").read_text() == "p = kmalloc(8, GFP_ATOMIC);\n"
