"""Who owns a site: its MAINTAINERS section (or directory), and what to do about it.

Shared by worklists and the census.  Each site belongs to exactly one
subsystem, its most specific MAINTAINERS section, so census rows add up to the
total; the other matching sections are kept as `also` (a worklist names them
as Cc).  Without a MAINTAINERS file the subsystem is the directory.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .maintainers import Maintainers, Section

BUG_RULES = ("sleep-in-atomic", "nofail-misuse", "unchecked-may-fail", "always-fails")
OUTSIDE = "(outside the tree)"
UNOWNED = "(no MAINTAINERS section)"


@dataclass
class SiteItem:
    """One judged site with the findings reported at it."""

    result: object  # program.SiteResult
    findings: list = field(default_factory=list)

    @property
    def site(self):
        return self.result.site

    def rules(self) -> set:
        return {f.rule for f in self.findings}

    def migration(self):
        return next((f for f in self.findings if f.rule == "migrate"), None)

    def bugs(self) -> list:
        return [f for f in self.findings if f.rule in BUG_RULES]


@dataclass
class Subsystem:
    name: str
    section: Section | None = None
    items: list = field(default_factory=list)  # SiteItem, in location order
    also: dict = field(default_factory=dict)  # site key -> other section titles
    orphan_findings: list = field(default_factory=list)  # findings not at a site (e.g. path witnesses)


def directory_of(path: str, depth: int = 2) -> str:
    """fs/ext4/super.c -> fs/ext4; mm/slub.c -> mm (a directory, never a file name)."""
    parts = path.split("/")[:-1]
    return "/".join(parts[:depth]) or "."


def owner(path: str, maint: Maintainers | None) -> tuple[str, Section | None, list]:
    """(subsystem name, its section, other matching section titles) for a root-relative path."""
    if path.startswith("/") or path.startswith(".."):
        return OUTSIDE, None, []
    if maint is None:
        return directory_of(path), None, []
    found = maint.match(path)
    if not found:
        return UNOWNED, None, []
    return found[0].title, found[0], [s.title for s in found[1:]]


def group(result, maint: Maintainers | None) -> dict[str, Subsystem]:
    """Subsystem name -> Subsystem, every site and finding placed once."""
    # Every SiteResult is one site, even when two share a location (an allocator
    # macro inside another's expansion): findings attach by location and API.
    items = [SiteItem(r) for r in result.program.sites]
    by_key: dict = {}
    by_place: dict = {}
    for item in items:
        s = item.site
        by_key.setdefault((s.file, s.line, s.column, s.api), item)
        by_place.setdefault((s.file, s.line, s.column), item)
    loose = []
    for f in result.findings:
        item = by_key.get((f.file, f.line, f.column, f.api)) or by_place.get((f.file, f.line, f.column))
        (item.findings if item else loose).append(f)
    subs: dict[str, Subsystem] = {}
    for item in sorted(items, key=lambda i: (i.site.file, i.site.line, i.site.column, i.site.api)):
        name, section, also = owner(item.site.file, maint)
        sub = subs.setdefault(name, Subsystem(name, section))
        sub.items.append(item)
        if also:
            sub.also[(item.site.file, item.site.line, item.site.column)] = also
    for f in loose:
        name, section, _ = owner(f.file, maint)
        subs.setdefault(name, Subsystem(name, section)).orphan_findings.append(f)
    return dict(sorted(subs.items()))


def line_ranges(lines) -> str:
    """[13, 14, 40, 41, 42] -> '13-14, 40-42'."""
    out, run = [], []
    for n in sorted(set(lines)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(_span(run))
        run = [n]
    if run:
        out.append(_span(run))
    return ", ".join(out)


def _span(run: list) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def nofail_site(r) -> bool:
    """__GFP_NOFAIL in every mask the site can pass (a census counts explicit promises)."""
    return bool(r.site.masks) and all("__GFP_NOFAIL" in m for m in r.site.masks)


def counter_add(into: dict, key, n: int = 1) -> None:
    into[key] = into.get(key, 0) + n


def by_rule(findings) -> dict:
    out: dict = defaultdict(int)
    for f in findings:
        out[f.rule] += 1
    return dict(sorted(out.items()))
