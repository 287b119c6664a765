#!/usr/bin/env python3
"""Print N random dead-error-path sites of a census JSON (bench/census.py --json) with source context,
for hand triage.  Usage: bench/sample_dead.py CENSUS.json KERNEL_TREE [N] [SEED]"""
import json
import random
import sys
from pathlib import Path


def main() -> int:
    doc = json.loads(Path(sys.argv[1]).read_text())
    root = Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    random.seed(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    dead = [s for s in doc["sites"] if s["dead_lines"]]
    for s in random.sample(dead, min(n, len(dead))):
        ep = s["error_path"]
        print(f"===== {s['file']}:{s['line']} {s['function']} {s['api']}({s['gfp']}) size={s['size']} "
              f"{s['verdict']} dead={s['dead_lines']} live_labels={s['live_labels']} action={ep['action']}")
        lines = (root / s["file"]).read_text(errors="replace").splitlines()
        last = max(ep["lines"] or [ep["check_line"]])
        for i in range(s["line"] - 1, min(last + 1, s["line"] + 12, len(lines))):
            print(f"{i + 1:6} {lines[i]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
