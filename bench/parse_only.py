#!/usr/bin/env python3
"""libclang parse alone over the TUs of a compile database under DIRS: the physical limit.

Same flags (gfplint's translation of the compile database), same parse options,
same number of processes as gfplint -j JOBS; no AST walk, no Facts.

    python bench/parse_only.py compile_commands.json JOBS DIR...

Prints one JSON line on stderr: wall seconds, TUs, peak RSS of the largest worker.
"""
import json
import resource
import sys
import time
from multiprocessing import get_context

from gfplint import compdb


def parse(unit):
    import clang.cindex as ci

    from gfplint.frontend import clangutil as cu

    ci.Index.create().parse(unit.file, args=list(unit.args), options=cu.PARSE_OPTIONS)
    return 1


def main():
    db, jobs, dirs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    units = [u for u in compdb.load_compdb(db) if any(u.file.startswith(d.rstrip("/") + "/") for d in dirs)]
    t = time.monotonic()
    with get_context("spawn").Pool(jobs) as pool:
        n = sum(pool.imap_unordered(parse, units))
    wall = time.monotonic() - t
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall": wall, "tus": n, "worker_rss_kb": kids}), file=sys.stderr)


if __name__ == "__main__":
    main()
