#!/usr/bin/env python3
"""Context analysis on a real tree: call-graph size, wrappers, pointers, sleep-in-atomic, link cost.

Usage: bench/context.py -p KERNEL_TREE PATH... [--json OUT] [--jobs N] [--cache-dir DIR]
Parses once (front end), then times the whole-program stage (link: call graph,
propagation, wrappers, verdicts) separately and measures its peak Python heap
with tracemalloc.  The stage runs three times: by default, with --through-fields
(calls through struct member pointers resolved to every function stored in the
field: the lower-confidence option) and with --through-inlines (calls a header
inline makes are calls of its caller), and all three are reported.  Findings whose
path goes through a lazy initialization (--first-use, lower confidence) are listed
apart (JSON `first_use_findings`).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from gfplint import callgraph
from gfplint.analysis import Inputs, _catalog, parse_all, plan, run_rules
from gfplint.parallel import FrontEndOptions
from gfplint.program import link
from gfplint.report import finding_dict


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-p", required=True)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes for the front end (0: in process)")
    ap.add_argument("--cache-dir", help="reuse and fill gfplint's Facts cache here (rerunning is then cheap)")
    ap.add_argument("--no-through-fields", action="store_true",
                    help="skip the second stage (--through-fields): JSON through_fields_findings is then empty")
    ap.add_argument("--no-through-inlines", action="store_true",
                    help="skip the third stage (--through-inlines): JSON through_inlines_findings is then empty")
    a = ap.parse_args()
    root = Path(a.p).resolve()
    inp = Inputs([str(root / p) for p in a.paths], compdb=str(root))
    catalog = _catalog(inp)
    pl = plan(inp)
    t0 = time.monotonic()
    fe = FrontEndOptions(jobs=a.jobs, cache_dir=a.cache_dir, use_cache=bool(a.cache_dir))
    facts = parse_all(pl, catalog, options=fe)
    t1 = time.monotonic()
    tracemalloc.start()
    prog = link(facts, catalog, pl.root, pl.kernel)
    t2 = time.monotonic()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    prog.first_use = True  # computed once; the default report is the findings without first_use
    every = run_rules(prog, catalog)
    findings = [f for f in every if "first_use" not in f.properties]
    first_use = [f for f in every if "first_use" in f.properties]
    g = prog.contexts.graph
    pointer_calls = sum(1 for f in prog.functions.values() for c in f.calls if c.callee.startswith("."))
    regs = Counter(r.context for r in prog.registrations)
    print(f"TUs {len(pl.units)}  front end {t1 - t0:.1f} s  whole-program stage {t2 - t1:.2f} s  "
          f"peak heap of that stage {peak / 2**20:.1f} MiB")
    print(f"functions {g.number_of_nodes()}  call edges {g.number_of_edges()}  "
          f"calls through struct-member pointers (unresolved) {pointer_calls}")
    param_calls = sum(1 for f in prog.functions.values() for c in f.calls if c.via_param)
    print(f"calls through a function-pointer parameter {param_calls}  "
          f"callback edges (a function passed to a callee that calls it) {g.graph.get('callback_edges', 0)}")
    print("registrations (function pointers resolved to a context): "
          + ", ".join(f"{k} {v}" for k, v in sorted(regs.items())) + f"; total {sum(regs.values())}")
    print(f"functions entered in atomic context {len(prog.contexts.atomic)}  under noreclaim {len(prog.contexts.noreclaim)}  "
          f"always may sleep {len(prog.contexts.sleeping)}")
    resolved = {n for n, _ in callgraph._registered(g, prog.registrations, "atomic")}
    from_regs = [n for n, w in prog.contexts.atomic.items() if w and w[0]["line"] and _registration_step(w[0])]
    print(f"atomic callbacks resolved to call-graph nodes {len(resolved)}  "
          f"functions whose atomic witness starts at a registration {len(from_regs)}")
    print(f"inferred wrappers {len(prog.wrappers)}  sites via wrappers {sum(1 for r in prog.sites if r.site.via)}")
    helpers = _lock_helpers(prog, catalog)
    print(f"lock wrappers (functions that return holding a lock) {sum(1 for f in prog.functions.values() if f.acquires)}  "
          f"sections opened by a lock helper (inline or wrapper) at {sum(helpers.values())} sites and calls, "
          f"{len(helpers)} helpers; most used: " + ", ".join(f"{k} {v}" for k, v in helpers.most_common(8)))
    print(f"findings: {_by_rule(findings)}")
    print(f"--first-use: sleep-in-atomic paths through a lazy initialization (not reported by default) {len(first_use)}")
    wide_findings = [] if a.no_through_fields else _through_fields(facts, catalog, pl, pointer_calls)
    inline_findings = [] if a.no_through_inlines else _through_inlines(facts, catalog, pl, g.number_of_edges())
    if a.json:
        Path(a.json).write_text(json.dumps({
            "wrappers": list(prog.wrappers.values()),
            "lock_helpers": dict(helpers.most_common()),
            "findings": [finding_dict(f) for f in findings],
            "first_use_findings": [finding_dict(f) for f in first_use],
            "through_fields_findings": [finding_dict(f) for f in wide_findings if f.rule == "sleep-in-atomic"],
            "through_inlines_findings": [finding_dict(f) for f in inline_findings if f.rule == "sleep-in-atomic"],
        }, indent=1))
    return 0


def _relink(facts, catalog, pl, **option) -> tuple:
    """Link again with one lower-confidence OPTION on: (program, its findings, seconds the link took)."""
    t = time.monotonic()
    prog = link(facts, catalog, pl.root, pl.kernel, **option)
    took = time.monotonic() - t
    return prog, run_rules(prog, catalog), took


def _by_rule(findings) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(Counter(f.rule for f in findings).items()))


def _through_fields(facts, catalog, pl, pointer_calls: int) -> list:
    """The second stage: link again with --through-fields, print its figures, return its findings."""
    wide, wide_findings, took = _relink(facts, catalog, pl, through_fields=True)
    gw = wide.contexts.graph
    low = [f for f in wide_findings if f.rule == "sleep-in-atomic" and f.properties.get("confidence") == "low"]
    print(f"--through-fields: member-pointer calls resolved {gw.graph['field_calls']} of {pointer_calls}, "
          f"edges added {gw.graph['field_edges']}, functions in atomic context {len(wide.contexts.atomic)}, "
          f"whole-program stage {took:.2f} s")
    print(f"--through-fields findings: {_by_rule(wide_findings)}; "
          f"sleep-in-atomic through a member pointer (low confidence) {len(low)}")
    return wide_findings


def _through_inlines(facts, catalog, pl, edges: int) -> list:
    """The third stage: link again with --through-inlines, print its figures, return its findings."""
    prog, found, took = _relink(facts, catalog, pl, through_inlines=True)
    print(f"--through-inlines: call edges {prog.contexts.graph.number_of_edges()} (default {edges}), "
          f"functions in atomic context {len(prog.contexts.atomic)}, whole-program stage {took:.2f} s")
    print(f"--through-inlines findings: {_by_rule(found)}")
    return found


def _lock_helpers(prog, catalog) -> Counter:
    """Lock helper -> the sites and calls under a section it opened: held sections whose API is
    not one of the context catalog's (a header inline or a lock wrapper of the TU)."""
    from gfplint.context_catalog import load_context_catalog

    cat = getattr(catalog, "context", None) or load_context_catalog()
    known = set(cat.enter)
    apis = [h[3] for f in prog.functions.values() for c in f.calls for h in c.held]
    apis += [h[3] for r in prog.sites for h in r.site.held]
    return Counter(a for a in apis if a not in known and not a.startswith("guard("))


def _registration_step(st: dict) -> bool:
    return " registered with " in st["what"] or " of an ops structure" in st["what"]


if __name__ == "__main__":
    sys.exit(main())
