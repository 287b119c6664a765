#!/usr/bin/env python3
"""Print N findings of one rule, sampled with a fixed seed, with their witness paths, for hand triage.

    bench/sample_findings.py CONTEXT.json [--rule sleep-in-atomic] [--grep TEXT] [--key findings] [-n 20]
                             [--seed 1] [--verdicts TRIAGE.json [--by PROPERTY]]

CONTEXT.json is bench/context.py --json output (or any gfplint JSON report with "findings").
When there are at most N findings, all of them are printed, in report order.  --grep keeps only
findings whose message contains TEXT (`--rule migrate --grep "reached only from kernel threads"`).
TRIAGE.json maps "file:line:first function of the witness" to {"verdict": "TRUE" | "FALSE POSITIVE"
| "UNCONFIRMED", ...} (hand triage, e.g. bench/triage-debian-6.12.json): each sampled finding is
printed with its verdict, and the precision of the sample and of all findings is summed up.
--by PROPERTY also sums up all findings per value of that finding property (`conditions`,
`hops`, `local`), to see whether it separates true findings from false ones.
A false positive's "needs" in TRIAGE.json names the kind of fact that rules it out: "run-time state"
(what the running system holds: which device is bound, what probe set up, a reference count, the
shape of a data structure), "source values" (values written in the source that a path- and
heap-sensitive whole-program analysis could track) or "unreachable". The false positives of all
findings are summed up by it, with the precision left if every false positive not ruled out by
run-time state were gone: the most any analysis of the source alone could reach on these findings.
"""
import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--rule", default="sleep-in-atomic")
    ap.add_argument("--grep", help="only findings whose message contains this text")
    ap.add_argument("--key", default="findings", help="list in the JSON to sample from (through_fields_findings)")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verdicts", help="hand triage: file:line:entry -> {verdict}")
    ap.add_argument("--by", help="with --verdicts: precision per value of this finding property")
    a = ap.parse_args()
    verdicts = json.loads(Path(a.verdicts).read_text()) if a.verdicts else None
    found = [f for f in json.loads(Path(a.report).read_text())[a.key]
             if f["rule"] == a.rule and (a.grep is None or a.grep in f["message"])]
    picked = found if len(found) <= a.n else random.Random(a.seed).sample(found, a.n)
    print(f"# {len(picked)} of {len(found)} {a.rule} findings (seed {a.seed})")
    for i, f in enumerate(picked, 1):
        tag = f" => {_verdict(f, verdicts)}" if verdicts is not None else ""
        print(f"\n[{i}] {f['file']}:{f['line']}:{f['column']} {f['function']}(): {f['message']}{tag}")
        for st in f.get("path") or []:
            mark = " (through a member pointer)" if st.get("through_field") else ""
            print(f"    {st['file']}:{st['line']}: {st['what']} [in {st['function']}()]{mark}")
    if verdicts is not None:
        print()
        for label, group in (("sample", picked), ("all findings", found)):
            _precision(label, group, verdicts)
            _ceiling(label, group, verdicts)
        if a.by:
            groups: dict = {}
            for f in found:
                groups.setdefault(f.get("properties", {}).get(a.by), []).append(f)
            for value in sorted(groups, key=lambda v: (v is None, str(v).zfill(6))):
                _precision(f"{a.by}={value}", groups[value], verdicts)
    return 0


def _key(f: dict) -> str:
    path = f.get("path") or [{}]
    return f"{f['file']}:{f['line']}:{path[0].get('function', '')}"


def _verdict(f: dict, verdicts: dict) -> str:
    return verdicts.get(_key(f), {}).get("verdict", "NOT TRIAGED")


def _precision(label: str, findings: list, verdicts: dict) -> None:
    counts = Counter(_verdict(f, verdicts) for f in findings)
    decided = counts["TRUE"] + counts["FALSE POSITIVE"]
    share = f"{100 * counts['TRUE'] / decided:.0f}%" if decided else "n/a"
    print(f"{label}: {len(findings)} findings, " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
          + f"; precision (TRUE / decided) {share}")


def _ceiling(label: str, findings: list, verdicts: dict) -> None:
    """False positives by the kind of fact that rules them out, and the precision a source-only
    analysis could at best reach: every false positive goes except those that need run-time state."""
    needs = Counter(verdicts.get(_key(f), {}).get("needs", "not classified") for f in findings
                    if _verdict(f, verdicts) == "FALSE POSITIVE")
    if not needs:
        return
    true = sum(_verdict(f, verdicts) == "TRUE" for f in findings)
    left = needs["run-time state"]
    share = f"{100 * true / (true + left):.0f}%" if true + left else "n/a"
    print(f"  {label}, false positives by what rules them out: "
          + ", ".join(f"{k} {v}" for k, v in sorted(needs.items())))
    print(f"  {label}, with only the run-time-state ones left: {true} TRUE, {left} FALSE POSITIVE; precision {share}"
          f" (80% allows at most {true // 4} false positives with {true} true findings)")


if __name__ == "__main__":
    sys.exit(main())
