#!/usr/bin/env python3
"""Benchmark gfplint at kernel scale: parse-only vs cold vs warm vs touched vs jobs.

Usage (from the repository root, on a kernel tree prepared as the README says):

    .venv/bin/python bench/scale.py --tree /work/kernel/linux-source-6.12 \\
        --dirs fs/ext4 mm kernel/sched net/core drivers/net/ethernet/intel \\
        --runs 3 --out bench/results-scale.json

Each phase takes the shared lock (--lock, flock(2)) for itself only and
releases it afterwards, so other heavy jobs on the machine can interleave.
Wall times are medians over --runs (the j1 and touched-header phases, each
about as long as a cold run, use --slow-runs).  Peak RSS is measured inside
the measured process: ru_maxrss of the gfplint process itself (the main
process: linking, propagation, rules) and of its waited-for children (the
largest worker).  Touching a file appends a comment line and restores the
original bytes afterwards: the cache keys on content, so an mtime-only touch
would (correctly) re-parse nothing.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

# Runs the gfplint CLI in this process, then prints what getrusage saw.
RUN_GFPLINT = r"""
import json, resource, sys, time
from gfplint.cli import main
t = time.monotonic()
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
wall = time.monotonic() - t
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "main_rss_kb": me, "worker_rss_kb": kids}), file=sys.stderr)
"""

@contextmanager
def heavy_lock(path: str):
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _last_json(stderr: str) -> dict:
    for line in reversed(stderr.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no measurement in output:\n" + stderr[-2000:])


def gfplint(args: list, env=None) -> dict:
    proc = subprocess.run([PY, "-c", RUN_GFPLINT, *args], capture_output=True, text=True, env=env)
    m = _last_json(proc.stderr)
    m["stdout"] = proc.stdout
    return m


def parse_only(db: str, jobs: int, dirs: list) -> dict:
    proc = subprocess.run([PY, str(HERE / "parse_only.py"), db, str(jobs), *dirs], capture_output=True, text=True)
    return _last_json(proc.stderr)


@contextmanager
def touched(path: Path):
    """Append a comment line (a real content change), restore the original bytes after."""
    original = path.read_bytes()
    path.write_bytes(original + f"\n/* gfplint benchmark touch {time.time_ns()} */\n".encode())
    try:
        yield
    finally:
        path.write_bytes(original)


def phase(name, lock, runs, fn, log):
    out = []
    for i in range(runs):
        with heavy_lock(lock):
            m = fn()
        out.append(m)
        print(f"{name} run {i + 1}/{runs}: {m['wall']:.2f} s", file=sys.stderr, flush=True)
    log[name] = {"runs": [{k: v for k, v in m.items() if k != "stdout"} for m in out],
                 "median_s": statistics.median(m["wall"] for m in out),
                 "main_rss_mb": max(m.get("main_rss_kb", 0) for m in out) / 1024,
                 "worker_rss_mb": max(m.get("worker_rss_kb", 0) for m in out) / 1024}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", required=True)
    ap.add_argument("--dirs", nargs="+", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slow-runs", type=int, default=1)
    ap.add_argument("--lock", default="/work/kernel/heavy.lock")
    ap.add_argument("--touch-c", default="fs/ext4/super.c")
    ap.add_argument("--touch-h", default="include/linux/slab.h")
    ap.add_argument("--phases", default="parse,cold,warm,touch-c,touch-h,j1")
    ap.add_argument("--out", default=str(HERE / "results-scale.json"))
    a = ap.parse_args()
    tree = Path(a.tree).resolve()
    db = str(tree / "compile_commands.json")
    dirs = [str(tree / d) for d in a.dirs]
    cache = tempfile.mkdtemp(prefix="gfplint-bench-cache-")
    base = ["check", "-p", db, *dirs, "--format", "json", "--fail-on", "never", "-q", "--cache-dir", cache]
    phases = a.phases.split(",")
    log: dict = {"tree": str(tree), "dirs": a.dirs, "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}
    if Path(a.out).exists():
        log = {**json.loads(Path(a.out).read_text()), **log}

    def save():
        Path(a.out).write_text(json.dumps(log, indent=2) + "\n")

    if "parse" in phases:
        phase("parse_only_j2", a.lock, a.runs, lambda: parse_only(db, 2, dirs), log)
        save()
    if "cold" in phases:
        def cold():
            shutil.rmtree(cache, ignore_errors=True)
            return gfplint(base + ["-j", "2"])
        runs = phase("cold_j2", a.lock, a.runs, cold, log)
        doc = json.loads(runs[-1]["stdout"])
        log["sites"] = doc["summary"]["sites"]
        log["tus"] = doc["summary"]["tus"]
        log["summary"] = doc["summary"]
        save()
    if "warm" in phases:
        phase("warm_j2", a.lock, a.runs, lambda: gfplint(base + ["-j", "2"]), log)
        save()
    if "touch-c" in phases:
        def touch_c():
            with touched(tree / a.touch_c):
                m = gfplint(base + ["-j", "2"])
            gfplint(base + ["-j", "2"])  # re-cache the original so the next run starts warm
            return m
        phase("touched_c_j2", a.lock, a.runs, touch_c, log)
        save()
    if "touch-h" in phases:
        def touch_h():
            with touched(tree / a.touch_h):
                m = gfplint(base + ["-j", "2"])
            return m
        phase("touched_header_j2", a.lock, a.slow_runs, touch_h, log)
        save()
    if "j1" in phases:
        def cold1():
            shutil.rmtree(cache, ignore_errors=True)
            return gfplint(base + ["-j", "1"])
        phase("cold_j1", a.lock, a.slow_runs, cold1, log)
        save()
    shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps({k: v.get("median_s") if isinstance(v, dict) else v for k, v in log.items()
                      if k not in ("summary",)}, indent=2))


if __name__ == "__main__":
    main()
