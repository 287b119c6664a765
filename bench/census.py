#!/usr/bin/env python3
"""Census of a kernel subtree: gfplint's sites versus a grep of the same API names.

Usage: bench/census.py -p KERNEL_TREE PATH... [--json OUT]
Prints: TUs, parse errors, wall time, sites by verdict, unknown share, grep
count of catalog API names in the same .c files, and where the two differ.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from gfplint.analysis import Inputs, analyse
from gfplint.report import site_dict, summary


def grep_sites(files: list[Path], names: list[str]) -> Counter:
    """`NAME(` tokens per (file, name), comments stripped (KERNEL-FACTS 6.5 counting rule)."""
    pat = re.compile(r"(?<![\w.>])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\s*\(")
    comment = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
    hits = Counter()
    for f in files:
        text = comment.sub(lambda m: "\n" * m.group(0).count("\n"), f.read_text(errors="replace"))
        for m in pat.finditer(text):
            hits[(str(f), m.group(1))] += 1
    return hits


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-p", required=True, help="kernel tree with compile_commands.json")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--json", help="write the gfplint report here")
    a = ap.parse_args()
    root = Path(a.p).resolve()
    t0 = time.monotonic()
    result = analyse(Inputs([str(root / p) for p in a.paths], compdb=str(root)))
    wall = time.monotonic() - t0
    s = summary(result)
    print(f"translation units: {s['tus']}  with parse errors: {s['tus_with_parse_errors']}  wall: {wall:.1f} s")
    print(f"sites: {s['sites']}  " + "  ".join(f"{k}: {v}" for k, v in s["verdicts"].items()))
    print(f"unknown share: {s['verdicts']['unknown'] / max(1, s['sites']):.1%}")
    reasons = Counter(r for site in result.program.sites for r in site.reasons)
    print("reasons: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    print("findings: " + ", ".join(f"{k} {v}" for k, v in s["findings"].items()) + f"; dead lines {s['dead_lines']}")
    files = sorted({Path(u.file) for u in result.plan.units})
    # .c files #included by a TU (kernel/sched/build_policy.c) are analysed too
    files += sorted({root / site.site.file for site in result.program.sites} - set(files))
    grep = grep_sites(files, list(result.catalog.apis))
    ours = Counter((str(root / r.site.file), r.site.api) for r in result.program.sites)
    print(f"grep count of catalog API names in the same files: {sum(grep.values())}")
    print(f"gfplint sites: {sum(ours.values())}")
    only_grep = grep - ours
    only_ours = ours - grep
    print(f"in grep, not gfplint: {sum(only_grep.values())}; in gfplint, not grep: {sum(only_ours.values())}")
    by_api = Counter()
    for (f, api), n in only_grep.items():
        by_api[api] += n
    print("  grep-only by API: " + ", ".join(f"{k} {v}" for k, v in by_api.most_common(12)))
    for (f, api), n in sorted(only_grep.items()):
        print(f"  grep-only: {Path(f).relative_to(root)} {api} x{n}")
    for (f, api), n in sorted(only_ours.items())[:20]:
        print(f"  gfplint-only: {Path(f).relative_to(root)} {api} x{n}")
    if a.json:
        Path(a.json).write_text(json.dumps({"summary": s, "sites": [site_dict(r) for r in result.program.sites]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
