#!/usr/bin/env python3
"""Recall of sleep-in-atomic on seeded bugs: real GFP_ATOMIC sites turned into GFP_KERNEL.

A sleep-in-atomic bug is, most often, a GFP_KERNEL allocation where the author needed GFP_ATOMIC.
Taking GFP_ATOMIC sites of a real tree at random and writing GFP_KERNEL instead makes such bugs
wherever the site really runs in atomic context; whether it does is decided by reading the code
(TRUTH.json), not by gfplint.  Recall is the share of the really atomic seeded sites that gfplint
then reports.

    bench/seeded_recall.py sample CONTEXT.json -p TREE [-n 30] [--seed 1] [--exclude OLD.json] -o SITES.json
    bench/seeded_recall.py mutate SITES.json -p TREE       # GFP_ATOMIC -> GFP_KERNEL on each line
    bench/seeded_recall.py restore SITES.json -p TREE      # put the lines back
    bench/seeded_recall.py score SITES.json SEEDED.json [--truth TRUTH.json]

CONTEXT.json and SEEDED.json are bench/context.py --json output, before and after `mutate` (run
the second with the first run's --cache-dir: only the mutated translation units are parsed
again).  The population is the `migrate` findings whose mask is exactly GFP_ATOMIC and whose
source line has exactly one GFP_ATOMIC.  TRUTH.json maps "file:line" to {"verdict": "ATOMIC" |
"NOT ATOMIC" | "UNSURE", "reason": ...}.  Seeding all sites at once can hide one behind another
(a GFP_KERNEL allocation on every path before a second one is a sleep the analysis stops at);
`score` lists seeded sites that share a function.
"""
import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ATOMIC = re.compile(r"\bGFP_ATOMIC\b")


def sample(a) -> int:
    tree = Path(a.tree)
    found = [f for f in json.loads(Path(a.report).read_text())["findings"]
             if f["rule"] == "migrate" and (f.get("properties") or {}).get("gfp") == "GFP_ATOMIC"]
    seen, pool = set(), []
    for other in a.exclude or []:  # sites of an earlier sample: a second sample is a fresh one
        seen |= {(s["file"], s["line"]) for s in json.loads(Path(other).read_text())}
    for f in found:
        key = (f["file"], f["line"])
        if key in seen or _atomics(tree / f["file"], f["line"]) != 1:
            continue
        seen.add(key)
        text = _line(tree / f["file"], f["line"])
        # the line itself is kernel source: keep where the mask is and digests, not the text
        pool.append({"file": f["file"], "line": f["line"], "function": f["function"],
                     "api": f["properties"].get("api"), "offset": ATOMIC.search(text).start(),
                     "sha1": _digest(text), "seeded_sha1": _digest(seeded(text, ATOMIC.search(text).start()))})
    picked = pool if len(pool) <= a.n else random.Random(a.seed).sample(pool, a.n)
    picked.sort(key=lambda s: (s["file"], s["line"]))
    Path(a.output).write_text(json.dumps(picked, indent=1) + "\n")
    print(f"{len(picked)} of {len(pool)} GFP_ATOMIC sites (seed {a.seed}) -> {a.output}")
    return 0


def _atomics(path: Path, line: int) -> int:
    return len(ATOMIC.findall(_line(path, line)))


def _line(path: Path, line: int) -> str:
    try:
        text = path.read_text(errors="surrogateescape").split("\n")
    except OSError:
        return ""
    return text[line - 1] if 0 < line <= len(text) else ""


def mutate(a) -> int:
    return _edit(a, seed=True)


def restore(a) -> int:
    return _edit(a, seed=False)


def _edit(a, seed: bool) -> int:
    """Rewrite each site's line in place.  A line already in the wanted state is left alone; a
    line that is neither the sampled one nor its seeded form (the tree changed) is an error, and
    then nothing is written."""
    tree = Path(a.tree)
    sites = json.loads(Path(a.sites).read_text())
    files: dict = {}
    for s in sites:
        lines = files.setdefault(s["file"], (tree / s["file"]).read_text(errors="surrogateescape").split("\n"))
        i, at = s["line"] - 1, s["offset"]
        text = lines[i] if i < len(lines) else ""
        digest = _digest(text)
        want, have = ("seeded_sha1", "sha1") if seed else ("sha1", "seeded_sha1")
        if digest == s[want]:
            continue
        if digest != s[have]:
            print(f"{s['file']}:{s['line']}: the line is not the sampled one any more", file=sys.stderr)
            return 1
        lines[i] = seeded(text, at) if seed else text[:at] + "GFP_ATOMIC" + text[at + len("GFP_KERNEL"):]
    for name, lines in files.items():
        (tree / name).write_text("\n".join(lines), errors="surrogateescape")
    print(f"{'seeded' if seed else 'restored'} {len(sites)} sites in {len(files)} files")
    return 0


def seeded(text: str, at: int) -> str:
    return text[:at] + "GFP_KERNEL" + text[at + len("GFP_ATOMIC"):]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


def score(a) -> int:
    sites = json.loads(Path(a.sites).read_text())
    doc = json.loads(Path(a.seeded).read_text())
    truth = json.loads(Path(a.truth).read_text()) if a.truth else {}
    reported = {}
    for key in ("findings", "first_use_findings", "through_fields_findings", "through_inlines_findings"):
        for f in doc.get(key, []):
            if f["rule"] == "sleep-in-atomic":
                reported.setdefault((f["file"], f["line"]), key)
    rows = Counter()
    for s in sites:
        at = f"{s['file']}:{s['line']}"
        got = reported.get((s["file"], s["line"]))
        found = {"findings": "reported", "first_use_findings": "only --first-use",
                 "through_fields_findings": "only --through-fields",
                 "through_inlines_findings": "only --through-inlines"}.get(got, "missed")
        verdict = truth.get(at, {}).get("verdict", "NOT READ")
        rows[(verdict, found)] += 1
        print(f"{verdict:10} {found:22} {at} {s['function']}() {s['api']}")
    shared = Counter(s["function"] for s in sites)
    for fn, n in shared.items():
        if n > 1:
            print(f"note: {n} seeded sites in {fn}()")
    print()
    for verdict in ("ATOMIC", "NOT ATOMIC", "UNSURE", "NOT READ"):
        got = {found: n for (v, found), n in rows.items() if v == verdict}
        if got:
            total = sum(got.values())
            print(f"{verdict}: {total} sites: " + ", ".join(f"{k} {v}" for k, v in sorted(got.items())))
    atomic = sum(n for (v, _), n in rows.items() if v == "ATOMIC")
    if atomic:
        hit = rows[("ATOMIC", "reported")]
        print(f"recall on really atomic seeded sites: {hit}/{atomic} = {100 * hit / atomic:.0f}% "
              f"(with --through-fields: {hit + rows[('ATOMIC', 'only --through-fields')]}/{atomic}; "
              f"with --through-inlines: {hit + rows[('ATOMIC', 'only --through-inlines')]}/{atomic})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sample")
    p.add_argument("report")
    p.add_argument("-p", "--tree", required=True)
    p.add_argument("-n", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--exclude", action="append", help="SITES.json of an earlier sample (repeatable)")
    for name in ("mutate", "restore"):
        p = sub.add_parser(name)
        p.add_argument("sites")
        p.add_argument("-p", "--tree", required=True)
    p = sub.add_parser("score")
    p.add_argument("sites")
    p.add_argument("seeded")
    p.add_argument("--truth")
    a = ap.parse_args()
    return {"sample": sample, "mutate": mutate, "restore": restore, "score": score}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
