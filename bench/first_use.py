#!/usr/bin/env python3
"""The lazy initializations gfplint's front end marks in some translation units of a tree.

Usage: bench/first_use.py -p KERNEL_TREE FILE... [--jobs N]
Prints each allocation site and each call that runs only while a field of its function's
pointer parameter is zero, a field that function sets itself (frontend.context.first_use()):
the steps a sleep-in-atomic witness may not go through without --first-use.  Cheap next to a
whole-tree run: only FILE... are parsed, so it checks what the front end marks, not which
findings move (that needs bench/context.py on the whole corpus)."""
import argparse
import sys

from gfplint.analysis import Inputs, _catalog, parse_all, plan
from gfplint.parallel import FrontEndOptions


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-p", required=True, help="kernel tree holding compile_commands.json")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--jobs", type=int, default=0)
    a = ap.parse_args()
    inp = Inputs([f"{a.p.rstrip('/')}/{f}" for f in a.files], compdb=a.p)
    catalog = _catalog(inp)
    facts = parse_all(plan(inp), catalog, options=FrontEndOptions(jobs=a.jobs))
    n = 0
    for tu in facts:
        for s in tu.sites:
            if s.first_use:
                n += 1
                print(f"{s.file}:{s.line}: {s.api}() in {s.function}() runs only while {', '.join(s.first_use)} is unset")
        for f in tu.functions:
            for c in f.calls:
                if c.first_use and not c.callee.startswith("__builtin"):
                    n += 1
                    print(f"{f.file}:{c.line}: call of {c.callee}() in {f.name}() runs only while "
                          f"{', '.join(c.first_use)} is unset")
    print(f"{n} steps in {len(facts)} translation units")
    return 0


if __name__ == "__main__":
    sys.exit(main())
