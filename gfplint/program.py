"""Link the Facts of all translation units and judge every site.

Sites and functions seen by several TUs (headers, #included .c files) are
kept once.  Each site gets a verdict from the model, and each failure branch
its dead lines: the branch itself, plus the label regions it jumps into that
no live path reaches (a label shared with a site that can really fail, or
with any other error check, stays live).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import callgraph
from .catalog import Catalog
from .facts import FunctionFacts, Site, TUFacts
from .frontend.ctext import GfpEnv, Unresolved, eval_gfp
from .model.flags import layout as flag_layout
from .model.verdict import Request, Verdict, classify_site, weakest

DEAD_VERDICTS = ("too-small-to-fail", "nofail")


@dataclass
class SiteResult:
    site: Site
    verdict: str
    reasons: tuple
    dead_lines: list = field(default_factory=list)  # lines only fault injection reaches
    live_labels: list = field(default_factory=list)  # labels of its path that stay live, and why
    atomic: list | None = None  # witness steps when the site may run in atomic context
    noreclaim: list | None = None  # witness steps when a memalloc_noreclaim scope may be open
    scopes: list = field(default_factory=list)  # memalloc scopes that hold on every path to the site
    kinds: dict = field(default_factory=dict)  # task kind (kthread, user) -> witness steps
    kthread_only: bool = False  # every path into the site starts at a kthread/work-item entry
    alloc_only: bool = True  # the failure value means only "allocation failed"
    gfp_from: list = field(default_factory=list)  # callers whose gfp_t argument gave the masks
    atomic_masks: list | None = None  # for a gfp_t-parameter site: the masks on its atomic path ([]: unknown)

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
    registrations: list = field(default_factory=list)
    contexts: object = None  # callgraph.Contexts
    wrappers: dict = field(default_factory=dict)  # function id -> why it is a wrapper
    first_use: bool = False  # report sleep-in-atomic paths through a lazy initialization (--first-use)


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
        size_min=(site.size_min or 0) if site.size is None and site.size_max is not None else None,
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


def judge(site: Site, catalog: Catalog, kernel: str, scopes=frozenset(), masks=None, unresolved=False) -> Verdict:
    masks = site.masks if masks is None else masks
    masks = None if masks is None else [frozenset(m) for m in masks]
    req = replace(request_for(site, catalog, kernel), scopes=frozenset(scopes))
    if site.retried:
        return Verdict("nofail", ("retried",))
    v = classify_site(req, masks)
    if unresolved and masks:
        v = weakest([v, Verdict("unknown", ("gfp-parameter",))])
    if site.gfp_params and v.verdict == "unknown" and not masks:
        return Verdict("unknown", ("gfp-parameter",))
    return v


def link(facts: list[TUFacts], catalog: Catalog, root: str, kernel: str, user_prefixes=None,
         through_fields: bool = False, through_inlines: bool = False) -> Program:
    """THROUGH_FIELDS: calls through a struct member pointer become edges to every function stored in
    that field of that struct type (lower confidence: findings that use such an edge say so)."""
    prog = Program(root=root, kernel=kernel, tus=len(facts))
    resolve_caches(facts)
    seen = {}
    field_functions, taken = [], []
    for tu in facts:
        prog.diagnostics += tu.diagnostics
        prog.registrations += tu.registrations
        field_functions += tu.field_functions
        taken += tu.taken
        if tu.parse_errors:
            prog.tus_with_errors += 1
        for s in tu.sites:
            seen.setdefault(s.key + (s.api,), s)
        for f in tu.functions:
            prog.functions.setdefault((f.file, f.name), f)
    from .context_catalog import load_context_catalog

    cat = getattr(catalog, "context", None) or load_context_catalog()
    if user_prefixes is None:
        user_prefixes = cat.user_entry_prefixes
    g = callgraph.build_graph(prog.functions, prog.registrations, field_functions if through_fields else None,
                              through_inlines)
    prog.registrations += callgraph.wrapped_registrations(g)
    entered = callgraph.address_taken(g, prog.registrations, field_functions, taken)
    prog.contexts = callgraph.propagate(g, prog.registrations, tuple(user_prefixes), cat.boot_entries, entered)
    sites = sorted(seen.values(), key=lambda s: (s.file, s.line, s.column, s.api))
    for s in sites:
        callgraph.settle_site_guards(g, s)
    derived = sites
    for _ in range(MAX_WRAPPER_LEVELS):  # a wrapper of a wrapper: its calls are sites too
        derived = _wrapper_sites(prog, g, derived, catalog)
        known = {s.key + (s.api,) for s in sites}
        unique = {}
        for d in derived:  # one call seen from several TUs or through several inner returns
            if d.key + (d.api,) not in known:
                unique.setdefault(d.key + (d.api,), d)
        derived = list(unique.values())
        if not derived:
            break
        sites += derived
    wrapper_calls = {(s.file, s.line, s.via) for s in sites if s.via}
    for s in sorted(sites, key=lambda s: (s.file, s.line, s.column, s.api)):
        prog.sites.append(_judge_in_context(prog, g, s, catalog, kernel, wrapper_calls))
    _dead_lines(prog, catalog)
    return prog


def _function_node(g, site: Site):
    return callgraph.node_for(g, site.file, site.function)


def _judge_in_context(prog: Program, g, s: Site, catalog: Catalog, kernel: str, wrapper_calls=frozenset()) -> SiteResult:
    ctx = prog.contexts
    node = _function_node(g, s)
    must = set(s.scopes_must) | set(ctx.must.get(node, ())) if node else set(s.scopes_must)
    scopes = {x for x in must if x in ("nofs", "noio", "pin")}
    noreclaim = None
    if "noreclaim" in s.scopes_may:
        noreclaim = [callgraph.step(s.file, s.line, s.function, "allocates inside memalloc_noreclaim_save()")]
    elif node in ctx.noreclaim:
        noreclaim = ctx.noreclaim[node] + [callgraph.step(s.file, s.line, s.function, f"{s.api}() here")]
    if noreclaim:
        scopes.add("noreclaim")
    masks, unresolved, gfp_from = s.masks, False, []
    api = catalog.lookup(s.inner_api or s.api)
    if s.gfp_params and s.masks is None and node is not None:
        adds = frozenset(api.adds) if api is not None else frozenset()
        masks, unresolved, gfp_from = _masks_from_callers(g, node, s, kernel, adds)
    v = judge(s, catalog, kernel, scopes, masks, unresolved)
    r = SiteResult(s, v.verdict, v.reasons, scopes=sorted(scopes), noreclaim=noreclaim,
                   alloc_only=api.alloc_only if api is not None else True, gfp_from=gfp_from)
    if masks is not None and s.masks is None:
        r.site = replace(s, masks=[sorted(m) for m in masks])
    r.atomic, consts = _atomic_witness(s, node, ctx, g, wrapper_calls if wrapped(s) else frozenset())
    # a section the function opens itself runs with every caller's mask: the site's own masks;
    # a section inherited from a caller, with the mask that caller's path passes
    if r.atomic is not None and s.gfp_params and s.masks is None and not s.held:
        adds = frozenset(api.adds) if api is not None else frozenset()
        r.atomic_masks = _masks_on_path(s, consts, kernel, adds)
    r.kinds = {k: w for k, w in ctx.kinds.get(node, {}).items()} if node else {}
    r.kthread_only = node in ctx.kthread_only if node else False
    return r


def _atomic_witness(s: Site, node, ctx, g, wrapper_calls=frozenset()) -> tuple:
    """(witness steps, known parameter values on that path), or (None, {}) when no atomic context
    reaches the site.  A site whose mask is a gfp_t parameter prefers a path that knows the mask.
    A wrapper's allocation prefers a path that does not enter through one of WRAPPER_CALLS (the
    (file, line, wrapper) of calls that are allocation sites themselves): those paths are
    reported at the call, so the witness shows the one path that is not."""
    if node in ctx.boot:
        return None, {}  # early boot: GFP_BOOT_MASK strips direct reclaim, nothing here can sleep in it
    if s.held:
        cls, key, line, api = s.held[0]
        return [callgraph.step(s.file, line, s.function, f"{api}({key}) acquired here"),
                callgraph.conditional(callgraph.step(s.file, s.line, s.function, f"{s.api}() called with it held"),
                                      s.conds, s.first_use)], {}
    if node is None or node not in ctx.atomic:
        return None, {}
    if not s.inherits or s.slept or callgraph.slept_before(g, s.file, s.before, ctx.sleeping):
        return None, {}  # the function released its caller's lock, or already slept, before this site
    states = [(c, p) for c, p in ctx.atomic_states.get(node, []) if callgraph.allows(s.guards, c)]
    # the witness: one that goes through no lazy initialization (callgraph.first_use_steps()) first,
    # then one that knows the gfp_t mask, then the fewest conditions left to check (the path's
    # and the site's own), then the shortest
    states.sort(key=lambda cp: (bool(callgraph.first_use_steps(cp[1])),
                                _enters_at(cp[1], s.function) in wrapper_calls,
                                not all(callgraph.GFP_PREFIX + p in cp[0] for p in s.gfp_params),
                                _site_cost(s, cp)))
    for consts, path in states:
        if _enters_at(path, s.function) in wrapper_calls:  # that path is reported at the call
            path = ctx.atomic_plain.get((node, callgraph.state_key(consts)), path)
        here = callgraph.step(s.file, s.line, s.function, f"{s.api}() called here")
        return path + [callgraph.conditional(here, callgraph.open_conditions(s.guards, consts) + s.conds,
                                             s.first_use)], consts
    return None, {}


def _enters_at(path: list, function: str) -> tuple:
    """(file, line, FUNCTION) of the call that ends PATH, the step into FUNCTION."""
    return (path[-1]["file"], path[-1]["line"], function) if path else ()


def _site_cost(s: Site, state: tuple) -> tuple:
    once, conds, steps = callgraph.witness_cost(state[1])
    return (once, conds + len(callgraph.open_conditions(s.guards, state[0])), steps)


def _masks_on_path(s: Site, consts: dict, kernel: str, adds: frozenset) -> list:
    """The site's masks given the gfp_t values its atomic path passes ([] when the path does not
    say: the mask that makes the site sleep may come from another, non-atomic caller)."""
    values = {p: consts.get(callgraph.GFP_PREFIX + p) for p in s.gfp_params}
    if any(v is None for v in values.values()):
        return []
    return _masks_given(s, values, kernel, adds) or []


def _masks_given(s: Site, values: dict, kernel: str, adds: frozenset) -> list | None:
    """The site's gfp expression evaluated with each gfp_t parameter's possible masks (VALUES),
    plus the bits the API itself adds; None when the expression cannot be evaluated."""
    locals_ = {p: [("=", "|".join(sorted(m)) or "0") for m in ms] for p, ms in values.items() if ms}
    try:
        masks = eval_gfp(s.gfp or "", GfpEnv(flag_layout(kernel), locals_))
    except Unresolved:
        return None
    return [sorted(set(m) | adds) for m in masks]


def _compatible(call, facts, guards: dict) -> bool:
    """The call's constant arguments do not make the guarded site dead."""
    return callgraph.allows(guards, callgraph.callee_consts(call, facts.params, {}))


def _masks_from_callers(g, node, s: Site, kernel: str, adds: frozenset):
    """Masks of a site whose gfp is a gfp_t parameter: what every caller passes (recursively),
    plus the bits the API itself adds (kzalloc's __GFP_ZERO)."""
    values: dict = {}
    unresolved = False
    froms = []
    for param in s.gfp_params:
        found, unres, who = _param_values(g, node, param, 0, set())
        unresolved |= unres
        froms += who
        values[param] = found
    if not any(values.values()):
        return None, True, froms
    masks = _masks_given(s, values, kernel, adds)
    return (masks, unresolved, froms) if masks is not None else (None, True, froms)


MAX_DEPTH = 6
MAX_WRAPPER_LEVELS = 4


def _param_values(g, node, param: str, depth: int, seen: set):
    facts = g.nodes[node]["facts"]
    if param not in facts.params or depth > MAX_DEPTH or (node, param) in seen:
        return set(), True, []
    seen = seen | {(node, param)}
    idx = str(facts.params.index(param))
    found, unresolved, who = set(), False, []
    callers = list(g.in_edges(node, data=True))
    if not callers:
        return set(), True, []
    for caller, _, data in callers:
        arg = data["call"].gfp_args.get(idx)
        cfacts = g.nodes[caller]["facts"]
        if arg is None:
            unresolved = True
        elif isinstance(arg, dict):
            sub, unres, sub_who = _param_values(g, caller, arg["param"], depth + 1, seen)
            found |= sub
            unresolved |= unres
            who += sub_who
        else:
            found |= {frozenset(m) for m in arg}
            who.append(f"{cfacts.name}() at {cfacts.file}:{data['call'].line}")
    return found, unresolved, who


# ------------------------------------------------------------------ wrappers


def wrapped(s: Site) -> bool:
    """S is the allocation its function hands to its callers (returned unchecked, or retried until
    it succeeds): the function is a wrapper, and each call to it is S again, with the caller's mask.
    Not when no path of the function reaches S in this configuration (a stub's compiled-out body)."""
    return s.live and (s.result == "returned" or (s.retried and s.via is None))


def _wrapper_sites(prog: Program, g, sites: list, catalog: Catalog) -> list:
    """Each call to a function that returns an allocation's result unchecked is an allocation site too."""
    inner_by_fn: dict = {}
    for s in sites:
        if wrapped(s):
            node = _function_node(g, s)
            if node is not None:
                inner_by_fn.setdefault(node, []).append(s)
    out = []
    for node, inners in inner_by_fn.items():
        fn = g.nodes[node]["facts"]
        inner = inners[0]
        why = ("loops until its allocation succeeds" if inner.retried
               else f"returns the result of {inner.api}() unchecked")
        prog.wrappers[node] = {"function": fn.name, "file": fn.file, "line": fn.line, "inner": inner.api,
                               "inner_line": inner.line, "why": why,
                               "gfp_param": inner.gfp_params[0] if inner.gfp_params else None}
        for caller, _, data in g.in_edges(node, data=True):
            c = data["call"]
            if c.result is None:
                continue
            # the returns this call can reach, by its constant arguments (alloc(bool nofail))
            reach = [i for i in inners if _compatible(c, fn, i.guards)] or inners
            d = _derived(reach[0], fn, c, prog.kernel, catalog)
            for other in reach[1:]:
                extra = _derived(other, fn, c, prog.kernel, catalog)
                d = replace(d, masks=None if d.masks is None or extra.masks is None else
                            sorted(d.masks + [m for m in extra.masks if m not in d.masks]),
                            retried=d.retried and extra.retried,
                            size=None if d.size != extra.size else d.size)
            out.append(d)
    return out


def _derived(inner: Site, fn: FunctionFacts, call, kernel: str, catalog: Catalog) -> Site:
    """The call to wrapper FN as an allocation site of its caller.  Where it runs (locks, guards,
    lazy-initialization marks) is the caller's, at CALL: the inner site's name the wrapper's own
    parameters."""
    r = call.result
    d = replace(inner, file=r.file, line=r.line, column=r.column, function=r.function, api=fn.name,
                call=call.call, result=r.result, stored_in=r.stored_in, checked=r.checked,
                used_unchecked_line=r.used_unchecked_line, error_path=r.error_path, held=list(call.held),
                scopes_must=list(call.scopes_must), scopes_may=list(call.scopes_may), inherits=call.inherits,
                slept=call.slept, before=list(call.before), guards=dict(call.guards), conds=list(call.conds),
                first_use=list(call.first_use), via=fn.name,
                inner_api=inner.inner_api or inner.api, retried=inner.retried)
    if inner.gfp_params and inner.gfp_params[0] in fn.params:
        arg = call.gfp_args.get(str(fn.params.index(inner.gfp_params[0])))
        if isinstance(arg, list):
            api = catalog.lookup(inner.inner_api or inner.api)
            adds = frozenset(api.adds) if api is not None and not inner.via else frozenset()
            d = replace(d, masks=_substitute(inner, arg, kernel, adds), gfp_params=[])
        elif isinstance(arg, dict):
            d = replace(d, masks=None, gfp_params=[arg["param"]], gfp=arg["param"])
        else:
            d = replace(d, masks=None, gfp_params=[], gfp_note="caller's mask unresolved")
    if inner.size is None and inner.size_text in fn.params:
        v = call.size_args.get(str(fn.params.index(inner.size_text)))
        if v is not None:
            d = replace(d, size=v)
    return d


def _substitute(inner: Site, arg_masks: list, kernel: str, adds: frozenset) -> list | None:
    """The wrapper's mask expression (and its API's added bits) with the caller's masks for its
    gfp_t parameter; None when the expression does not resolve."""
    env = GfpEnv(flag_layout(kernel), {inner.gfp_params[0]: [("=", "|".join(m) or "0") for m in arg_masks]})
    try:
        masks = eval_gfp(inner.gfp or inner.gfp_params[0], env)
    except Unresolved:
        return None
    return [sorted(set(m) | adds) for m in masks]


def _dead_branch(r: SiteResult, catalog: Catalog) -> bool:
    """The failure branch runs only under fault injection."""
    return r.verdict in DEAD_VERDICTS and r.site.error_path is not None and r.alloc_only


def _dead_lines(prog: Program, catalog: Catalog) -> None:
    by_fn: dict = {}
    for r in prog.sites:
        by_fn.setdefault((r.site.file, r.site.function), []).append(r)
    for key, results in by_fn.items():
        fn = prog.functions.get(key)
        dead = [r for r in results if _dead_branch(r, catalog)]
        dead_lines = {line for r in dead for line in r.site.error_path.lines}
        live = _live_regions(fn, dead_lines) if fn else set()
        for r in dead:
            lines = set(r.site.error_path.lines)
            for region in _regions_from(fn, r.site.error_path.gotos) if fn else []:
                if region.name in live:
                    r.live_labels.append(region.name)
                else:
                    lines.update(region.lines)
            r.dead_lines = sorted(lines)


def _live_regions(fn: FunctionFacts, dead_lines: set) -> set:
    """Label regions reached by some path that is not a dead failure branch."""
    order = [r.name for r in fn.labels]
    regions = {r.name: r for r in fn.labels}
    live, work = set(), []
    if fn.labels and fn.body_falls_through:
        work.append(order[0])
    for g in fn.gotos:
        if g.region is None and g.line not in dead_lines:
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
