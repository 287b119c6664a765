"""The census: per subsystem and in total, how many sites can fail and how much is dead.

This is the table the 2024 linux-mm "too small to fail" discussion lacked:
sites by verdict, the too-small-to-fail share, the error-handling lines only
fault injection reaches, explicit __GFP_NOFAIL sites, why may-fail sites may
fail, and bug findings by rule.  Every site is counted once, under its most
specific MAINTAINERS section, so rows add up to the total.

Printed as Markdown-style tables (they read the same in a terminal, a mail
and a rendered document), and written as JSON and CSV.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

from .model.verdict import VERDICTS
from .subsystems import BUG_RULES, directory_of, nofail_site

TOTAL = "TOTAL"


def row(name: str, items: list, extra_findings=()) -> dict:
    """The census counts of one subsystem (ITEMS: SiteItem)."""
    verdicts = Counter(i.result.verdict for i in items)
    reasons = Counter(reason for i in items if i.result.verdict == "may-fail" for reason in i.result.reasons)
    bugs = Counter(f.rule for i in items for f in i.findings if f.rule in BUG_RULES)
    bugs.update(f.rule for f in extra_findings if f.rule in BUG_RULES)
    n = len(items)
    tstf = verdicts.get("too-small-to-fail", 0)
    return {
        "subsystem": name,
        "sites": n,
        "verdicts": {v: verdicts.get(v, 0) for v in VERDICTS},
        "too_small_to_fail_share": round(tstf / n, 4) if n else 0.0,
        "dead_lines": sum(len(i.result.dead_lines) for i in items),
        "sites_with_dead_lines": sum(1 for i in items if i.result.dead_lines),
        "gfp_nofail_sites": sum(1 for i in items if nofail_site(i.result)),
        "may_fail_reasons": dict(sorted(reasons.items())),
        "bugs": {r: bugs.get(r, 0) for r in BUG_RULES},
    }


def compute(subsystems: dict, meta: dict, top: int = 10) -> dict:
    rows = [row(name, sub.items, sub.orphan_findings) for name, sub in subsystems.items()]
    all_items = [i for sub in subsystems.values() for i in sub.items]
    loose = [f for sub in subsystems.values() for f in sub.orphan_findings]
    total = row(TOTAL, all_items, loose)
    ranked = sorted((r for r in rows if r["dead_lines"]), key=lambda r: (-r["dead_lines"], r["subsystem"]))
    return {"meta": meta, "subsystems": rows, "total": total,
            "top_by_dead_lines": [{"subsystem": r["subsystem"], "dead_lines": r["dead_lines"],
                                   "sites": r["sites"], "too_small_to_fail_share": r["too_small_to_fail_share"]}
                                  for r in ranked[:top]]}


def by_directory(subsystems: dict, depth: int = 1) -> dict:
    """Dead lines and too-small-to-fail share per top-level directory (for the plot)."""
    groups: dict = {}
    for sub in subsystems.values():
        for i in sub.items:
            groups.setdefault(directory_of(i.site.file, depth), []).append(i)
    return {d: row(d, items) for d, items in sorted(groups.items())}


# ------------------------------------------------------------------ text


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def tables(doc: dict):
    """(title, rich Table): subsystems, may-fail reasons, bugs by rule, top-N by dead lines."""
    from rich import box
    from rich.table import Table

    main = Table(box=box.MARKDOWN)
    for col in ("subsystem", "sites", *VERDICTS, "tstf share", "dead lines", "__GFP_NOFAIL", "bugs"):
        main.add_column(col, justify="left" if col == "subsystem" else "right", no_wrap=True)
    for r in [*doc["subsystems"], doc["total"]]:
        main.add_row(r["subsystem"], str(r["sites"]), *(str(r["verdicts"][v]) for v in VERDICTS),
                     _pct(r["too_small_to_fail_share"]), str(r["dead_lines"]), str(r["gfp_nofail_sites"]),
                     str(sum(r["bugs"].values())))
    reasons = Table(box=box.MARKDOWN,
                    title_justify="left")
    reasons.add_column("reason")
    reasons.add_column("sites", justify="right")
    for k, n in sorted(doc["total"]["may_fail_reasons"].items(), key=lambda kv: (-kv[1], kv[0])):
        reasons.add_row(k, str(n))
    bugs = Table(box=box.MARKDOWN)
    bugs.add_column("rule")
    bugs.add_column("findings", justify="right")
    for k, n in doc["total"]["bugs"].items():
        bugs.add_row(k, str(n))
    top = Table(box=box.MARKDOWN)
    for col in ("subsystem", "dead lines", "sites", "tstf share"):
        top.add_column(col, justify="left" if col == "subsystem" else "right", no_wrap=True)
    for r in doc["top_by_dead_lines"]:
        top.add_row(r["subsystem"], str(r["dead_lines"]), str(r["sites"]), _pct(r["too_small_to_fail_share"]))
    return [("Allocation sites per subsystem", main),
            ("Why may-fail sites may fail (a site can have several reasons)", reasons),
            ("Bug findings by rule", bugs),
            (f"Top {len(doc['top_by_dead_lines'])} subsystems by dead error-handling lines", top)]


def print_census(doc: dict, console) -> None:
    m = doc["meta"]
    console.print(f"gfplint census: {m['coverage']}", highlight=False, soft_wrap=True)
    console.print("tstf = too-small-to-fail: cannot fail in production under today's allocator; "
                  "dead lines: error handling behind such sites that only fault injection reaches.",
                  highlight=False, soft_wrap=True)
    for title, t in tables(doc):
        console.print()
        console.print(f"## {title}", highlight=False, soft_wrap=True)
        console.print()
        console.print(table_text(t), highlight=False, soft_wrap=True, markup=False)


def table_text(table) -> str:
    """A table as plain Markdown lines: no padding lines, no trailing blanks (mail clients keep them)."""
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=400, no_color=True, highlight=False).print(table)
    lines = [line.rstrip() for line in buf.getvalue().splitlines()]
    return "\n".join(line for line in lines if line)


# ------------------------------------------------------------------ files


CSV_FIELDS = ("subsystem", "sites", *VERDICTS, "too_small_to_fail_share", "dead_lines", "sites_with_dead_lines",
              "gfp_nofail_sites", *(f"bug:{r}" for r in BUG_RULES), "may_fail_reasons")


def to_csv(doc: dict) -> str:
    buf = io.StringIO()
    wr = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    wr.writeheader()
    for r in [*doc["subsystems"], doc["total"]]:
        flat = {"subsystem": _cell(r["subsystem"]), "sites": r["sites"], **r["verdicts"],
                "too_small_to_fail_share": r["too_small_to_fail_share"], "dead_lines": r["dead_lines"],
                "sites_with_dead_lines": r["sites_with_dead_lines"], "gfp_nofail_sites": r["gfp_nofail_sites"],
                **{f"bug:{k}": v for k, v in r["bugs"].items()},
                "may_fail_reasons": " ".join(f"{k}={v}" for k, v in r["may_fail_reasons"].items())}
        wr.writerow(flat)
    return buf.getvalue()


def _cell(v: str) -> str:
    return "'" + v if v[:1] in ("=", "+", "-", "@") else v


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2) + "\n"


class PlotUnavailable(RuntimeError):
    pass


def plot(per_dir: dict, path: str, title: str) -> None:
    """PNG: dead lines (bars) and too-small-to-fail share (dots) per top-level directory."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed, and none is looked for
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("matplotlib is not installed (pip install 'gfplint[plot]'); plot skipped") from None
    names = list(per_dir)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(names) + 2), 4.5))
    ax.bar(names, [per_dir[n]["dead_lines"] for n in names], color="#8c564b")
    ax.set_ylabel("dead error-handling lines")
    ax.tick_params(axis="x", rotation=45)
    share = ax.twinx()
    share.plot(names, [100 * per_dir[n]["too_small_to_fail_share"] for n in names], "o", color="#1f77b4")
    share.set_ylabel("too-small-to-fail share of sites (%)")
    share.set_ylim(0, 100)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
