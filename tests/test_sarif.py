"""SARIF 2.1.0 output: schema, golden log, fingerprints, columns, limits, determinism, sarif-tools."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixture_expect import EXAMPLE_INCLUDE, ROOT, check_expectations
from sarif_check import FALLBACK_SCHEMA, schema_path, validate

from gfplint import sarif
from gfplint.analysis import Inputs, analyse
from gfplint.cli import main
from gfplint.facts import Diagnostic
from gfplint.findings import Finding

REVIEWS = ROOT / "tests" / "reviews"
REVIEW = REVIEWS / "review.c"
# Regenerate after an intended change of messages, properties or rules:
#   .venv/bin/python tests/test_sarif.py --regenerate
# then read the diff of tests/reviews/review.sarif.json before committing it.
GOLDEN = REVIEWS / "review.sarif.json"
ROOT_PLACEHOLDER = "file:///ROOT/"


def review_result():
    return analyse(Inputs([str(REVIEW)], includes=[str(EXAMPLE_INCLUDE)], cwd=str(REVIEWS)))


def run_cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "gfplint", *args], cwd=cwd, capture_output=True, text=True)


def comparable(doc: dict) -> dict:
    """The golden log without what depends on the machine or on rule prose.

    The root URI is the checkout's path; rule help texts are docs/rules.md's business
    (tests/test_ruledocs.py), so only their ids, names, levels and properties are compared.
    """
    doc = json.loads(json.dumps(doc))
    run = doc["runs"][0]
    run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = ROOT_PLACEHOLDER
    run["tool"]["driver"]["rules"] = [
        {k: r[k] for k in ("id", "name", "defaultConfiguration")} | {"tags": r["properties"]["tags"]}
        for r in run["tool"]["driver"]["rules"]
    ]
    return doc


def golden_text() -> str:
    return json.dumps(comparable(json.loads(sarif.to_sarif(review_result(), category="review"))),
                      indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ the log


def test_review_fixture_still_means_what_the_golden_log_says():
    result = review_result()
    check_expectations(result, {"review.c": REVIEW})


def test_golden_log():
    got = comparable(json.loads(sarif.to_sarif(review_result(), category="review")))
    want = json.loads(GOLDEN.read_text())
    assert got == want, "SARIF differs from tests/reviews/review.sarif.json (regenerate: see the comment at GOLDEN)"


def test_log_validates_and_has_every_required_part():
    doc = validate(sarif.to_sarif(review_result(), category="ext4-defconfig"))
    assert doc["$schema"].endswith("sarif-2.1.0.json") and doc["version"] == "2.1.0"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gfplint" and driver["semanticVersion"] and driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    from gfplint.registry import rule_ids

    assert ids == rule_ids()  # every rule, whatever was selected: ruleIndex is stable across runs
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert "Bad" in r["help"]["text"] and "```c" in r["help"]["markdown"]
        assert r["defaultConfiguration"]["level"] in ("note", "warning", "error")
        assert r["properties"]["precision"] and r["properties"]["problem.severity"] and r["properties"]["tags"]
    root_uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root_uri == Path(REVIEWS).as_uri() + "/"
    assert run["automationDetails"]["id"] == "ext4-defconfig/"
    assert run["invocations"] == [{"executionSuccessful": True}]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    loc = by_rule["always-fails"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "review.c", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 27
    assert by_rule["migrate"]["properties"]["target"]
    assert by_rule["too-small-to-fail"]["properties"]["verdict"] == "too-small-to-fail"
    dead = by_rule["dead-error-path"]
    assert dead["properties"]["dead_lines"] == 1
    # the allocation behind the dead error path is its related location
    assert dead["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 11


def test_warning_level_is_written_although_it_is_sarif_om_default():
    doc = json.loads(sarif.to_sarif(review_result()))
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels["unchecked-may-fail"] == "warning"


def test_columns_are_characters_not_bytes():
    result = review_result()
    byte_col = next(f.column for f in result.findings if f.rule == "unchecked-may-fail")
    doc = json.loads(sarif.to_sarif(result))
    r = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "unchecked-may-fail")
    col = r["locations"][0]["physicalLocation"]["region"]["startColumn"]
    line = REVIEW.read_text(encoding="utf-8").splitlines()[20 - 1]
    assert byte_col - col == 2  # "größe": ö and ß are two bytes each in UTF-8
    assert line[col - 1:].startswith("kmalloc(")
    assert doc["runs"][0]["columnKind"] == "unicodeCodePoints"


def test_empty_run_has_empty_results(tmp_path):
    (tmp_path / "quiet.c").write_text("int quiet(void) { return 0; }\n")
    doc = validate(sarif.to_sarif(analyse(Inputs([str(tmp_path / "quiet.c")], cwd=str(tmp_path)))))
    assert doc["runs"][0]["results"] == []


def test_parse_failures_become_tool_notifications(tmp_path):
    (tmp_path / "broken.c").write_text("#include <linux/slab.h>\nint broken(void) { return kmalloc(; }\n")
    result = analyse(Inputs([str(tmp_path / "broken.c")], includes=[str(EXAMPLE_INCLUDE)], cwd=str(tmp_path)))
    assert result.program.diagnostics
    doc = validate(sarif.to_sarif(result))
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is True
    notes = inv["toolExecutionNotifications"]
    assert len(notes) == len(result.program.diagnostics)
    assert notes[0]["level"] == "error"
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.c"


def test_witness_path_becomes_a_code_flow_and_related_locations_are_kept():
    result = review_result()
    result.findings.append(Finding(
        "always-fails", "error", "review.c", 27, 9, "frob_table", "a finding with a witness path",
        {"related": [{"file": "review.c", "line": 9, "what": "the lock is taken here"}]},
        path=[{"file": "review.c", "line": 9, "function": "frob_init", "what": "frob_init() calls frob_table()"},
              {"file": "review.c", "line": 27, "function": "frob_table", "what": "the allocation"}],
        api="kmalloc", call="kmalloc(1, GFP_KERNEL)",
    ))
    doc = validate(sarif.to_sarif(result))
    r = doc["runs"][0]["results"][-1]
    steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps] == [9, 27]
    assert steps[0]["location"]["message"]["text"] == "frob_init() calls frob_table()"
    related = [(x["physicalLocation"]["region"]["startLine"], x["message"]["text"]) for x in r["relatedLocations"]]
    # the witness path's origin (what put the site in its context), then the rule's own related locations
    assert related == [(9, "frob_init() calls frob_table()"), (9, "the lock is taken here")]
    assert [x["id"] for x in r["relatedLocations"]] == [0, 1]
    assert "related" not in r["properties"]
    assert "codeFlows" not in doc["runs"][0]["results"][0]


def test_diagnostic_without_file_has_no_location():
    result = review_result()
    result.program.diagnostics.append(Diagnostic(".", 0, 0, "warning", "kernel tree is not configured"))
    doc = validate(sarif.to_sarif(result))
    note = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert "locations" not in note and note["message"]["text"] == "Kernel tree is not configured."


# ------------------------------------------------------------------ fingerprints


@pytest.mark.parametrize("text,expected", [
    # Vectors from github/codeql-action src/fingerprints.test.ts, the reference for primaryLocationLineHash.
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"]),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
     ["8b7cf3e952e7aeb2:1", "b1ae1287ec4718d9:1", "bff680108adb0fcc:1", "c6805c5e1288b612:1",
      "b86d3392aea1be30:1", "e6ceba753e1a442:1"]),
    (" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    (" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    ("Lorem ipsum dolor sit amet.\n" * 10,
     ["a7f2ff13bc495cf2:1", "a7f2ff13bc495cf2:2", "a7f2ff13bc495cf2:3", "a7f2ff13bc495cf2:4",
      "a7f2ff13bc495cf2:5", "a7f2ff13bc495cf2:6", "a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1",
      "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1", "c129715d7a2bc9a3:1"]),
])
def test_line_hash_matches_github(text, expected):
    hashes = sarif.line_hashes(text)
    assert [hashes[i] for i in range(1, len(expected) + 1)] == expected


def test_line_hash_ignores_indentation_but_not_content():
    a = sarif.line_hashes("x;\n\tp = kmalloc(1, GFP_KERNEL);\ny;\n")[2]
    b = sarif.line_hashes("x;\n        p = kmalloc(1, GFP_KERNEL);\ny;\n")[2]
    c = sarif.line_hashes("x;\n\tp = kmalloc(2, GFP_KERNEL);\ny;\n")[2]
    assert a == b != c


# ------------------------------------------------------------------ CLI


def test_cli_sarif_is_byte_identical_across_runs(tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}.sarif"
        proc = run_cli(["check", "-I", str(EXAMPLE_INCLUDE), "--format", "sarif", "--category", "demo",
                        "--fail-on", "never", "-o", str(out), "."], cwd=ROOT / "examples")
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    doc = validate(outs[0].decode())
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"dead-error-path", "always-fails", "migrate"}


def test_github_limits_fail_cleanly_without_a_partial_file(tmp_path, monkeypatch):
    monkeypatch.setattr(sarif, "GITHUB_MAX_RESULTS", 2)
    out = tmp_path / "big.sarif"
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--format", "sarif", "-o", str(out),
                                    str(REVIEW)])
    assert res.exit_code == 2
    assert "GitHub code scanning accepts at most 2" in res.output and "--select" in res.output
    assert not out.exists() and not list(tmp_path.iterdir())


def test_gzip_limit_is_checked(monkeypatch):
    monkeypatch.setattr(sarif, "GITHUB_MAX_GZIP_BYTES", 1000)
    sarif.github_limits("x" * 100_000, 1)  # compresses well below the limit
    with pytest.raises(sarif.SarifLimitError, match="gzipped"):
        sarif.github_limits(os.urandom(4000).hex(), 1)


def test_sarif_tools_load_the_log(tmp_path):
    # sarif-tools is in the test extra: a missing `sarif` command is a broken set-up, not a skip
    sarif_cmd = shutil.which("sarif", path=os.path.dirname(sys.executable)) or shutil.which("sarif")
    assert sarif_cmd is not None, "sarif-tools not installed (pip install -e '.[test]')"
    log = tmp_path / "review.sarif"
    log.write_text(sarif.to_sarif(review_result()))
    summary = subprocess.run([sarif_cmd, "summary", str(log)], capture_output=True, text=True)
    assert summary.returncode == 0, summary.stderr
    assert "error: 1" in summary.stdout and "warning: 1" in summary.stdout and "always-fails" in summary.stdout
    html = tmp_path / "review.html"
    proc = subprocess.run([sarif_cmd, "html", str(log), "-o", str(html)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "unchecked-may-fail" in html.read_text(errors="replace")


def test_fallback_schema_also_accepts_the_log(monkeypatch):
    # The official schema is used when present; the fallback must agree on gfplint's own output.
    import jsonschema

    schema = json.loads(FALLBACK_SCHEMA.read_text())
    doc = json.loads(sarif.to_sarif(review_result()))
    jsonschema.Draft4Validator(schema).validate(doc)
    assert schema_path().is_file()


if __name__ == "__main__" and sys.argv[1:] == ["--regenerate"]:
    GOLDEN.write_text(golden_text())
    print(f"wrote {GOLDEN}")
