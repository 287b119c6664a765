#!/usr/bin/env python3
"""Which findings of one rule two context runs share, and which only one of them has.

    bench/compare_findings.py OLD.json NEW.json [--rule sleep-in-atomic] [--key findings]
                              [--verdicts TRIAGE.json]

OLD/NEW are bench/context.py --json outputs.  Findings are matched by file:line:first witness
function (the key of bench/sample_findings.py's verdicts); a site whose witness now starts
elsewhere is listed as moved.  With --verdicts, each line shows the hand verdict of that key.
"""
import argparse
import json
import sys
from pathlib import Path

from sample_findings import _key


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rule", default="sleep-in-atomic")
    ap.add_argument("--key", default="findings")
    ap.add_argument("--verdicts")
    a = ap.parse_args()
    verdicts = json.loads(Path(a.verdicts).read_text()) if a.verdicts else {}
    old, new = (_load(p, a.rule, a.key) for p in (a.old, a.new))
    old_sites = {k.rsplit(":", 1)[0]: k for k in old}
    new_sites = {k.rsplit(":", 1)[0]: k for k in new}
    print(f"# {a.rule}: {len(old)} -> {len(new)}; shared {len(set(old) & set(new))}")
    for label, keys in (("only in old", sorted(set(old) - set(new))), ("only in new", sorted(set(new) - set(old)))):
        print(f"\n## {label}: {len(keys)}")
        for k in keys:
            site = k.rsplit(":", 1)[0]
            other = new_sites.get(site) if label == "only in old" else old_sites.get(site)
            moved = f"  (moved: {other})" if other and other != k else ""
            v = verdicts.get(k, {}).get("verdict", "-")
            print(f"{v:15} {k}{moved}")
    return 0


def _load(path: str, rule: str, key: str) -> dict:
    found = [f for f in json.loads(Path(path).read_text())[key] if f["rule"] == rule]
    return {_key(f): f for f in found}


if __name__ == "__main__":
    sys.exit(main())
