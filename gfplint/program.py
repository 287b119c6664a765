"""Link the Facts of all translation units and judge every site.

Sites and functions seen by several TUs (headers, #included .c files) are
kept once.  Each site gets a verdict from the model, and each failure branch
its dead lines: the branch itself, plus the label regions it jumps into that
no live path reaches (a label shared with a site that can really fail, or
with any other error check, stays live).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .catalog import Catalog
from .facts import Diagnostic, FunctionFacts, Site, TUFacts
from .model.verdict import Request, Verdict, classify_site

DEAD_VERDICTS = ("too-small-to-fail", "nofail")


@dataclass
class SiteResult:
    site: Site
    verdict: str
    reasons: tuple
    dead_lines: list = field(default_factory=list)  # lines only fault injection reaches
    live_labels: list = field(default_factory=list)  # labels of its path that stay live, and why

    @property
    def masks(self):
        return self.site.masks


@dataclass
class Program:
    root: str
    kernel: str
    sites: list = field(default_factory=list)  # SiteResult, sorted by location
    functions: dict = field(default_factory=dict)  # (file, name) -> FunctionFacts
    diagnostics: list = field(default_factory=list)
    tus: int = 0
    tus_with_errors: int = 0


def request_for(site: Site, catalog: Catalog, kernel: str) -> Request:
    size = site.size if site.size is not None else site.size_max
    if site.backend == "page":
        size = None
    return Request(
        backend=site.backend,
        flags=None,
        size=size,
        order=site.order,
        overflow=site.overflow,
        accounted=site.accounted,
        lowmem_cache=site.lowmem_cache,
        kernel=kernel,
    )


def resolve_caches(facts: list[TUFacts]) -> None:
    """Give kmem_cache_alloc(cache) sites the object size and flags of their cache."""
    by_name: dict = {}
    for tu in facts:
        for c in tu.caches:
            by_name.setdefault(c.name, []).append(c)
    for tu in facts:
        for s in tu.sites:
            if not s.cache or s.size is not None:
                continue
            found = by_name.get(s.cache, [])
            same_file = [c for c in found if c.file == s.file]
            pick = same_file or found
            if len({(c.size, c.accounted, c.lowmem) for c in pick}) == 1 and pick[0].size is not None:
                s.size, s.accounted, s.lowmem_cache = pick[0].size, pick[0].accounted, pick[0].lowmem
                s.size_text = f"object size of {s.cache} ({pick[0].file}:{pick[0].line})"


def judge(site: Site, catalog: Catalog, kernel: str) -> Verdict:
    masks = None if site.masks is None else [frozenset(m) for m in site.masks]
    v = classify_site(request_for(site, catalog, kernel), masks)
    if site.gfp_params and v.verdict == "unknown":
        return Verdict("unknown", ("gfp-parameter",))
    return v


def link(facts: list[TUFacts], catalog: Catalog, root: str, kernel: str) -> Program:
    prog = Program(root=root, kernel=kernel, tus=len(facts))
    resolve_caches(facts)
    seen = {}
    for tu in facts:
        prog.diagnostics += tu.diagnostics
        if tu.parse_errors:
            prog.tus_with_errors += 1
        for s in tu.sites:
            seen.setdefault(s.key + (s.api,), s)
        for f in tu.functions:
            prog.functions.setdefault((f.file, f.name), f)
    for s in sorted(seen.values(), key=lambda s: (s.file, s.line, s.column, s.api)):
        v = judge(s, catalog, kernel)
        prog.sites.append(SiteResult(s, v.verdict, v.reasons))
    _dead_lines(prog, catalog)
    return prog


def _dead_branch(r: SiteResult, catalog: Catalog) -> bool:
    """The failure branch runs only under fault injection."""
    api = catalog.lookup(r.site.api)
    return (r.verdict in DEAD_VERDICTS and r.site.error_path is not None
            and api is not None and api.alloc_only)


def _dead_lines(prog: Program, catalog: Catalog) -> None:
    by_fn: dict = {}
    for r in prog.sites:
        by_fn.setdefault((r.site.file, r.site.function), []).append(r)
    for key, results in by_fn.items():
        fn = prog.functions.get(key)
        dead_sites = {r.site.key for r in results if _dead_branch(r, catalog)}
        live = _live_regions(fn, dead_sites) if fn else set()
        for r in results:
            if r.site.key not in dead_sites:
                continue
            lines = set(r.site.error_path.lines)
            for region in _regions_from(fn, r.site.error_path.gotos) if fn else []:
                if region.name in live:
                    r.live_labels.append(region.name)
                else:
                    lines.update(region.lines)
            r.dead_lines = sorted(lines)


def _live_regions(fn: FunctionFacts, dead_sites: set) -> set:
    """Label regions reached by some path that is not a dead failure branch."""
    order = [r.name for r in fn.labels]
    regions = {r.name: r for r in fn.labels}
    live, work = set(), []
    if fn.labels and fn.body_falls_through:
        work.append(order[0])
    for g in fn.gotos:
        if g.region is None and g.site not in dead_sites:
            work.append(g.label)
    while work:
        name = work.pop()
        if name in live or name not in regions:
            continue
        live.add(name)
        work += [g.label for g in fn.gotos if g.region == name]
        i = order.index(name)
        if regions[name].falls_through and i + 1 < len(order):
            work.append(order[i + 1])
    return live


def _regions_from(fn: FunctionFacts, labels: list):
    """Regions a failure branch runs through: each goto target and what it falls into."""
    order = [r.name for r in fn.labels]
    regions = {r.name: r for r in fn.labels}
    out, seen, work = [], set(), list(labels)
    while work:
        name = work.pop()
        if name in seen or name not in regions:
            continue
        seen.add(name)
        out.append(regions[name])
        work += [g.label for g in fn.gotos if g.region == name]
        i = order.index(name)
        if regions[name].falls_through and i + 1 < len(order):
            work.append(order[i + 1])
    return sorted(out, key=lambda r: r.line)
