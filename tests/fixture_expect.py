"""Shared test helpers: run gfplint on a fixture and compare with its inline expectations.

(A plain module, not conftest.py: tests/model has a conftest of its own and the names would clash.)
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from gfplint.analysis import Inputs, analyse
from gfplint.report import finding_dict, site_dict

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLE_INCLUDE = ROOT / "examples" / "include"
SHARED = ROOT.parent / "shared"

_EXPECT = re.compile(r"//\s*expect:\s*(.*)$")


def expectations(path: Path) -> dict:
    """line -> {'site': {..} or None, 'rules': [(rule, {k: v})]} from `// expect:` comments."""
    out = {}
    for no, line in enumerate(path.read_text().splitlines(), 1):
        m = _EXPECT.search(line)
        if not m:
            continue
        entry = {"site": None, "rules": []}
        for item in filter(None, (x.strip() for x in m.group(1).split(";"))):
            words = item.split()
            props = dict(w.split("=", 1) for w in words if "=" in w)
            head = words[0]
            if head.startswith("site="):
                props["verdict"] = props.pop("site")
                entry["site"] = props
            else:
                entry["rules"].append((head, props))
        out[no] = entry
    return out


def _matches(actual, want: str) -> bool:
    if isinstance(actual, list) and actual and isinstance(actual[0], list):
        # possible masks: "a,b|c" = two masks
        return sorted(",".join(sorted(m)) for m in actual) == sorted(
            ",".join(sorted(m.split(","))) for m in want.split("|"))
    if isinstance(actual, list):
        return sorted(str(x) for x in actual) == sorted(want.split(",")) if want else actual == []
    if isinstance(actual, bool):
        return str(actual).lower() == want.lower()
    return str(actual) == want


_ARGS = re.compile(r"^//\s*gfplint-args:\s*(.*)$", re.M)


def fixture_options(path: Path) -> dict:
    """Options from a `// gfplint-args: --kernel 6.1 -I dir --through-fields --first-use --context-catalog f.json` line
    at the top of a fixture."""
    m = _ARGS.search(path.read_text())
    words = m.group(1).split() if m else []
    opts = {"includes": [], "kernel": None}
    while words:
        w = words.pop(0)
        if w == "-I":
            opts["includes"].append(str(path.parent / words.pop(0)))
        elif w == "--kernel":
            opts["kernel"] = words.pop(0)
        elif w == "--through-fields":
            opts["through_fields"] = True
        elif w == "--through-inlines":
            opts["through_inlines"] = True
        elif w == "--first-use":
            opts["first_use"] = True
        elif w == "--context-catalog":
            opts["context_catalog"] = str(path.parent / words.pop(0))
        else:
            raise ValueError(f"{path.name}: unknown gfplint-args word {w!r}")
    opts["includes"].append(str(EXAMPLE_INCLUDE))
    return opts


def run_fixture(name: str, **kw):
    path = FIXTURES / name
    opts = fixture_options(path)
    opts.update(kw)
    inp = Inputs([str(path)], cwd=str(FIXTURES), **opts)
    return path, analyse(inp)


def check_fixture(name: str, **kw) -> None:
    path, result = run_fixture(name, **kw)
    assert not result.program.diagnostics, [d.message for d in result.program.diagnostics]
    check_expectations(result, {name: path})


def check_expectations(result, files: dict) -> None:
    """Compare RESULT with the `// expect:` comments of FILES (report path -> file on disk)."""
    problems = []
    for rel, path in files.items():
        exp = expectations(path)
        assert exp, f"{rel} has no expectations"
        sites, found = {}, {}
        for r in result.program.sites:
            if r.site.file == rel:
                sites.setdefault(r.site.line, []).append(site_dict(r))
        for f in result.findings:
            if f.file == rel:
                found.setdefault(f.line, []).append(finding_dict(f))
        problems += _compare(rel, exp, sites, found)
    assert not problems, "\n".join(problems)


def _compare(name: str, exp: dict, sites: dict, found: dict) -> list:
    problems = []
    for line in sorted(set(exp) | set(sites) | set(found)):
        e = exp.get(line, {"site": None, "rules": []})
        got_sites = sites.get(line, [])
        if e["site"] is None and got_sites:
            problems.append(f"{name}:{line}: unexpected site {[s['api'] + ' ' + s['verdict'] for s in got_sites]}")
        if e["site"] is not None:
            if len(got_sites) != 1:
                problems.append(f"{name}:{line}: expected one site, found {len(got_sites)}")
            else:
                for k, v in e["site"].items():
                    if not _matches(got_sites[0].get(k), v):
                        problems.append(f"{name}:{line}: site {k}={got_sites[0].get(k)!r}, expected {v}")
        got_rules = Counter(f["rule"] for f in found.get(line, []))
        want_rules = Counter(r for r, _ in e["rules"])
        if got_rules != want_rules:
            msgs = [f["message"] for f in found.get(line, [])]
            problems.append(f"{name}:{line}: rules {dict(got_rules)}, expected {dict(want_rules)} ({msgs})")
            continue
        for rule, props in e["rules"]:
            cands = [f for f in found.get(line, []) if f["rule"] == rule]
            if not any(all(_matches(f["properties"].get(k, f.get(k)), v) for k, v in props.items()) for f in cands):
                problems.append(f"{name}:{line}: {rule} properties {[f['properties'] for f in cands]} do not match {props}")
    return problems

