"""Worklists: one file per MAINTAINERS section, ready to hand to its maintainers.

Each worklist names the section (status, lists, maintainers), then the sites
to act on, grouped by action:

1. bugs (sleep-in-atomic, nofail-misuse, unchecked-may-fail, always-fails);
2. migrations, by target class, with the dead error-handling lines each removes;
3. live failure paths: may-fail sites whose error handling runs in production
   and deserves a fault-injection test (failslab, fail_page_alloc).

File names come from section titles and are made safe (safe_names) because a
MAINTAINERS file is input: a title such as "../../etc/passwd" must stay a
name inside the output directory.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from .subsystems import BUG_RULES, Subsystem, line_ranges

FORMATS = {"markdown": ".md", "csv": ".csv", "json": ".json"}
KEEP_CLASS = "no class change, dead error handling only"
MAX_NAME = 80
MANIFEST = ".gfplint-worklist"
# Names Windows refuses whatever the extension; worklists get mailed and unpacked anywhere.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)), "index"}

# Which fault-injection knob reaches a failure of each backend (Documentation/fault-injection/).
INJECT = {
    "kmalloc": "failslab", "slab": "failslab", "kvmalloc": "failslab, fail_page_alloc",
    "vmalloc": "fail_page_alloc", "page": "fail_page_alloc", "dma": "fail_page_alloc",
    "skb": "failslab", "mempool": "failslab (backing allocator; the pool still has reserves)",
    "percpu": "no knob: percpu allocations are not fault-injectable",
    "idr": "failslab", "other": "failslab",
}


# ------------------------------------------------------------------ names


def safe_name(title: str) -> str:
    """A section title as a file name stem: [a-z0-9_-] only, no leading dot, bounded."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-_")[:MAX_NAME].strip("-_")
    if not stem:
        stem = "section"
    if stem in _RESERVED:
        stem = "section-" + stem
    return stem


def safe_names(titles: list[str]) -> dict[str, str]:
    """Title -> unique stem, collisions disambiguated by -2, -3 ... in title order."""
    out, used = {}, set()
    for title in titles:
        base = safe_name(title)
        stem, n = base, 1
        while stem in used:
            n += 1
            suffix = f"-{n}"
            stem = base[: MAX_NAME - len(suffix)] + suffix
        used.add(stem)
        out[title] = stem
    return out


# ------------------------------------------------------------------ content


def _where(s) -> str:
    return f"{s.file}:{s.line}"


def _mask(r) -> str:
    s = r.site
    return s.gfp or ("|".join(sorted(s.masks[0])) if s.masks and len(s.masks) == 1 else "implied mask")


def plan_for(sub: Subsystem) -> dict:
    """The worklist of one subsystem as plain data (every format renders this)."""
    sec = sub.section
    bugs, migrations, inject = [], {}, []
    for item in sub.items:
        r, s = item.result, item.site
        base = {"file": s.file, "line": s.line, "column": s.column, "function": s.function, "api": s.api,
                "call": s.call, "gfp": _mask(r), "verdict": r.verdict, "reasons": list(r.reasons)}
        also = sub.also.get((s.file, s.line, s.column))
        if also:
            base["also"] = also
        for f in item.bugs():
            bugs.append({**base, "rule": f.rule, "level": f.level, "message": f.message})
        m = item.migration()
        if m is not None or r.dead_lines:
            # A site with dead error handling but no class change (mempool_alloc, say)
            # still has lines to remove: it is listed under KEEP_CLASS.
            target = m.properties.get("target", "?") if m is not None else KEEP_CLASS
            why = m.properties.get("reason", "") if m is not None else f"{r.verdict}: cannot fail as called"
            migrations.setdefault(target, []).append(
                {**base, "target": target, "why": why,
                 "dead_lines": len(r.dead_lines), "dead_line_ranges": line_ranges(r.dead_lines),
                 "live_labels": list(r.live_labels)})
        if r.verdict == "may-fail" and s.error_path is not None:
            inject.append({**base, "check_line": s.error_path.check_line, "action": s.error_path.action,
                           "inject": INJECT.get(s.backend, "failslab")})
    bugs.sort(key=lambda b: (BUG_RULES.index(b["rule"]), b["file"], b["line"], b["column"]))
    return {
        "section": sub.name,
        "status": sec.status if sec else "",
        "flag": sec.flag if sec else "",
        "maintainers": sec.maintainers if sec else [],
        "reviewers": sec.reviewers if sec else [],
        "lists": sec.lists if sec else [],
        "sites": len(sub.items),
        "bugs": bugs,
        "migrations": {t: migrations[t] for t in sorted(migrations, key=lambda t: (t == KEEP_CLASS, t))},
        "dead_lines": sum(m["dead_lines"] for ms in migrations.values() for m in ms),
        "fault_injection": inject,
    }


def render_markdown(w: dict, meta: dict) -> str:
    out = [f"# {w['section']}", ""]
    if w["flag"]:
        out += [f"> **{w['flag'].upper()}**", ""]
    out += [f"- Status: {w['status'] or 'unknown'}"]
    for label, key in (("Maintainers", "maintainers"), ("Reviewers", "reviewers"), ("Lists", "lists")):
        if w[key]:
            out.append(f"- {label}: " + "; ".join(w[key]))
    out += [f"- Allocation sites analysed: {w['sites']} ({meta['coverage']})", ""]
    out += _md_bugs(w["bugs"]) + _md_migrations(w) + _md_inject(w["fault_injection"])
    return "\n".join(out) + "\n"


def _cc(x: dict) -> str:
    return f" (also: {', '.join(x['also'])})" if x.get("also") else ""


def _md_bugs(bugs: list) -> list:
    out = [f"## 1. Bugs ({len(bugs)})", ""]
    if not bugs:
        return out + ["None found.", ""]
    for b in bugs:
        out.append(f"- **{b['rule']}** `{_where_d(b)}` {b['function']}(): {b['message']}{_cc(b)}")
    return out + [""]


def _md_migrations(w: dict) -> list:
    n = sum(len(v) for v in w["migrations"].values())
    out = [f"## 2. Migrations ({_n(n, 'site')}, {_n(w['dead_lines'], 'dead error-handling line')})", ""]
    if not n:
        return out + ["None.", ""]
    for target, items in w["migrations"].items():
        dead = sum(m["dead_lines"] for m in items)
        out += [f"### {target} ({_n(len(items), 'site')}, {_n(dead, 'dead line')})", ""]
        for m in items:
            removes = f"; removes lines {m['dead_line_ranges']}" if m["dead_lines"] else ""
            out.append(f"- `{_where_d(m)}` {m['function']}(): `{m['call']}` with {m['gfp']} ({m['why']}){removes}{_cc(m)}")
        out.append("")
    return out


def _md_inject(items: list) -> list:
    out = [f"## 3. Live failure paths to test with fault injection ({len(items)})", ""]
    if not items:
        return out + ["None.", ""]
    for x in items:
        why = ", ".join(x["reasons"]) or "may fail"
        out.append(f"- `{_where_d(x)}` {x['function']}(): {x['api']} with {x['gfp']} can fail ({why}); "
                   f"checked at line {x['check_line']}; inject with {x['inject']}{_cc(x)}")
    return out + [""]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _where_d(x: dict) -> str:
    return f"{x['file']}:{x['line']}"


CSV_FIELDS = ("section", "status", "group", "kind", "file", "line", "column", "function", "api", "gfp",
              "verdict", "reasons", "dead_lines", "dead_line_ranges", "message")


def _csv_rows(w: dict):
    common = {"section": w["section"], "status": w["status"]}
    for b in w["bugs"]:
        yield {**common, "group": "bug", "kind": b["rule"], **_loc(b), "message": b["message"]}
    for target, items in w["migrations"].items():
        for m in items:
            yield {**common, "group": "migrate", "kind": target, **_loc(m), "dead_lines": m["dead_lines"],
                   "dead_line_ranges": m["dead_line_ranges"], "message": m["why"]}
    for x in w["fault_injection"]:
        yield {**common, "group": "fault-injection", "kind": x["inject"], **_loc(x),
               "message": f"checked at line {x['check_line']}"}


def _loc(x: dict) -> dict:
    return {k: x[k] for k in ("file", "line", "column", "function", "api", "gfp", "verdict")} | {
        "reasons": " ".join(x["reasons"])}


def render_csv(rows) -> str:
    buf = io.StringIO()
    wr = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    wr.writeheader()
    for row in rows:
        wr.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buf.getvalue()


def _csv_cell(v):
    # A cell starting with = + - @ is a formula to spreadsheet programs; text from the tree must stay text.
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def render(w: dict, fmt: str, meta: dict) -> str:
    if fmt == "markdown":
        return render_markdown(w, meta)
    if fmt == "csv":
        return render_csv(_csv_rows(w))
    return json.dumps({"meta": meta, **w}, indent=2) + "\n"


def render_index(entries: list, fmt: str, meta: dict) -> str:
    """entries: (file name, worklist dict)."""
    if fmt == "json":
        return json.dumps({"meta": meta, "worklists": [
            {"file": name, **{k: w[k] for k in ("section", "status", "flag", "sites", "dead_lines")},
             "bugs": len(w["bugs"]), "migrations": sum(len(v) for v in w["migrations"].values()),
             "fault_injection": len(w["fault_injection"])} for name, w in entries]}, indent=2) + "\n"
    if fmt == "csv":
        rows = [{"file": n, "section": w["section"], "status": w["status"], "flag": w["flag"], "sites": w["sites"],
                 "bugs": len(w["bugs"]), "migrations": sum(len(v) for v in w["migrations"].values()),
                 "dead_lines": w["dead_lines"], "fault_injection": len(w["fault_injection"])} for n, w in entries]
        buf = io.StringIO()
        wr = csv.DictWriter(buf, fieldnames=["file", "section", "status", "flag", "sites", "bugs", "migrations",
                                             "dead_lines", "fault_injection"], lineterminator="\n")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: _csv_cell(v) for k, v in r.items()})
        return buf.getvalue()
    out = ["# gfplint worklists", "", f"{meta['coverage']}.", "",
           "| section | status | sites | bugs | migrations | dead lines | fault injection | file |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for name, w in entries:
        status = w["status"] + (" **(" + w["flag"].split(":")[0] + ")**" if w["flag"] else "")
        out.append(f"| {_md_cell(w['section'])} | {_md_cell(status)} | {w['sites']} | {len(w['bugs'])} | "
                   f"{sum(len(v) for v in w['migrations'].values())} | {w['dead_lines']} | "
                   f"{len(w['fault_injection'])} | [{name}]({name}) |")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ------------------------------------------------------------------ output


def build(subsystems: dict, fmt: str, meta: dict) -> dict[str, str]:
    """File name -> content for every worklist and the index."""
    ext = FORMATS[fmt]
    names = safe_names(list(subsystems))
    files, entries = {}, []
    for title, sub in subsystems.items():
        w = plan_for(sub)
        name = names[title] + ext
        files[name] = render(w, fmt, meta)
        entries.append((name, w))
    files["index" + ext] = render_index(entries, fmt, meta)
    return files


def write_dir(directory: str, files: dict[str, str]) -> None:
    """Write FILES into DIRECTORY: all of them or, on error, none of the new ones.

    Everything is written into a temporary directory inside DIRECTORY first and
    then renamed into place; worklists of an earlier run that this run no
    longer produces (listed in the manifest) are removed.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".gfplint-tmp-", dir=d))
    try:
        for name, text in files.items():
            assert os.sep not in name and not name.startswith(".")  # safe_names guarantees it
            (tmp / name).write_text(text, encoding="utf-8")
        (tmp / MANIFEST).write_text("".join(n + "\n" for n in sorted(files)), encoding="utf-8")
        old = _manifest(d)
        for name in [*files, MANIFEST]:
            os.replace(tmp / name, d / name)
        for stale in old - set(files):
            (d / stale).unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _manifest(d: Path) -> set:
    try:
        names = (d / MANIFEST).read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return set()
    # Only plain names we could have written: a doctored manifest must not delete elsewhere.
    return {n for n in names if "/" not in n and os.sep not in n and not n.startswith(".")}
