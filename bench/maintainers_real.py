#!/usr/bin/env python3
"""Check gfplint's MAINTAINERS matcher on a real kernel tree's file, like get_maintainer.pl.

Usage: bench/maintainers_real.py KERNEL_TREE
Every pattern form is covered by tests/test_maintainers.py's excerpts; this checks real data,
which CI has no copy of (a kernel tree is one `apt-get install linux-source-6.12` away).
Exits 1 when a file is not matched to the sections get_maintainer.pl gives for it (6.12)."""
import sys
from pathlib import Path

from gfplint.maintainers import load

EXPECTED = {  # file -> the first sections get_maintainer.pl lists for it in 6.12
    "mm/slub.c": ["SLAB ALLOCATOR", "MEMORY MANAGEMENT"],
    "fs/ext4/super.c": ["EXT4 FILE SYSTEM"],
    "drivers/net/ethernet/intel/e1000e/netdev.c": ["INTEL ETHERNET DRIVERS"],
}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    real = Path(sys.argv[1]) / "MAINTAINERS"
    if not real.is_file():
        print(f"maintainers_real: error: no MAINTAINERS in {real.parent}", file=sys.stderr)
        return 2
    m = load(real)
    bad = 0
    for path, want in EXPECTED.items():
        got = [s.title for s in m.match(path)][:len(want)]
        primary = m.primary(path).title
        ok = got == want and primary == want[0]
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {path}: {', '.join(got)} (primary {primary})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
