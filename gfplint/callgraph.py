"""The whole-program call graph and the contexts propagated over it.

Nodes are functions (static ones keyed by file, global ones by name); edges
are call sites labelled with the caller's state there.  Propagation (DSAC /
smatch style, a fixed point over the graph):

- atomic (may): a function registered as an atomic callback, or called from
  an atomic section or from a function entered in atomic context;
- nofs/noio/pin (must): scopes open on every call path into the function
  (used to strip bits from the effective mask);
- noreclaim (may): a memalloc_noreclaim scope on some path (PF_MEMALLOC makes
  small allocations fail);
- task kinds (may): kthread/work-item entries and user-task entries reaching it.

For every derived context one witness path is kept: the chain of steps from
where the context was entered down to the function.  For atomic context it is
the path with the fewest conditions the reader must check, then the shortest;
for the others, the shortest.
"""
from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field, replace

import networkx as nx

from .frontend.ctext import and_operand

MUST_SCOPES = ("nofs", "noio", "pin")


def fid(file: str, name: str, static: bool) -> str:
    return f"{file}::{name}" if static else name


def step(file: str, line: int, function: str, what: str) -> dict:
    return {"file": file, "line": line, "function": function, "what": what}


def allows(guards: dict, consts: dict) -> bool:
    """Known parameter values (CONSTS) do not contradict GUARDS.  A value is an integer, or a tuple
    of the integers it may be (the caller tested `x == A || x == B` before the call)."""
    for param, cond in guards.items():
        if param not in consts:
            continue
        v = consts[param]
        if not any(_meets(x, cond) for x in (v if isinstance(v, tuple) else (v,))):
            return False
    return True


def _meets(v: int, cond: dict) -> bool:
    if "mask" in cond:
        if bool(v & cond["mask"]) != cond["truth"]:
            return False
    elif "truth" in cond and bool(v) != cond["truth"]:
        return False
    if "not_in" in cond and v in cond["not_in"]:
        return False
    return "in" not in cond or v in cond["in"]


def open_conditions(guards: dict, consts: dict) -> list:
    """The conditions of GUARDS that CONSTS do not decide, as C: what a reader must check for the
    call to run (`cpa->pgd` for __cpa_process_fault()'s call to populate_pgd())."""
    out = []
    for key, cond in sorted(guards.items()):
        if key in consts:
            continue
        if "mask" in cond:
            test = f"{key} & {cond['mask']:#x}"
            out.append(test if cond["truth"] else f"!({test})")
        elif "truth" in cond:
            out.append(key if cond["truth"] else f"!{key}")
        if "in" in cond:
            out.append(f"{key} is one of {', '.join(map(str, cond['in']))}")
        if "not_in" in cond:
            out.append(f"{key} is not {', '.join(map(str, cond['not_in']))}")
    return out


def conditional(st: dict, conditions: list, first_use: list = ()) -> dict:
    """Step ST, noting the CONDITIONS under which it happens (text and JSON `conditions`), and the
    fields it needs zero that its function sets itself (JSON `first_use`: lazy initialization,
    frontend.context.first_use())."""
    if conditions:
        st["what"] += ", only if " + " && ".join(and_operand(c) for c in conditions)
        st["conditions"] = conditions
    if first_use:
        st["first_use"] = list(first_use)
    return st


def first_use_steps(path: list) -> list:
    """The steps of PATH that run only until their function first sets a field (lazy initialization),
    outside the function the atomic context starts in: one that takes the lock itself, or an
    interrupt handler, makes its first call in atomic context too, so there the doubt of call
    order does not arise."""
    entry = _entry_function(path)
    return [st for st in path if st.get("first_use") and st["function"] != entry]


def _entry_function(path: list) -> str | None:
    """The function a witness's atomic context starts in: the one that takes the lock, or the
    callback a registration step names (the function of the step after it)."""
    if not path:
        return None
    if path[0]["what"].endswith(" acquired here") or len(path) == 1:
        return path[0]["function"]
    return path[1]["function"]


GFP_PREFIX = "gfp:"  # consts key of a gfp_t parameter's possible masks (kept apart from integer values)


def callee_consts(call, callee_params: list, consts: dict, blocked: dict | None = None) -> dict:
    """Parameter values the callee knows: constants passed, or the caller's known values passed
    through; for gfp_t parameters, the masks passed (`gfp:flags` -> list of masks)."""
    out = {}
    for i, p in enumerate(callee_params):
        k = str(i)
        if k in call.const_args:
            out[p] = call.const_args[k]
        elif k in call.arg_params and call.arg_params[k].lstrip("!") in consts:
            passed = call.arg_params[k]
            v = consts[passed.lstrip("!")]
            if passed.startswith("!"):
                v = tuple(sorted({int(not x) for x in v})) if isinstance(v, tuple) else int(not v)
            out[p] = v
        elif k in call.arg_params and _locked(call, call.arg_params[k]):
            out[p] = 1  # the caller holds spin_lock(p) or spin_lock(&p->lock): p is no NULL pointer
        for f, v in call.field_args.get(k, {}).items():  # &cfg: the local struct's known fields
            out[f"{p}->{f}"] = v
        passed = call.arg_params.get(k)
        if passed and k in call.pass_fields:  # the caller's pointer: its known fields too
            if blocked is not None:  # settle_fields(): what the earlier calls given it may write
                gone = blocked.get(k, set())
            else:
                gone = {"*"} if call.pass_fields[k] else set()
            prefix = passed + "->"
            for key, v in consts.items():
                if key.startswith(prefix) and "*" not in gone and key[len(prefix):] not in gone:
                    out[p + key[len(passed):]] = v
        for f, vals in call.arg_sets.get(k, {}).items():  # `if (msg->cmd == A || ...) f(msg)`
            key = f"{p}->{f}" if f else p
            if key not in out:
                out[key] = vals[0] if len(vals) == 1 else tuple(vals)
        gfp = call.gfp_args.get(k)
        if isinstance(gfp, list):
            out[GFP_PREFIX + p] = gfp
        elif isinstance(gfp, dict) and GFP_PREFIX + gfp.get("param", "") in consts:
            out[GFP_PREFIX + p] = consts[GFP_PREFIX + gfp["param"]]
    return out


def _locked(call, param: str) -> bool:
    """PARAM (a plain parameter name) is a pointer the caller has locked by the CALL, `spin_lock(lock)`
    or `spin_lock(&p->lock)`: it is no NULL pointer there (fs/reiserfs/journal.c
    write_ordered_buffers() holds `lock` and passes it to add_to_chunk(), which tests `if (lock)`)."""
    if not param.isidentifier():
        return False
    return any(h[1] == param or h[1].startswith((f"&{param}->", f"{param}->")) for h in call.held)


MAX_STATES = 16  # constant-argument contexts kept per function before falling back to "unknown"


@dataclass
class Contexts:
    atomic: dict = field(default_factory=dict)  # function id -> witness (list of steps)
    atomic_states: dict = field(default_factory=dict)  # function id -> [(known parameter values, witness)]
    # (function id, state_key(values)) -> a witness of that context entering the function by a call
    # that does not use its result (not a wrapper's site); kept for functions some call uses
    atomic_plain: dict = field(default_factory=dict)
    noreclaim: dict = field(default_factory=dict)
    must: dict = field(default_factory=dict)  # function id -> frozenset of scope classes
    kinds: dict = field(default_factory=dict)  # function id -> {kind: witness}
    kthread_only: set = field(default_factory=set)  # functions entered only from kthread/work-item entries
    graph: nx.MultiDiGraph | None = None
    resolved_pointers: int = 0
    boot: set = field(default_factory=set)  # functions that run only in early boot, under GFP_BOOT_MASK
    sleeping: set = field(default_factory=set)  # functions that may sleep on every path (always_sleeping)


def reachable(g, sources) -> set:
    """SOURCES and every function they reach by call edges (breadth first)."""
    seen = set(sources)
    work = deque(seen)
    while work:
        for x in g.successors(work.popleft()):
            if x not in seen:
                seen.add(x)
                work.append(x)
    return seen


def boot_only(g, entries, registrations) -> set:
    """The boot entries (start_kernel) and every function all of whose callers are boot-only
    (greatest fixed point).  Until kernel_init_freeable() sets gfp_allowed_mask to __GFP_BITS_MASK,
    the page and slab allocators strip __GFP_DIRECT_RECLAIM from every request (mm/page_alloc.c:
    gfp_allowed_mask = GFP_BOOT_MASK), so start_kernel()'s interrupts-off stretch cannot make an
    allocation sleep.  Functions also registered as callbacks run later too: never boot-only."""
    names = set(entries)
    if not names:
        return set()
    roots = {n for n in g if g.nodes[n]["facts"].name in names}
    if not roots:
        return set()
    registered = {r.function for r in registrations}
    reach = reachable(g, roots)  # only functions start_kernel() reaches (a recursive pair called from nowhere is not)
    boot = roots | {n for n in reach if g.nodes[n]["facts"].name not in registered}
    work = deque(boot - roots)
    while work:
        n = work.popleft()
        if n in boot and any(caller not in boot for caller in g.predecessors(n)):
            boot.discard(n)
            work.extend(x for x in g.successors(n) if x in boot and x not in roots)
    return boot


def build_graph(functions: dict, registrations: list, field_functions: list | None = None,
                through_inlines: bool = False) -> nx.MultiDiGraph:
    """functions: (file, name) -> FunctionFacts.  FIELD_FUNCTIONS (when given): a call through
    `p->field(...)` gets an edge, marked `field`, to every function stored in that field of p's struct type."""
    g = nx.MultiDiGraph()
    by_name: dict = {}  # name -> ({file: its node of that name}, the first global node or None)
    for (file, name), f in functions.items():
        node = fid(file, name, f.static)
        g.add_node(node, facts=f)
        files, first_global = by_name.get(name, ({}, None))
        files.setdefault(file, node)
        by_name[name] = (files, first_global if first_global is not None or f.static else node)
    g.graph["by_name"] = by_name
    g.graph["through_inlines"] = through_inlines
    targets = _field_targets(field_functions or [], by_name)
    g.graph["field_calls"] = g.graph["field_edges"] = 0
    key = 0  # explicit edge keys: networkx's own key search is quadratic in parallel edges
    for (file, name), f in functions.items():
        caller = fid(file, name, f.static)
        for c in f.calls:
            if c.inline_body and not through_inlines:
                continue  # --through-inlines (address_taken() counts the callee as entered from anywhere)
            for callee in _resolve(c.callee, file, by_name):
                g.add_edge(caller, callee, key=key, call=c, file=file)
                key += 1
            if c.callee.startswith(".") and c.struct:
                tgt = targets.get((c.struct, c.callee[1:]), [])
                g.graph["field_calls"] += bool(tgt)
                for callee in tgt:
                    g.add_edge(caller, callee, key=key, call=c, file=file, field=(c.struct, len(tgt)))
                    key += 1
                    g.graph["field_edges"] += 1
    g.graph["callback_edges"] = _callback_edges(g, functions, by_name, key)
    return g


@dataclass(frozen=True)
class Invocation:
    """How a function calls what its caller passes in one of its parameters: the state there
    (inherits, slept, the lock it holds itself), the conditions, and the chain of functions the
    pointer went through (hops: (function, file, line, parameter), outermost first)."""

    inherits: bool
    slept: bool
    conds: tuple  # conditions as written, and guards no caller decided
    hops: tuple
    held: tuple = ()  # (file, function, lock) of a lock taken between the caller and the call, if any
    guards: dict = field(default_factory=dict, compare=False)  # on the parameters of the first hop's function


MAX_CALLBACK_LEVELS = 3  # f(cb) -> g(cb) -> h(cb) calling cb: deeper chains are not followed


def _invocations(g, functions: dict, by_name: dict) -> dict:
    """node -> {parameter index: [Invocation]}: the calls a function makes through its own
    function-pointer parameters, directly or by passing the parameter on to a function that does
    (net/core/dev_addr_lists.c __dev_uc_sync() -> __hw_addr_sync_dev() -> sync())."""
    inv: dict = {}
    for (file, name), f in functions.items():
        for c in f.calls:
            if c.via_param and c.via_param in f.params:
                held = ((file, name, c.held[0]),) if c.held else ()
                i = Invocation(c.inherits, c.slept, tuple(c.conds), ((name, file, c.line, c.via_param),), held,
                               dict(c.guards))
                inv.setdefault(fid(file, name, f.static), {}).setdefault(f.params.index(c.via_param), []).append(i)
    for _ in range(MAX_CALLBACK_LEVELS - 1):
        added = False
        for (file, name), f in functions.items():
            node = fid(file, name, f.static)
            for c in f.calls:
                if c.inline_body and not g.graph["through_inlines"]:
                    continue  # a parameter passed on through a header inline: an edge only with --through-inlines
                for k, passed in c.arg_params.items():
                    if passed not in f.params:
                        continue
                    for callee in _resolve(c.callee, file, by_name):
                        for i in inv.get(callee, {}).get(int(k), ()):
                            if len(i.hops) >= MAX_CALLBACK_LEVELS or any(h[0] == name for h in i.hops):
                                continue
                            j = _through(c, file, name, i, g.nodes[callee]["facts"].params)
                            mine = inv.setdefault(node, {}).setdefault(f.params.index(passed), [])
                            if j is not None and j not in mine:
                                mine.append(j)
                                added = True
        if not added:
            break
    return inv


def _decided(c, params: list, i: Invocation) -> tuple | None:
    """The conditions of invocation I left once call C's constant arguments are known, or None when
    they rule it out: fs/smb/server/vfs_cache.c __close_file_table_ids() calls `skip` under its lock
    only `if (!skip_preserves_fp)`, and ksmbd_close_session_fds() passes true."""
    consts = callee_consts(c, params, {})
    if not allows(i.guards, consts):
        return None
    return tuple(open_conditions(i.guards, consts)) + i.conds


def _through(c, file: str, name: str, i: Invocation, params: list) -> Invocation | None:
    """Invocation I of a callee (parameters PARAMS), seen from the call C that passes it the pointer."""
    conds = _decided(c, params, i)
    if conds is None:
        return None
    held = ((file, name, c.held[0]),) if c.held and i.inherits else i.held
    return Invocation(c.inherits and i.inherits, c.slept or i.slept, tuple(c.conds) + conds,
                      ((name, file, c.line, ""),) + i.hops, held, dict(c.guards))


def _callback_edges(g, functions: dict, by_name: dict, key: int) -> int:
    """An edge from each call that passes a function to a parameter the callee calls through, to
    that function: the callback runs inside the call, in the caller's state there (the caller's
    lock still held if the callee did not drop it).  Labelled `callback` (the Invocation, its
    conditions decided by the call's constant arguments), with a CallFacts of the passing call
    that carries no argument values (they were the callee's)."""
    inv = _invocations(g, functions, by_name)
    n = 0
    for (file, name), f in functions.items():
        caller = fid(file, name, f.static)
        for c in f.calls:
            if not c.func_args:
                continue
            for callee in _resolve(c.callee, file, by_name):
                for k, target in sorted(c.func_args.items()):
                    for i in inv.get(callee, {}).get(int(k), ()):
                        conds = _decided(c, g.nodes[callee]["facts"].params, i)
                        if conds is None:
                            continue
                        i = replace(i, conds=conds, guards={})
                        for node in _resolve(target, file, by_name):
                            g.add_edge(caller, node, key=key, call=_callback_call(c, target, i), file=file,
                                       callback=i)
                            key += 1
                            n += 1
    return n


def _callback_call(c, target: str, i: Invocation):
    return replace(c, callee=target, held=c.held if i.inherits else [], result=None,
                   inherits=c.inherits and i.inherits, slept=c.slept or i.slept, conds=c.conds + list(i.conds),
                   const_args={}, arg_params={}, field_args={}, arg_sets={}, pass_fields={}, arg_clobbers={},
                   gfp_args={}, size_args={}, func_args={}, struct="", via_param="")


def _field_targets(field_functions: list, by_name: dict) -> dict:
    """(struct, field) -> the graph nodes of the functions stored there (sorted, for determinism)."""
    out: dict = {}
    for ff in field_functions:
        for node in _resolve(ff.function, ff.file, by_name):
            out.setdefault((ff.struct, ff.field), set()).add(node)
    return {k: sorted(v) for k, v in out.items()}


def called(c, data: dict, callee: str) -> str:
    """How a witness step names the call on edge DATA: `p->ops->fn()` edges name the function they may
    reach, callback edges the function the pointer is passed to."""
    if "callback" in data:
        hops = data["callback"].hops
        passes = "".join(f", which passes {c.callee} to {h[0]}() at {prev[1]}:{prev[2]}"
                         for prev, h in zip(hops, hops[1:]))
        last = hops[-1]
        head = f"{c.inline}(), which calls {hops[0][0]}()" if c.inline else f"{hops[0][0]}()"
        return (f"{head}{passes}, which calls {c.callee}() through its parameter {last[3]} "
                f"at {last[1]}:{last[2]}")
    if "field" in data:
        struct, n = data["field"]
        name = callee.rsplit("::", 1)[-1]
        target = f"->{c.callee[1:]}() (through struct {struct}, may be {name}(), one of {n} functions stored there)"
    else:
        target = f"{c.callee}()"
    if c.inline:  # a call the header inline the caller wrote makes (the graph holds no inline)
        return f"{c.inline}(), which calls {target}"
    return target


def through_field(path: list) -> bool:
    """The witness PATH crosses a call through a struct member pointer (--through-fields: lower confidence)."""
    return any(st.get("through_field") for st in path or ())


def _resolve(name: str, file: str, by_name: dict) -> list:
    """The node a call to NAME from FILE reaches: that file's function of the name, else the first
    global one (as a list: [] when there is none)."""
    entry = by_name.get(name)
    if entry is None:
        return []
    node = entry[0].get(file, entry[1])
    return [node] if node is not None else []


def wrapped_registrations(g: nx.MultiDiGraph) -> list:
    """Registrations through registration wrappers: a function that passes its parameter to
    request_irq(), netif_napi_add(), timer_setup()... (FunctionFacts.registers) registers what each
    caller passes there (drivers/net/ethernet/google/gve/gve_main.c gve_add_napi()).  A caller that
    passes its own parameter on is a wrapper too (a least fixed point over the callers)."""
    from .facts import Registration

    registers = {n: [tuple(r) for r in d["facts"].registers] for n, d in g.nodes(data=True) if d["facts"].registers}
    work = deque(registers)
    out, seen = [], set()
    while work:
        n = work.popleft()
        wrapper = g.nodes[n]["facts"].name
        for caller, _, data in g.in_edges(n, data=True):
            c, fn = data["call"], g.nodes[caller]["facts"]
            for idx, context, api, why, line in list(registers.get(n, ())):
                api_at = f"{wrapper}() -> {api}"
                target = c.func_args.get(str(idx))
                if target is not None:
                    key = (target, context, data["file"], c.line)
                    if key not in seen:
                        seen.add(key)
                        out.append(Registration(target, context, api_at, why, data["file"], c.line, fn.name,
                                                wrapper=wrapper))
                    continue
                passed = c.arg_params.get(str(idx))
                if passed in fn.params:  # the caller's own parameter, passed on as it is
                    entry = (fn.params.index(passed), context, api_at, why, c.line)
                    mine = registers.setdefault(caller, [])
                    if all(e[:2] != entry[:2] for e in mine):
                        mine.append(entry)
                        work.append(caller)
    return out


def node_for(g: nx.MultiDiGraph, file: str, name: str) -> str | None:
    if f"{file}::{name}" in g:
        return f"{file}::{name}"
    return name if name in g else None


def always_sleeping(g) -> set:
    """Functions that may sleep on every path to their return: a call from the catalog's `sleeps`
    (kernfs_find_and_get_ns() starts with down_read()), or a call to such a function, on every
    path (least fixed point over the callers)."""
    by_name = g.graph.get("by_name", {})
    always_calls: dict = {}  # function -> the functions it calls on every path (a call in a macro has no edge)
    for n in g:
        f = g.nodes[n]["facts"]
        for name in f.calls_always:
            for m in _resolve(name, f.file, by_name):
                always_calls.setdefault(m, set()).add(n)
    sleeping = {n for n in g if g.nodes[n]["facts"].sleeps_always}
    work = deque(sorted(sleeping))
    while work:
        for caller in sorted(always_calls.get(work.popleft(), set()) - sleeping):
            sleeping.add(caller)
            work.append(caller)
    return sleeping


def param_writes(g) -> dict:
    """(function, pointer parameter) -> the fields the function may write through it, itself or
    in the functions it passes the pointer to ("*": any field).  Least fixed point over the calls
    (FunctionFacts.param_writes, param_passes); a callee outside the graph writes anything."""
    by_name = g.graph.get("by_name", {})
    writes: dict = {}
    users: dict = {}  # (callee, its parameter) -> {(caller, parameter)}
    for n in g:
        f = g.nodes[n]["facts"]
        for p, fl in f.param_writes.items():
            writes[(n, p)] = set(fl)
        for p, passes in f.param_passes.items():
            for callee, i in passes:
                target = _resolve(callee, f.file, by_name) if callee != "*" else []
                params = g.nodes[target[0]]["facts"].params if target else []
                if i >= len(params):
                    writes.setdefault((n, p), set()).add("*")
                else:
                    users.setdefault((target[0], params[i]), set()).add((n, p))
    work = deque(sorted(writes))
    while work:
        k = work.popleft()
        for user in sorted(users.get(k, ())):
            mine = writes.setdefault(user, set())
            if not writes[k] <= mine:
                mine |= writes[k]
                work.append(user)
    return writes


def written_by(g, writes: dict, file: str, clobbers: list) -> set:
    """The fields the calls CLOBBERS ([callee, argument index], made in FILE) may write ("*": any)."""
    by_name = g.graph.get("by_name", {})
    out: set = set()
    for callee, i in clobbers:
        target = _resolve(callee, file, by_name) if callee != "*" else []
        params = g.nodes[target[0]]["facts"].params if target else []
        out |= writes.get((target[0], params[i]), set()) if i < len(params) else {"*"}
    return out


def settle_fields(g) -> None:
    """Keep a `p->f` value (a guard, an argument) only when no earlier call given `p` may write f;
    record per call which known fields of a pointer passed on may have changed (graph attribute
    `blocked`, by id of the CallFacts).  Idempotent: the front end's Facts keep their clobber lists."""
    writes = param_writes(g)
    blocked: dict = {}  # id(CallFacts) -> {argument index: fields the earlier calls may write}
    for n in g:
        f = g.nodes[n]["facts"]
        for c in f.calls:
            _settle_guards(g, writes, f.file, c.guards)
            for k, clob in c.arg_clobbers.items():
                field_ = c.arg_params.get(k, "").split("->", 1)[-1]
                hit = written_by(g, writes, f.file, clob)
                if "*" in hit or field_ in hit:
                    c.arg_params.pop(k, None)
            gone = {k: written_by(g, writes, f.file, clob) for k, clob in c.pass_fields.items() if clob}
            if gone:
                blocked[id(c)] = gone
    g.graph["param_writes"] = writes
    g.graph["blocked"] = blocked


def settle_site_guards(g, site) -> None:
    """settle_fields() for an allocation site's guards."""
    _settle_guards(g, g.graph.get("param_writes", {}), site.file, site.guards)


def _settle_guards(g, writes: dict, file: str, guards: dict) -> None:
    for key in [k for k, cond in guards.items() if cond.get("clobbers")]:
        hit = written_by(g, writes, file, guards[key]["clobbers"])
        if "*" in hit or key.split("->", 1)[1] in hit:
            del guards[key]


def slept_before(g, file: str, names: list, sleeping: set) -> bool:
    """One of NAMES (functions called on every path before some point of FILE) always sleeps."""
    by_name = g.graph.get("by_name", {})
    return any(n in sleeping for name in names for n in _resolve(name, file, by_name))


def propagate(g: nx.MultiDiGraph, registrations: list, user_prefixes: tuple, boot_entries=(),
              taken=frozenset()) -> Contexts:
    """TAKEN: functions whose address is taken (address_taken())."""
    ctx = Contexts(graph=g)
    ctx.boot = boot_only(g, boot_entries, registrations)
    settle_fields(g)
    ctx.sleeping = always_sleeping(g)
    _propagate_atomic(g, registrations, ctx)
    _propagate_noreclaim(g, ctx)
    _propagate_must(g, ctx, taken)
    g.graph["must"] = ctx.must
    _propagate_kinds(g, registrations, user_prefixes, ctx)
    ctx.kthread_only = kthread_only(g, registrations, taken)
    return ctx


def _registered(g, registrations, context: str):
    for r in registrations:
        if r.context != context:
            continue
        node = node_for(g, r.file, r.function) if r.file else None
        node = node or (r.function if r.function in g else None)
        if node is None:
            node = next((n for n in g if n.endswith("::" + r.function)), None)
        if node is not None:
            if r.api.startswith("."):
                what = f"{r.function}() is the {r.api.rstrip(' =')} of an ops structure: {r.why}"
            else:
                what = f"{r.function}() registered with {r.api}() in {r.caller}(): {r.why}"
            yield node, [step(r.file, r.line, r.caller or r.function, what)]


def _bfs(g, sources: list, edge_ok, describe) -> dict:
    """Shortest witness from any source to every reachable function."""
    seen: dict = {}
    q = deque()
    for node, path in sources:
        if node not in seen:
            seen[node] = path
            q.append(node)
    while q:
        n = q.popleft()
        for _, callee, data in g.out_edges(n, data=True):
            if callee in seen or not edge_ok(data["call"], inherited=True):
                continue
            c = data["call"]
            fn = g.nodes[n]["facts"]
            seen[callee] = seen[n] + [edge_step(data, fn.name, describe(c, called(c, data, callee)))]
            q.append(callee)
    return seen


def edge_step(data: dict, function: str, what: str) -> dict:
    st = step(data["file"], data["call"].line, function, what)
    if "field" in data:
        st["through_field"] = True
    return st


def _propagate_atomic(g, registrations, ctx: Contexts) -> None:
    """Atomic context, context-sensitive in the constant arguments a function is called with:
    `ipv6_ifa_notify(0, ...)` under a lock reaches only the `case 0` part of the callee's switch."""
    # (function, known values, witness, whether the witness enters by a call that ignores the result)
    sources = [(n, {}, p, True) for n, p in _registered(g, registrations, "atomic")]
    # calls made while an atomic section is held start a witness of their own
    for caller, callee, data in g.edges(data=True):
        c = data["call"]
        if c.held and caller not in ctx.boot:
            fn = g.nodes[caller]["facts"]
            lock = c.held[0]
            consts = callee_consts(c, g.nodes[callee]["facts"].params, {})
            sources.append((callee, consts, [
                step(data["file"], lock[2], fn.name, f"{lock[3]}({lock[1]}) acquired here"),
                conditional(edge_step(data, fn.name, f"calls {called(c, data, callee)} with {lock[3]}({lock[1]}) held"),
                            open_conditions(c.guards, {}) + c.conds, c.first_use),
            ], c.result is None))
    sources += _callback_sources(g, ctx)
    # a function whose result some call uses may be a wrapper, and those calls its allocation sites
    # (program._wrapper_sites), reported there: for it, a witness that enters by another call is kept too
    used = {callee for _, callee, data in g.edges(data=True) if data["call"].result is not None}
    # Dijkstra over (function, known values): the witness kept for each is the one with the fewest
    # conditions left for the reader to check, then the fewest steps (a feasible-looking path first)
    heap = [(witness_cost(path), i, node, consts, path, plain)
            for i, (node, consts, path, plain) in enumerate(sources)]
    heapq.heapify(heap)
    seq = itertools.count(len(heap))
    states: dict = {}
    while heap:
        _, _, n, consts, path, plain = heapq.heappop(heap)
        kept = _add_state(states, n, consts, path)
        if n in used and plain:
            ctx.atomic_plain.setdefault((n, state_key(_covering(states[n], consts))), path)
        if kept is None:
            continue
        consts = kept
        fn = g.nodes[n]["facts"]
        for _, callee, data in g.out_edges(n, data=True):
            c = data["call"]
            # passed on only through calls made before the caller's lock is dropped (inherits),
            # not after a call that always may sleep, itself or through every path of a callee
            # (there, mutex_lock() would be the first bug,
            # reported by kernel/sched/core.c __might_resched() every time the path runs, not only
            # under memory pressure: not a path the kernel takes in atomic context), and that the known argument
            # values let run (guards)
            if not c.inherits or c.slept or not allows(c.guards, consts) \
                    or slept_before(g, data["file"], c.before, ctx.sleeping):
                continue
            cc = callee_consts(c, g.nodes[callee]["facts"].params, consts, g.graph["blocked"].get(id(c), {}))
            plain = c.result is None
            if _known(states, callee, cc) and not (plain and callee in used
                                                   and (callee, state_key(cc)) not in ctx.atomic_plain):
                continue
            p2 = path + [conditional(edge_step(data, fn.name, f"calls {called(c, data, callee)} in atomic context"),
                                     open_conditions(c.guards, consts) + c.conds, c.first_use)]
            heapq.heappush(heap, (witness_cost(p2), next(seq), callee, cc, p2, plain))
    ctx.atomic_states = states
    ctx.atomic = {n: lst[0][1] for n, lst in states.items()}


def _callback_sources(g, ctx: Contexts) -> list:
    """Callbacks called under a lock the function they are passed to takes itself
    (kernel/stop_machine.c stop_machine_cpuslocked() runs `fn` with interrupts off before SMP)."""
    out = []
    for caller, callee, data in g.edges(data=True):
        i = data.get("callback")
        if i is None or not i.held or caller in ctx.boot:
            continue
        c = data["call"]
        if c.held:  # the caller's own lock: a source of the general kind already
            continue
        hfile, hname, lock = i.held[0]
        hop = next((h for h in i.hops if h[:2] == (hname, hfile)), i.hops[-1])
        what = (f"calls {c.callee}() with {lock[3]}({lock[1]}) held (its parameter, passed by "
                f"{g.nodes[caller]['facts'].name}() at {data['file']}:{c.line})")
        out.append((callee, {}, [step(hfile, lock[2], hname, f"{lock[3]}({lock[1]}) acquired here"),
                                 conditional(step(hfile, hop[2], hname, what), list(i.conds))], True))
    return out


def _covering(lst: list, consts: dict) -> dict:
    """The kept context that stands for CONSTS: itself, or past MAX_STATES the one that knows nothing."""
    return consts if any(c == consts for c, _ in lst) else {}


def state_key(consts: dict) -> tuple:
    """A hashable form of a context's known values."""
    return tuple(sorted((k, repr(v)) for k, v in consts.items()))


def witness_cost(path: list) -> tuple:
    """Order of witnesses: fewest steps that run only on an object's first use (a path without
    one is a finding without the doubt of call order), then fewest conditions the reader must
    check, then fewest steps."""
    return (len(first_use_steps(path)), sum(len(st.get("conditions", ())) for st in path), len(path))


def _known(states: dict, node, consts: dict) -> bool:
    """_add_state() would refuse it: the context is known, or there is no room and one knows nothing."""
    lst = states.get(node, ())
    return any(c == consts for c, _ in lst) or (len(lst) >= MAX_STATES and any(not c for c, _ in lst))


def _add_state(states: dict, node, consts: dict, path):
    """Record a context of NODE; the known values kept (None: already known or no room)."""
    lst = states.setdefault(node, [])
    if any(c == consts for c, _ in lst):
        return None
    if len(lst) >= MAX_STATES:
        if any(not c for c, _ in lst):
            return None
        consts = {}  # too many contexts: keep one that knows nothing, and explore with it (allows every edge)
    lst.append((consts, path))
    return consts


def _propagate_noreclaim(g, ctx: Contexts) -> None:
    sources = []
    for caller, callee, data in g.edges(data=True):
        c = data["call"]
        if "noreclaim" in c.scopes_may:
            fn = g.nodes[caller]["facts"]
            sources.append((callee, [edge_step(data, fn.name, f"calls {called(c, data, callee)} inside "
                                                             "memalloc_noreclaim_save() (PF_MEMALLOC)")]))
    ctx.noreclaim = _bfs(g, sources, lambda c, inherited: True, lambda c, name: f"calls {name} under PF_MEMALLOC")


def address_taken(g, registrations: list, field_functions: list, taken: list = ()) -> set:
    """Functions whose address the program takes: registered (request_irq, INIT_WORK, an ops
    field), stored in any struct field, passed as an argument, or named anywhere but as a call's
    callee (TAKEN: [function, file] from TUFacts.taken, which also holds what header inlines may
    call with no edge recorded).  They may be called from anywhere the graph does not show, so no
    scope is known to be open when they run."""
    by_name = g.graph.get("by_name", {})
    named = [(r.function, r.file) for r in registrations]
    named += [(ff.function, ff.file) for ff in field_functions]
    named += [(name, file) for name, file in taken]
    for _, f in g.nodes(data="facts"):
        named += [(target, f.file) for c in f.calls for target in c.func_args.values()]
        if not g.graph.get("through_inlines"):  # calls header inlines make, with no edge
            named += [(c.callee, f.file) for c in f.calls if c.inline_body and not c.struct]
    return {n for name, file in named for n in _resolve(name, file or "", by_name)}


def implied_scopes(scopes) -> frozenset:
    """A NOIO scope strips __GFP_FS too (include/linux/sched/mm.h current_gfp_context()), so it is
    also a NOFS scope: a function entered under NOIO on one path and NOFS on another runs without
    __GFP_FS on both."""
    out = frozenset(scopes)
    return out | {"nofs"} if "noio" in out else out


def _propagate_must(g, ctx: Contexts, taken=frozenset()) -> None:
    """Scopes open on every call path into a function (greatest fixed point).  Entered with no
    scope: a function without callers, one whose address is TAKEN (address_taken()), and every
    function no such entry reaches, i.e. a cycle whose only callers are its own members (a retry
    pair first called from a header inline, which is no graph node): starting those at "every
    scope" would prove any scope for them.  A worklist: a function is looked at again only when
    one of its callers' scopes shrank."""
    top = frozenset(MUST_SCOPES)
    into: dict = {}  # function -> [(caller, scopes the call itself opens)]
    for caller, callee, data in g.edges(data=True):
        into.setdefault(callee, []).append((caller, implied_scopes(data["call"].scopes_must)))
    entries = {n for n in g if n not in into or n in taken}
    fixed = entries | (set(g) - reachable(g, entries))
    must = {n: (frozenset() if n in fixed else top) for n in g}
    work = deque(sorted(n for n in into if n not in fixed))
    queued = set(work)
    while work:
        n = work.popleft()
        queued.discard(n)
        acc = top
        for caller, opened in into[n]:
            acc = acc & (opened | must[caller])
        acc = frozenset(s for s in acc if s in MUST_SCOPES)
        if acc != must[n]:
            must[n] = acc
            for callee in g.successors(n):
                if callee not in queued and callee not in fixed:
                    queued.add(callee)
                    work.append(callee)
    ctx.must = must


def must_witness(g, node: str, scope: str) -> list:
    """One shortest chain of calls from a call made inside SCOPE (a memalloc_*_save() section) down
    to NODE, every function on it having SCOPE open on all its call paths: the evidence of a
    must-scope, as the atomic witnesses are of a may-context."""
    must = g.graph.get("must", {})
    for implied in (False, True):  # a chain that opens SCOPE itself, else one whose NOIO implies it
        prev: dict = {node: None}
        q = deque([node])
        while q:
            n = q.popleft()
            for caller, _, data in g.in_edges(n, data=True):
                if caller in prev:
                    continue
                opened = implied_scopes(data["call"].scopes_must) if implied else frozenset(data["call"].scopes_must)
                if scope in opened or scope in must.get(caller, ()):
                    prev[caller] = (n, data)
                    if scope in opened:
                        return _must_steps(g, caller, prev, scope)
                    q.append(caller)
    return []


def _must_steps(g, start: str, prev: dict, scope: str) -> list:
    steps, n = [], start
    first = prev[n][1]["call"].scopes_must
    opened = f"memalloc_{scope if scope in first else 'noio'}_save()"  # NOFS implied by a NOIO scope
    while prev[n] is not None:
        callee, data = prev[n]
        name = g.nodes[n]["facts"].name
        what = f"calls {called(data['call'], data, callee)} " + (f"inside {opened}" if not steps else f"with {opened} open")
        steps.append(edge_step(data, name, what))
        n = callee
    return steps


def kthread_only(g, registrations, taken=frozenset()) -> set:
    """Functions that every call path enters from a kernel thread or work item: the must-kind
    behind migrate's "reached only from kernel threads".  A function reached from a kthread entry
    may also be reached from where the task is not known: a probe routine runs in modprobe, a user
    task, or in a kworker (drivers/pci/pci-driver.c pci_call_probe() moves it to work_on_cpu() only
    for another NUMA node); an ethtool op in its caller's task.  Those are the entries of
    _propagate_must() (no callers, address taken) and the functions no entry reaches; whatever they
    reach is not kthread-only.  A kthread registration target is a kthread entry unless it is also
    registered for another context; its address is taken by the registration, and another taking
    (an ops table the catalog does not know) is not told apart."""
    threads = {n for n, _ in _registered(g, registrations, "kthread")}
    threads -= {n for ctx in ("user", "atomic") for n, _ in _registered(g, registrations, ctx)}
    called = {callee for _, callee in g.edges()}
    entries = {n for n in g if n not in called or n in taken} | threads
    unknown = (entries - threads) | (set(g) - reachable(g, entries))
    return set(g) - reachable(g, unknown)


def _propagate_kinds(g, registrations, user_prefixes, ctx: Contexts) -> None:
    kinds: dict = {}
    for kind in ("kthread", "user"):
        sources = list(_registered(g, registrations, kind))
        if kind == "user":
            for n in g:
                f = g.nodes[n]["facts"]
                if f.name.startswith(tuple(user_prefixes)):
                    sources.append((n, [step(f.file, f.line, f.name, f"{f.name}() is a system call body")]))
        reach = _bfs(g, sources, lambda c, inherited: True, lambda c, name: f"calls {name}")
        for n, path in reach.items():
            kinds.setdefault(n, {})[kind] = path
    ctx.kinds = kinds
