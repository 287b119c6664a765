#!/usr/bin/env python3
"""Print N findings of one rule, sampled with a fixed seed, with their witness paths, for hand triage.

    bench/sample_findings.py CONTEXT.json [--rule sleep-in-atomic] [--key findings] [-n 20] [--seed 1]

CONTEXT.json is bench/context.py --json output (or any gfplint JSON report with "findings").
When there are at most N findings, all of them are printed, in report order.
"""
import argparse
import json
import random
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--rule", default="sleep-in-atomic")
    ap.add_argument("--key", default="findings", help="list in the JSON to sample from (through_fields_findings)")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    found = [f for f in json.loads(Path(a.report).read_text())[a.key] if f["rule"] == a.rule]
    picked = found if len(found) <= a.n else random.Random(a.seed).sample(found, a.n)
    print(f"# {len(picked)} of {len(found)} {a.rule} findings (seed {a.seed})")
    for i, f in enumerate(picked, 1):
        print(f"\n[{i}] {f['file']}:{f['line']}:{f['column']} {f['function']}(): {f['message']}")
        for st in f.get("path") or []:
            mark = " (through a member pointer)" if st.get("through_field") else ""
            print(f"    {st['file']}:{st['line']}: {st['what']} [in {st['function']}()]{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
