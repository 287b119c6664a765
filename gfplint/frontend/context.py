"""Per-function context facts: the CFG dataflow state at every site and call,
callback registrations, and what calls to gfp-taking functions pass.

Works on one function after parse.py found its allocation sites.
"""
from __future__ import annotations

import re

import clang.cindex as ci

from ..context_catalog import ContextCatalog, Section
from ..facts import CallFacts, FieldFunction, Registration, Site
from ..model.flags import blocking
from . import cfg, fields
from . import clangutil as cu
from .fields import Params
from .values import Values
from .clangutil import children, evaluate_int
from .ctext import GfpEnv, Unresolved, and_operand, eval_gfp, normalize, or_operand, split_call

K = ci.CursorKind
_CASES = (K.CASE_STMT, K.DEFAULT_STMT)
_GUARD_CTOR = re.compile(r"^class_(\w+)_constructor$")
_GUARD_SECTION = {}


def _guard_section(name: str) -> Section:
    s = _GUARD_SECTION.get(name)
    if s is None:
        s = _GUARD_SECTION[name] = Section(f"guard({name})", f"guard:{name}", None)
    return s


def _release_section(name: str, cls: str) -> Section:
    key = (name, cls)
    s = _GUARD_SECTION.get(key)
    if s is None:
        s = _GUARD_SECTION[key] = Section(name, cls, None)
    return s


class Classifier:
    """Which calls open or close a section, as the programmer wrote them (macro or function)."""

    def __init__(self, ctx, cat: ContextCatalog, file: str, owners: dict, sleeping_sites: frozenset = frozenset()):
        self.ctx = ctx
        self.cat = cat
        self.file = file
        self.owners = owners  # guard constructor call hash -> owning block hash
        self.sleeping_sites = sleeping_sites  # call hashes of allocations that always may sleep
        self._events: dict = {}  # id(call) -> (call, event): the dataflow asks at every iteration
        self.guarded: dict = {}  # block hash -> {(class, key)} of the locks guard() holds until its end

    def names(self, call) -> list:
        """(name, written args, line) candidates: the macro instantiation at the call, then the callee."""
        out = []
        f, line, _, off = self.ctx.where(call.location)
        inst = self.ctx.macro_at(call, f, off, self.ctx.macro_names) if f is not None else None
        if inst is not None:
            text = self.ctx.source(f).text(inst[1], inst[2])
            sc = split_call(text)
            out.append((inst[0], sc[1] if sc else [], line))
        out.append((call.spelling, None, line))
        return out

    def _key(self, call, args, index) -> str:
        if index is None:
            return ""
        if args is not None:
            return normalize(args[index]) if index < len(args) else ""
        cargs = list(call.get_arguments())
        if index < len(cargs):
            return normalize(self.ctx.text(cargs[index]) or "")
        return ""

    def event(self, call):
        """('enter'|'exit', Section, key, line, api, owner) or None; conditional enters are edge effects."""
        hit = self._events.get(id(call))
        if hit is not None and hit[0] is call:
            return hit[1]
        ev = self._event(call)
        self._events[id(call)] = (call, ev)
        return ev

    def _event(self, call):
        if call.hash in self.sleeping_sites:
            return ("sleep", None, "", self.ctx.where(call.location)[1], call.spelling, 0)
        m = _GUARD_CTOR.match(call.spelling)
        if m and m.group(1) in self.cat.guards:
            line = self.ctx.where(call.location)[1]
            sec, key = self._guard_lock(m.group(1), call)
            owner = self.owners.get(call.hash, 0)
            if owner:
                self.guarded.setdefault(owner, set()).add((sec.cls, key))
            return ("enter", sec, key, line, f"guard({m.group(1)})", owner)
        for name, args, line in self.names(call):
            sec = self.cat.enter.get(name)
            if sec is not None:
                if sec.conditional or sec.conditional_zero:
                    return None
                return ("enter", sec, self._key(call, args, sec.key), line, name, 0)
            sec = self.cat.exit.get(name)
            if sec is not None:
                return ("exit", sec, self._key(call, args, sec.key), line, name, 0)
            if name in self.cat.sleeps:
                return ("sleep", None, "", line, name, 0)
        inline = self._inline_lock(call)
        if inline is not None:  # a header inline that takes or drops a lock for its caller
            return (inline[0], inline[1], "", self.ctx.where(call.location)[1], call.spelling, 0)
        acquired = self.ctx.acquires.get(call.spelling)
        if acquired:  # a lock wrapper of this TU: takes a lock of that class for its caller
            return ("enter", _release_section(call.spelling, acquired[0]), "", self.ctx.where(call.location)[1],
                    call.spelling, 0)
        released = self.ctx.releases.get(call.spelling)
        if released:  # an unlock wrapper of this TU: releases whichever lock of that class is held
            return ("exit", _release_section(call.spelling, released[0]), "", self.ctx.where(call.location)[1],
                    call.spelling, 0)
        return self._plain(call)

    def _guard_lock(self, name: str, ctor) -> tuple:
        """(Section, key) of guard(NAME): the lock API's own section and its object, so that an
        explicit unlock inside the guarded block drops it (fs/super.c __iterate_supers() holds
        guard(spinlock)(&sb_lock) and calls back between spin_unlock() and spin_lock())."""
        sec = self.cat.enter.get(name.replace("spinlock", "spin_lock"))
        key = self._key(ctor, None, 0) if sec is not None and sec.key is not None else ""
        if not key or sec.conditional or sec.conditional_zero or sec.scope:
            # an unkeyed section (guard(rcu)) stays a section of its own: its end must not
            # release an rcu_read_lock() the function took outside the block
            return _guard_section(name), ""
        return sec, key

    def release(self, owner: int) -> frozenset:
        """The (class, key) locks a guard of block OWNER releases at its end, however taken since."""
        return frozenset(self.guarded.get(owner, ()))

    def _plain(self, call):
        """An ordinary call: ("call", None, names, ...), the link learns which of NAMES always sleep;
        a header inline is no node of the call graph, so NAMES adds the functions it always calls
        (and a sleep among them makes the call a sleep)."""
        name = _callee(call)[0]
        if not name or name.startswith("."):
            return None
        ref = call.referenced
        names = (name,)
        if self.ctx.callee(ref)[2]:
            names += self.ctx.inline_calls(ref)
            if any(n in self.cat.sleeps for n in names):
                return ("sleep", None, "", 0, name, 0)
        return ("call", None, names, 0, name, 0)

    def _inline_lock(self, call):
        """("enter"|"exit", Section) for a call to a header inline that leaves one atomic section
        open for its caller (include/linux/sched/task.h task_lock(): spin_lock(&p->alloc_lock);
        include/linux/mm.h pmd_lock()) or closes one (task_unlock()); None for any other call."""
        ref = call.referenced
        if ref is None or ref.kind != K.FUNCTION_DECL or not self.ctx.callee(ref)[2]:
            return None
        ev = self._inline_effect(ref, 0)
        return ev if ev != UNKNOWN else None

    def may_unlock(self, call) -> bool:
        """CALL may release a lock its caller holds without gfplint knowing: through a pointer, to
        a function defined in no file of this TU, or to a header inline that makes such a call."""
        ev = self.event(call)
        if ev is not None and ev[0] != "call":
            return False  # a lock, unlock or sleep gfplint knows
        if self._external(call):
            return True
        ref = call.referenced
        return self.ctx.callee(ref)[2] and self._inline_effect(ref, 0) == UNKNOWN

    def _external(self, call) -> bool:
        """_may_unlock(), less the functions known never to release their caller's lock: the
        catalog's lock_neutral list (frees, printk, string helpers, the checks CONFIG_LIST_HARDENED
        and FORTIFY_SOURCE call on failure, the size-check stubs of percpu macros), builtins,
        BUILD_BUG_ON()'s stubs and the allocators (mm/vmalloc.c preload_this_cpu_lock() calls
        kmem_cache_free() with the lock held, and this_cpu_try_cmpxchg() expands to a call of
        __bad_size_call_parameter() in a switch arm that is never taken)."""
        if not _may_unlock(call, self.ctx):
            return False
        ref = call.referenced
        if ref is None or ref.kind != K.FUNCTION_DECL:
            return True  # through a pointer
        name = call.spelling
        return not (name in self.cat.lock_neutral or name.startswith(_NEVER_CALLED)
                    or self.ctx.catalog.lookup(name) is not None)

    def _inline_effect(self, ref, depth: int):
        memo = self.ctx.inline_locks
        key = bytes(ref)
        if key not in memo:
            memo[key] = None  # recursion guard
            d = ref.get_definition()
            stmts = straight_body(d)
            memo[key] = self._net_section(stmts, depth) if stmts is not None else self._branching(d, depth)
        return memo[key]

    def _branching(self, d, depth: int):
        """A header inline that branches: no effect if it makes no lock call and no call to a
        function defined elsewhere, else UNKNOWN (pmd_trans_huge_lock() locks on one path)."""
        body = [k for k in children(d) if k.kind == K.COMPOUND_STMT] if d is not None else []
        for c in all_calls(body):
            if self._lock_call(c, depth) is not None or self._external(c):
                return UNKNOWN
        return None

    def _net_section(self, stmts, depth: int):
        """The one atomic class straight-line STMTS leave opened or closed, by counting the enters
        and exits of the calls that always run; None when none, several, or a trylock decides."""
        if not stmts:
            return None
        net: dict = {}
        last: dict = {}
        for stmt in stmts:
            effects = [self._lock_call(call, depth) for call in always_calls([stmt])]
            known = [ev for ev in effects if ev is not None and ev != UNKNOWN]
            if (net or known) and (UNKNOWN in effects or any(
                    self._external(c) and self._lock_call(c, depth) is None for c in all_calls([stmt]))):
                # at or after a lock call, a function defined elsewhere (or an inline that branches
                # around one) may take or release the lock itself; before it, it cannot matter
                # (include/linux/hugetlb.h huge_pte_lock(): huge_pte_lockptr() branches, then spin_lock())
                return UNKNOWN
            for ev in known:
                net[ev[1].cls] = net.get(ev[1].cls, 0) + (1 if ev[0] == "enter" else -1)
                last[(ev[0], ev[1].cls)] = ev
        moved = [c for c, n in net.items() if n]
        if len(moved) != 1 or abs(net[moved[0]]) != 1:
            return None
        return last.get(("enter" if net[moved[0]] > 0 else "exit", moved[0]))

    def _lock_call(self, call, depth: int):
        for name, _, _ in self.names(call):
            sec = self.cat.enter.get(name)
            if sec is not None:
                if sec.conditional or sec.conditional_zero:
                    return UNKNOWN  # a trylock: held or not, by its result
                return _lock_object(("enter", sec))
            sec = self.cat.exit.get(name)
            if sec is not None:
                return _lock_object(("exit", sec))
        ref = call.referenced
        if depth < MAX_INLINE_LOCK_DEPTH and ref is not None and ref.kind == K.FUNCTION_DECL \
                and self.ctx.callee(ref)[2]:
            return self._inline_effect(ref, depth + 1)
        return None

    def condition(self, call):
        """(Section, key, line, api) for a conditional enter (trylock) used as an if condition."""
        for name, args, line in self.names(call):
            sec = self.cat.enter.get(name)
            if sec is not None and (sec.conditional or sec.conditional_zero):
                return (sec, self._key(call, args, sec.key), line, name)
        return None


UNKNOWN = "unknown"  # a header inline whose lock effect its body alone does not tell
# compiler builtins, and the error stubs of include/linux/compiler_types.h compiletime_assert()
# (BUILD_BUG_ON()): never a call that releases a lock
_NEVER_CALLED = ("__builtin_", "__compiletime_assert_")


def _lock_object(ev):
    """EV when its section names a lock object (spin_lock(x)), not a scope or an unkeyed section
    (preempt_disable(): an inline that leaves one open more often ends it in a way the catalog
    does not know)."""
    return ev if ev[1].key is not None and not ev[1].scope else None


MAX_INLINE_LOCK_DEPTH = 3  # header inlines followed inside a header inline (spin_lock -> raw_spin_lock)


def straight_body(d) -> list | None:
    """The statements of function definition D when its body is straight-line code (a `do { }
    while (0)` macro body counts as its statements); None when it branches, loops or jumps."""
    body = next((k for k in children(d) if k.kind == K.COMPOUND_STMT), None) if d is not None else None
    if body is None:
        return None
    out: list = []
    return out if _flatten(children(body), out) else None


# statements that neither branch nor jump (also parse.inline_calls()' leading statements)
STRAIGHT_STMTS = (K.RETURN_STMT, K.DECL_STMT, K.CALL_EXPR, K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR,
                  K.UNEXPOSED_EXPR, K.PAREN_EXPR, K.CSTYLE_CAST_EXPR, K.VAR_DECL, K.UNARY_OPERATOR, K.NULL_STMT)


def _flatten(stmts, out: list) -> bool:
    for i, s in enumerate(stmts):
        if s.kind == K.DO_STMT:
            kids = children(s)
            if len(kids) != 2 or evaluate_int(kids[1]) != 0 or kids[0].kind != K.COMPOUND_STMT \
                    or not _flatten(children(kids[0]), out):
                return False
        elif s.kind == K.COMPOUND_STMT:
            if not _flatten(children(s), out):
                return False
        elif s.kind in STRAIGHT_STMTS:
            out.append(s)
        else:
            return False
        if s.kind == K.RETURN_STMT and i != len(stmts) - 1:
            return False  # code after a return
    return True


def always_calls(stmts):
    """The calls STMTS always make, in source order: not the arms of `?:`, the right operand of
    `&&`/`||`, or the inside of a `({ })` statement expression."""
    for s in stmts:
        yield from _always_calls(s)


def all_calls(stmts):
    """Every call in STMTS, run or not (cfg.calls_in(), over the memoized children())."""
    for s in stmts:
        for _, c in cfg.calls_in(s):
            yield c


def _always_calls(c):
    if c.kind in (K.CONDITIONAL_OPERATOR, K.COMPOUND_STMT, K.StmtExpr):
        return
    kids = cu.evaluated_children(c)
    if c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) in (cu.BINARY_LAND, cu.BINARY_LOR):
        kids = kids[:1]
    if c.kind == K.CALL_EXPR:
        yield c
    for k in kids:
        yield from _always_calls(k)


def _noreturn(call, ctx) -> bool:
    """The callee is declared __noreturn (do_task_dead, panic, BUG's __builtin_unreachable), memoized per TU."""
    name = call.spelling
    known = ctx.noreturn.get(name)
    if known is None:
        ref = call.referenced
        known = name == "__builtin_unreachable" or (
            ref is not None and "__attribute__((noreturn))" in ref.type.spelling)
        ctx.noreturn[name] = known
    return known


def _token_list(state: cfg.State, scope: bool) -> list:
    return sorted([t.cls, t.key, t.line, t.api] for t in state.held if t.scope == scope and t != cfg.INHERITED)


def _inherits(state: cfg.State) -> bool:
    return cfg.INHERITED in state.held


def _scopes_may(state: cfg.State) -> list:
    return sorted({t.cls for t in state.held if t.scope})


def analyse_function(fn, body, file, ctx, walk, sites: list, site_calls: list, env: GfpEnv, cat: ContextCatalog):
    """Fill the sites' context fields; return (CallFacts list, Registration list)."""
    clf = Classifier(ctx, cat, file, walk.guard_owners, _sleeping_sites(sites, site_calls, ctx.catalog))
    value = Values(walk.writes, ctx.returns)
    builder = cfg.Builder(clf.condition, lambda call: _noreturn(call, ctx),
                          lambda cond: fields.stable_condition(_bare(cond), walk.writes), value)
    entry = builder.stmt(body, 0)
    ins, dropping = cfg.solve(builder.nodes, entry, clf.event)
    states = cfg.states_at_calls(builder.nodes, ins, clf.event, dropping)
    empty = cfg.State()
    decls = [c for c in children(fn) if c.kind == K.PARM_DECL]
    params = [c.spelling for c in decls]
    pointers = [c.spelling for c in decls if c.type.get_canonical().kind == ci.TypeKind.POINTER]
    pset = fields.Params(params, walk.writes, walk.other_calls, ctx.where, ctx.callee, pointers)
    values = fields.local_struct_values(walk.struct_locals, walk.writes) if walk.struct_locals else {}
    tests = _guard_statements(walk, pset, ctx)
    fu = _WrittenFields(pset, walk.bit_sets, builder, walk.branches, [st.error_path for st in sites])
    once = _first_use_statements(walk, fu, ctx)
    narrowing = {}  # if/switch hash -> (variable, field, values) or None, shared by the calls under it
    anc_of = {c.hash: a for c, a in walk.calls}
    jumps = _jumps(walk, ctx) if walk.gotos else ()
    texts: dict = {"value": value, "jumps": jumps}  # condition hash -> text, block -> early exits: shared by the calls under them
    for site, call in zip(sites, site_calls):
        site.guards = param_guards(call, anc_of.get(call.hash, []), pset, ctx, tests, jumps) if tests else {}
        site.conds = branch_conditions(call, anc_of.get(call.hash, []), tests, ctx, texts)
        site.first_use = first_use(call, anc_of.get(call.hash, []), once, fu, ctx, jumps,
                                   site.error_path) if once else []
        st = states.get(call.hash, empty)
        site.live = call.hash in states
        site.held = _token_list(st, scope=False)
        site.inherits = _inherits(st)
        site.slept = st.slept
        site.before = _before(st)
        site.scopes_must = sorted(st.must)
        site.scopes_may = _scopes_may(st)
    calls = []
    for call, anc in walk.other_calls:
        st = states.get(call.hash, empty)
        cf = _call_facts(call, anc, st, ctx, env, file, fn)
        if cf is not None and cf.via_param and (cf.via_param not in params or walk.writes.changed(cf.via_param)):
            cf = None  # a parameter the function reassigns may no longer hold what its caller passed
        if cf is not None:
            cf.guards = param_guards(call, anc, pset, ctx, tests, jumps) if tests else {}
            cf.conds = branch_conditions(call, anc, tests, ctx, texts)
            cf.first_use = first_use(call, anc, once, fu, ctx, jumps,
                                     cf.result.error_path if cf.result is not None else None) if once else []
            cf.arg_params = _arg_params(call, pset)
            _nonnull_locals(call, cf, value)
            if cf.arg_params:
                cf.pass_fields = _pass_fields(call, cf.arg_params, pset)
                cf.arg_clobbers = _arg_clobbers(call, cf.arg_params, pset)
            if values:
                cf.field_args = _field_args(call, values)
            if walk.branches:
                cf.arg_sets = _arg_sets(call, anc, narrowing, walk.writes, params)
            calls.append(cf)
    for call, anc in walk.inline_calls:
        forwards = inline_forwards(call, ctx)
        given = {callee for callee, _ in forwards}
        body = [(callee, {}, struct, args) for callee, struct, args in inline_callees(call, ctx) if callee not in given]
        todo = [(c, a, "", None) for c, a in forwards] + body
        if not todo or ctx.where(call.location)[0] != file:
            continue  # (_forwarded() records only calls written in this file)
        # one inline call: the same place, guards and conditions for everything it calls
        guards = param_guards(call, anc, pset, ctx, tests, jumps) if tests else {}
        conds = branch_conditions(call, anc, tests, ctx, texts)
        outer = _arg_params(call, pset)
        for callee, func_args, struct, args in todo:
            cf = _forwarded(call, callee, func_args, states.get(call.hash, empty), ctx, file)
            cf.struct, cf.inline_body, cf.guards, cf.conds = struct, args is not None, dict(guards), list(conds)
            if args:
                _inline_args(cf, args, list(call.get_arguments()), outer)
            calls.append(cf)
    regs = _registrations(fn, walk, ctx, cat, file)
    walk.drops = sorted(dropping)
    walk.param_writes, walk.param_passes = pset.summary()
    at_exit = ins.get(0)  # node 0 is the function's exit
    walk.sleeps_always = bool(at_exit and at_exit.slept)
    walk.calls_always = list(at_exit.called[-MAX_ALWAYS:]) if at_exit else []
    walk.releases = _releases(builder.nodes, clf, dropping, ins.get(0)) if dropping else []
    walk.acquires = _acquires(ins.get(0)) if not dropping else []
    if walk.acquires and any(kind == "call" and clf.may_unlock(call) and _holds(states.get(call.hash, empty), walk.acquires)
                             for node in builder.nodes for kind, call in node.events):
        walk.acquires = []  # what it calls under the lock may release it (in another TU)
    return calls, regs


def _sleeping_sites(sites: list, site_calls: list, catalog) -> frozenset:
    """Allocations that sleep like mutex_lock(): every mask blocks and the API always runs
    might_alloc().  The first of them on a path is the bug the kernel reports
    (__might_resched() fires there every time, not only under memory pressure); the allocations
    after it on every path are not passed the caller's atomic context, one finding per path."""
    out = set()
    for site, call in zip(sites, site_calls):
        api = catalog.lookup(site.api)
        if site.masks and all(blocking(m) for m in site.masks) and api is not None and api.always_checks_sleep():
            out.add(call.hash)
    return frozenset(out)


MAX_BEFORE = 12  # calls made on every path before a call that are kept, the nearest ones
MAX_ALWAYS = 48  # calls made on every path through a function that are kept


def _before(st: cfg.State) -> list:
    """Functions called on every path before this point (the nearest MAX_BEFORE): the link knows
    which of them always sleep (kernfs_find_and_get_ns() takes a rwsem before anything else)."""
    return list(st.called[-MAX_BEFORE:])


def _acquires(at_exit) -> list:
    """Lock classes the function takes and still holds when it returns, on every path (`locked`
    is a must-set; a guard released at its block's end is not held any more).  A helper that
    drops its caller's lock and takes it again (no path keeps INHERITED) is not a lock: its
    caller holds one lock before and after."""
    if at_exit is None or cfg.INHERITED not in at_exit.held:
        return []
    # only a lock object (spin_lock(&x->lock)): an unkeyed section (preempt_disable()) left open
    # is more often an exit the catalog does not know (sched_preempt_enable_no_resched())
    return sorted({cls for cls, key in at_exit.locked
                   if key and any(t.cls == cls and t.key == key and not t.scope and t.owner == 0 for t in at_exit.held)})


def _may_unlock(call, ctx) -> bool:
    """CALL may release a lock its caller holds without gfplint knowing: a call through a pointer,
    or to a function defined in no file of this TU (include/linux/writeback.h
    wbc_attach_fdatawrite_inode(): spin_lock(&inode->i_lock), then wbc_attach_and_unlock_inode()
    in fs/fs-writeback.c)."""
    ref = call.referenced
    return ref is None or ref.kind != K.FUNCTION_DECL or not ctx.callee(ref)[1]


def _holds(st, classes: list) -> bool:
    return any(t.cls in classes and t.key and not t.scope for t in st.held)


def _releases(nodes, clf, dropping: frozenset, at_exit) -> list:
    """Lock classes the function unlocks for its caller and does not retake before it returns
    (a drop-and-retake helper keeps its caller's lock: it is not an unlock wrapper)."""
    classes = set()
    for node in nodes:
        for kind, call in node.events:
            ev = clf.event(call) if kind == "call" else None
            if ev is not None and ev[0] == "exit" and not ev[1].scope and ev[2] in dropping:
                classes.add(ev[1].cls)
    held = at_exit.held if at_exit is not None else frozenset()
    return sorted(c for c in classes if not any(t.cls == c and t != cfg.INHERITED for t in held))


# ------------------------------------------------------------------- calls


def _callee(call) -> tuple:
    """(name, struct): a function's name, or (".field", owning struct) for a call through a member pointer."""
    ref = call.referenced
    if ref is not None and ref.kind == K.FUNCTION_DECL:
        return ref.spelling, ""
    kids = children(call)
    if kids:
        node = kids[0]
        while node.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR) and children(node):
            node = children(node)[0]
        if node.kind == K.MEMBER_REF_EXPR:
            return "." + node.spelling, struct_of_field(node.referenced)
    return None, ""


def _param_callee(call) -> str:
    """The parameter a call goes through, `fn(x)` or `(*fn)(x)` with `fn` a function-pointer
    parameter of the caller ("" otherwise): net/core/dev_addr_lists.c __hw_addr_sync_dev() calls its
    `sync` parameter, the driver's function its caller passed."""
    kids = children(call)
    node = kids[0] if kids else None
    while node is not None and node.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR, K.UNARY_OPERATOR):
        inner = children(node)
        node = inner[0] if len(inner) == 1 else None
    if node is None or node.kind != K.DECL_REF_EXPR:
        return ""
    ref = node.referenced
    return ref.spelling if ref is not None and ref.kind == K.PARM_DECL else ""


MAX_INLINE_DEPTH = 3


def inline_forwards(call, ctx) -> list:
    """What a call to a header inline does with the functions it is given, as calls of the caller:
    [(callee, {argument index: function})].  include/linux/netdevice.h __dev_uc_sync(dev, sync,
    unsync) is __hw_addr_sync_dev(&dev->uc, dev, sync, unsync): a call of __hw_addr_sync_dev()
    given the caller's functions.  An inline that calls the pointer itself gives (function, {})."""
    ref = call.referenced
    if ref is None or ref.kind != K.FUNCTION_DECL:
        return []
    given = {}
    for i, a in enumerate(call.get_arguments()):
        target = named_function(a)
        if target is not None:
            given[i] = target
    return _forwards(ref, given, ctx, MAX_INLINE_DEPTH)


def inline_callees(call, ctx) -> list:
    """[(callee, struct)]: the functions the header inline CALL calls every time it runs, through
    nested header inlines, as calls of the caller at the inline's call (the graph holds no header
    inline): include/linux/skbuff.h kfree_skb() is a call of kfree_skb_reason(); a call through a
    member pointer is (".field", its struct), followed with --through-fields (iwlwifi's
    iwl_op_mode_rx() is `op_mode->ops->rx(...)`).  Only unconditional calls: folio_put() frees
    only the last reference (`if (folio_put_testzero(folio)) __folio_put(folio)`), and a put
    under a lock is almost never the last one (as kref_put()'s release in _forwards()).  An inline
    that takes or drops a lock, opens a scope or registers a callback itself is left out (its
    calls may not run in the caller's state), and so are the catalog's APIs."""
    ref = call.referenced
    if ref is None or ref.kind != K.FUNCTION_DECL or _context_api(ref.spelling, ctx):
        return []
    hit = _inline_callees(ref, ctx, MAX_INLINE_DEPTH)
    return [(name, struct, args) for (name, struct), args in hit[0].items()] if hit is not None else []


def _inline_args(cf: CallFacts, args: dict, given: list, outer: dict) -> None:
    """What the caller knows of the arguments an inline passes to CF's callee: ARGS (_arg_template():
    argument index -> ("const", value), or ("param" or "not", index of the inline's parameter it
    passes on as it is or negated)) resolved with the arguments GIVEN to the inline and OUTER, those
    that are the caller's parameters (_arg_params()).
    drivers/net/wireless/intel/iwlwifi/iwl-dbg-tlv.h iwl_dbg_tlv_time_point() passes `sync = false`
    to _iwl_dbg_tlv_time_point(), whose dump allocates only `if (sync)`."""
    for k, (kind, v) in args.items():
        flip = (lambda x: int(not x)) if kind == "not" else (lambda x: x)
        if kind == "const":
            cf.const_args[k] = v
        elif v < len(given) and _literal(given[v]) and (c := fields.constant(given[v])) is not None:
            cf.const_args[k] = flip(c)
        elif v < len(given) and _address_of(given[v]):
            cf.const_args[k] = flip(1)  # &obj->field is never NULL
        elif str(v) in outer and "->" not in outer[str(v)]:
            p = outer[str(v)]
            if kind == "param":
                cf.arg_params[k] = p
            elif not p.startswith("!"):
                cf.arg_params[k] = "!" + p


def _context_api(name: str, ctx) -> bool:
    cat = ctx.context_catalog
    return (name in cat.enter or name in cat.exit or name in cat.registrations or name in cat.sleeps
            or ctx.catalog.lookup(name) is not None)


def _inline_callees(ref, ctx, depth: int) -> tuple | None:
    """(always, sometimes): {(callee, struct): what it is passed (_arg_template())} for what the inline
    calls every time, through nested inlines, and the (callee, struct) it may call only sometimes;
    or None: the inline (or one it calls) enters or leaves a section itself, or nests deeper than
    DEPTH allows (what it calls there is not known).  Memoized by inline and depth."""
    key = (bytes(ref), depth)
    if key in ctx.inline_callees:
        return ctx.inline_callees[key]
    ctx.inline_callees[key] = None  # recursion guard: a cycle of inlines is not followed
    defn = ref.get_definition()
    body = next((c for c in children(defn) if c.kind == K.COMPOUND_STMT), None) if defn is not None else None
    out: dict = {}  # (name, struct) -> argument template: what it calls every time, through nested inlines
    sometimes: set = set()  # (name, struct) it may call only sometimes
    params = [c.spelling for c in children(defn) if c.kind == K.PARM_DECL] if body is not None else []
    written = _written_params(body, params)
    skip = False  # it enters or leaves a section itself, or nests deeper than DEPTH
    # functions it may call with no edge recorded, or names (`fi->hook = fs_fill`): the must-scopes
    # take them as entered from anywhere
    calls, always, refs = _inline_body(body)
    unseen: set = set(refs)
    for x in calls:
        name, struct = _callee(x)
        if name is None:
            continue
        if _section_api(name, ctx.context_catalog):
            skip = True
            continue
        if _context_api(name, ctx):
            continue
        callee = x.referenced
        if struct or callee is None or not ctx.callee(callee)[2]:  # a function of a .c file, or a pointer
            if x.hash in always:
                _meet(out, (name, struct), _arg_template(x, params, written))
            else:
                sometimes.add((name, struct))
                if not struct:
                    unseen.add(name)
            continue
        inner = _inline_callees(callee, ctx, depth - 1) if depth > 1 else None
        if inner is None:
            skip = True
            if depth <= 1:  # too deep to follow: whatever it reaches has no edge
                unseen |= _names_below(callee, ctx, set())
        elif x.hash in always:
            mine = _arg_template(x, params, written)
            for k, args in inner[0].items():
                _meet(out, k, _compose(args, mine))
            sometimes |= inner[1]
        else:
            unseen.update(n for n, st in inner[0] if not st)
            sometimes |= set(inner[0]) | inner[1]
    for k in sometimes & set(out):
        out[k] = {}  # also called sometimes, with what the edge does not show: `f(d, 0); if (x) f(d, 1);`
    if skip:
        unseen.update(n for n, st in out if not st)
    ctx.inline_unseen |= unseen
    hit = ctx.inline_callees[key] = None if skip else (out, frozenset(sometimes))
    return hit


def _arg_template(x, params: list, written: set) -> dict:
    """What call X (in a header inline with PARAMS) passes: argument index -> ("const", value) for a
    literal or `&obj`, ("param", i) for the inline's parameter i passed on unchanged, ("not", i)
    for `!` of it.  A parameter converted to a type that may change its value (`u32` to `u8`, to
    `bool`) is not passed on unchanged."""
    out = {}
    for i, a in enumerate(x.get_arguments()):
        node = _bare(a)
        negated = _not_operand(node)
        kind = "not" if negated is not None else "param"
        node = negated if negated is not None else node
        if _literal(a) and (v := fields.constant(a)) is not None:
            out[str(i)] = ("const", v)
        elif _address_of(a):
            out[str(i)] = ("const", 1)
        elif node.kind == K.DECL_REF_EXPR and node.referenced is not None and node.referenced.kind == K.PARM_DECL \
                and node.spelling in params and node.spelling not in written \
                and (kind == "not" or _keeps_value(a.type, node.type)):
            out[str(i)] = (kind, params.index(node.spelling))
    return out


_SIGNED = {ci.TypeKind.CHAR_S, ci.TypeKind.SCHAR, ci.TypeKind.SHORT, ci.TypeKind.INT, ci.TypeKind.LONG,
           ci.TypeKind.LONGLONG, ci.TypeKind.INT128}
_UNSIGNED = {ci.TypeKind.CHAR_U, ci.TypeKind.UCHAR, ci.TypeKind.USHORT, ci.TypeKind.UINT, ci.TypeKind.ULONG,
             ci.TypeKind.ULONGLONG, ci.TypeKind.UINT128}


def _keeps_value(to, frm) -> bool:
    """A value of type FRM converted to TO is the same value: the same kind and size, or integers
    (an enum among them) of one size and signedness."""
    t, f = to.get_canonical(), frm.get_canonical()
    if t.kind == f.kind:
        return t.get_size() == f.get_size()
    if ci.TypeKind.ENUM in (t.kind, f.kind):
        return t.get_size() == f.get_size() and {t.kind, f.kind} <= _SIGNED | _UNSIGNED | {ci.TypeKind.ENUM}
    return t.get_size() == f.get_size() and ({t.kind, f.kind} <= _SIGNED or {t.kind, f.kind} <= _UNSIGNED)


def _compose(inner: dict, outer: dict) -> dict:
    """INNER's template (in the parameters of the inline it is in) in the parameters of the inline that
    calls it with OUTER."""
    out = {}
    for k, (kind, v) in inner.items():
        given = outer.get(str(v)) if kind != "const" else None
        if kind == "const":
            out[k] = (kind, v)
        elif given is None:
            continue
        elif kind == "param":
            out[k] = given
        elif given[0] == "const":  # `!` of a constant
            out[k] = ("const", int(not given[1]))
        elif given[0] == "param":
            out[k] = ("not", given[1])
    return out


def _meet(out: dict, key: tuple, args: dict) -> None:
    """A callee an inline calls twice is known to get only what both calls pass."""
    out[key] = args if key not in out else {k: v for k, v in out[key].items() if args.get(k) == v}


def _written_params(body, params: list) -> set:
    """The parameters an inline's BODY assigns, increments, takes the address of or names in an asm
    statement (include/linux/compiler.h OPTIMIZER_HIDE_VAR()): what it passes on may not be what it
    was given."""
    out: set = set()
    stack = [body] if body is not None else []
    while stack:
        c = stack.pop()
        kids = children(c)
        if c.kind == K.ASM_STMT:
            out |= _names_in(c, params)
            continue
        target = None
        assigns = c.kind == K.COMPOUND_ASSIGNMENT_OPERATOR \
            or (c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) == cu.BINARY_ASSIGN)
        if assigns or (c.kind == K.UNARY_OPERATOR and cu.unary_operator(c) in cu.UNARY_WRITES):
            target = kids[0] if kids else None
        if target is not None:
            target = _bare(target)
            if target.kind == K.DECL_REF_EXPR and target.spelling in params:
                out.add(target.spelling)
        stack.extend(kids)
    return out


def _names_in(c, params: list) -> set:
    """The PARAMS a DECL_REF_EXPR under C names."""
    out, stack = set(), [c]
    while stack:
        n = stack.pop()
        if n.kind == K.DECL_REF_EXPR and n.spelling in params:
            out.add(n.spelling)
        stack.extend(children(n))
    return out


def is_callee(c, anc: list) -> bool:
    """C (a DECL_REF_EXPR) is what a call calls: `f(x)`, through implicit casts and parentheses."""
    node, i = c, len(anc) - 1
    while i >= 0 and anc[i].kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR):
        node, i = anc[i], i - 1
    if i < 0 or anc[i].kind != K.CALL_EXPR:
        return False
    kids = children(anc[i])
    return bool(kids) and kids[0] == node


def _names_below(ref, ctx, seen: set) -> set:
    """Every function an inline may call or names, through all the inlines it calls: what a chain
    too deep to follow may reach (_inline_callees() gives up on it)."""
    key = bytes(ref)
    if key in seen:
        return set()
    seen.add(key)
    defn = ref.get_definition()
    body = next((c for c in children(defn) if c.kind == K.COMPOUND_STMT), None) if defn is not None else None
    calls, _, refs = _inline_body(body)
    out = set(refs)
    for x in calls:
        callee = x.referenced
        if callee is None or callee.kind != K.FUNCTION_DECL or _context_api(callee.spelling, ctx):
            continue
        if ctx.callee(callee)[2]:
            out |= _names_below(callee, ctx, seen)
        else:
            out.add(callee.spelling)
    return out


def _inline_body(body) -> tuple:
    """One walk of an inline's BODY: (its calls in evaluation order, as cfg.calls_in(); the hashes of
    those that run every time it does, as _unconditional_calls(); the functions it names other than
    as a call's callee: `p->hook = f`, `register(f)`)."""
    calls: list = []
    always: set = set()
    refs: list = []

    def visit(c, ok: bool, anc: list) -> None:
        k = c.kind
        kids = cu.evaluated_children(c)
        if k == K.DECL_REF_EXPR and c.referenced is not None and c.referenced.kind == K.FUNCTION_DECL \
                and not is_callee(c, anc):
            refs.append(c.spelling)
        inner = ok and k not in _BRANCHING
        split = (k == K.BINARY_OPERATOR and cu.binary_operator(c) in (cu.BINARY_LAND, cu.BINARY_LOR)) \
            or is_gnu_conditional(c, kids)
        anc.append(c)
        for i, ch in enumerate(kids):
            visit(ch, inner and (i == 0 or not split), anc)
        anc.pop()
        if k == K.CALL_EXPR:
            calls.append(c)
            if ok:
                always.add(c.hash)

    ok = True
    for stmt in children(body) if body is not None else ():
        visit(stmt, ok, [body])
        if stmt.kind == K.RETURN_STMT or stmt.kind in _BRANCHING:
            ok = False  # what follows may not run
    return calls, always, refs


def _section_api(name: str, cat) -> bool:
    # cat.section_primitives: what a section macro expands to in a header, where the macro name
    # cannot be read (TUContext.analysed(): only .c files)
    return name in cat.enter or name in cat.exit or name in cat.registrations \
        or name.startswith(cat.section_primitives)


def file_scope_references(cursor, ctx) -> list:
    """[function, file] of every function a file-scope initializer names (`static void (*hook)(void) =
    f;`, a table of handlers): its address is taken, so it may be called from anywhere."""
    f = ctx.rel(ctx.where(cursor.location)[0] or "")
    out, stack = set(), list(children(cursor))
    while stack:
        c = stack.pop()
        if c.kind == K.DECL_REF_EXPR and c.referenced is not None and c.referenced.kind == K.FUNCTION_DECL:
            out.add(c.spelling)
        stack.extend(children(c))
    return [[name, f] for name in sorted(out)]


def _forwards(ref, given: dict, ctx, depth: int) -> list:
    defn = ref.get_definition()
    if defn is None or depth == 0:
        return []
    params = [c.spelling for c in children(defn) if c.kind == K.PARM_DECL]
    passed = {params[i]: f for i, f in given.items() if i < len(params)}
    body = next((c for c in children(defn) if c.kind == K.COMPOUND_STMT), None)
    if not passed or body is None:
        return []
    out = []
    always = _unconditional_calls(body)
    for _, x in cfg.calls_in(body):
        via = _param_callee(x)
        if via in passed:
            # only when it always runs: include/linux/kref.h kref_put() calls `release` only for
            # the last reference, and a put under a lock is almost never the last one
            if x.hash in always:
                out.append((passed[via], {}))
            continue
        callee = x.referenced
        if callee is None or callee.kind != K.FUNCTION_DECL:
            continue
        sub = {j: passed[n] for j, a in enumerate(x.get_arguments()) if (n := _param_name(a)) in passed}
        if not sub:
            continue
        if ctx.callee(callee)[2]:  # another header inline: what it does with them
            out += _forwards(callee, sub, ctx, depth - 1)
        else:
            out.append((callee.spelling, {str(j): f for j, f in sub.items()}))
    return out


_BRANCHING = (K.IF_STMT, K.SWITCH_STMT, K.FOR_STMT, K.WHILE_STMT, K.DO_STMT, K.CONDITIONAL_OPERATOR)


def is_gnu_conditional(c, kids) -> bool:
    """GNU `a ?: b`: libclang shows a BinaryConditionalOperator as an UNEXPOSED_EXPR with the
    common operand, two opaque copies of it, and `b` (an implicit cast has one child)."""
    return c.kind == K.UNEXPOSED_EXPR and len(kids) >= 3


def _unconditional_calls(body) -> set:
    """Hashes of the calls of an inline's BODY that run every time it does: not under a branch, a
    loop, `?:` or the right side of `&&`/`||`, and before any return but the last statement."""
    out: set = set()

    def visit(c, ok: bool) -> None:
        if c.kind == K.CALL_EXPR and ok:
            out.add(c.hash)
        kids = cu.evaluated_children(c)
        if c.kind in _BRANCHING:
            ok = False
        if (c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) in (cu.BINARY_LAND, cu.BINARY_LOR)) \
                or is_gnu_conditional(c, kids):
            visit(kids[0], ok)
            for k in kids[1:]:
                visit(k, False)
            return
        for k in kids:
            visit(k, ok)

    for k in children(body):
        visit(k, True)
        if k.kind == K.RETURN_STMT or k.kind in _BRANCHING:
            break  # what follows may not run
    return out


def _param_name(a) -> str:
    """The parameter argument A names, as it is ("" for anything else)."""
    while a.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR) and len(children(a)) == 1:
        a = children(a)[0]
    ref = a.referenced if a.kind == K.DECL_REF_EXPR else None
    return ref.spelling if ref is not None and ref.kind == K.PARM_DECL else ""


def _forwarded(call, callee: str, func_args: dict, st, ctx, file) -> CallFacts | None:
    """The call a header inline makes with the caller's functions, at the caller's call and state."""
    f, line, col, _ = ctx.where(call.location)
    if f != file:
        return None
    return CallFacts(callee, line, col, _token_list(st, False), sorted(st.must), _scopes_may(st),
                     call=normalize(ctx.text(call) or callee)[:400], inherits=_inherits(st), slept=st.slept,
                     before=_before(st), func_args=func_args, inline=call.spelling)


def struct_of_field(decl) -> str:
    """The named struct or union that declares field DECL ("" when anonymous or unknown)."""
    if decl is None or decl.kind != K.FIELD_DECL:
        return ""
    parent = decl.semantic_parent
    if parent is None or parent.kind not in (K.STRUCT_DECL, K.UNION_DECL):
        return ""
    name = parent.spelling
    return "" if not name or " " in name else name


def _param_types(call, ctx):
    ref = call.referenced
    if ref is None or ref.kind != K.FUNCTION_DECL:
        return []
    return ctx.callee(ref)[0]


def _call_facts(call, anc, st, ctx, env: GfpEnv, file, fn) -> CallFacts | None:
    callee, struct = _callee(call)
    via = ""
    if callee is None:
        via = _param_callee(call)
        if not via:
            return None
        callee = f"(*{via})"  # no function has this name: the linker gives it edges of its own
    f, line, col, _ = ctx.where(call.location)
    if f != file:
        return None
    cf = CallFacts(callee, line, col, _token_list(st, False), sorted(st.must), _scopes_may(st),
                   inherits=_inherits(st), struct=struct, slept=st.slept, before=_before(st), via_param=via)
    args = list(call.get_arguments())

    for i, a in enumerate(args):
        target = named_function(a)  # a function passed by name: registration wrappers register it
        if target is not None:
            cf.func_args[str(i)] = target
        if _literal(a):
            v = fields.constant(a)  # NULL too: clang evaluates no pointer to an integer
            if v is not None:
                cf.const_args[str(i)] = v
        elif _address_of(a):
            cf.const_args[str(i)] = 1  # &obj->field is never NULL: enough for `if (p)` guards
    for i, t in enumerate(_param_types(call, ctx)):
        if i >= len(args):
            break
        if "gfp_t" in t:
            text = ctx.text(args[i])
            cf.gfp_args[str(i)] = _gfp_arg(text, env, args[i], ctx)
        elif t in ("size_t", "unsigned int", "unsigned long", "int", "u32", "u64"):
            v = evaluate_int(args[i])
            if v is not None:
                cf.size_args[str(i)] = v
    text = ctx.text(call)
    cf.call = normalize(text) if text and len(text) < 400 else callee
    if call.type.kind == ci.TypeKind.POINTER and (cf.gfp_args or _defined_here(call, ctx)):
        cf.result = _result_of(call, anc, callee, ctx, fn, file)
    return cf


_LITERALS = (K.INTEGER_LITERAL, K.CHARACTER_LITERAL, K.CXX_BOOL_LITERAL_EXPR)


def _literal(a) -> bool:
    """Worth a constant evaluation (a ctypes round trip): literals, enumerators, -1."""
    node = a
    while node.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR, K.CSTYLE_CAST_EXPR, K.UNARY_OPERATOR):
        kids = [k for k in children(node) if k.kind != K.TYPE_REF]
        if len(kids) != 1:
            return False
        node = kids[0]
    if node.kind in _LITERALS:
        return True
    if node.kind == K.BINARY_OPERATOR:  # MSG_DONTWAIT | MSG_NOSIGNAL
        return all(_literal(k) for k in children(node))
    return node.kind == K.DECL_REF_EXPR and node.referenced is not None and node.referenced.kind == K.ENUM_CONSTANT_DECL


def _nonnull_locals(call, cf: CallFacts, value: Values) -> None:
    """Arguments that are a local pointer only ever set to `&obj`: never NULL, like `&obj` itself."""
    for i, a in enumerate(call.get_arguments()):
        node = _bare(a)
        if str(i) not in cf.const_args and node.kind == K.DECL_REF_EXPR and value.address(node):
            cf.const_args[str(i)] = 1


def _arg_params(call, params: Params) -> dict:
    """Arguments that are the caller's own parameters or their fields, passed through unchanged ("p",
    "p->f": `ip_fib_metrics_init(net, cfg->fc_mx, ...)`) or negated ("!p": `add_ptr_to_bulk_krc_lock(..., !head)`)."""
    out = {}
    for i, a in enumerate(call.get_arguments()):
        node, neg = _bare(a), ""
        inner = _not_operand(node)
        if inner is not None:
            node, neg = inner, "!"
        key = params.key(node) if node.kind in (K.DECL_REF_EXPR, K.MEMBER_REF_EXPR) else None
        if key is not None:
            out[str(i)] = neg + key
    return out


def _pass_fields(call, arg_params: dict, params: Params) -> dict:
    """Arguments passing a parameter pointer on, with its known fields: index -> the earlier calls
    that may have changed them (Params.clobbers)."""
    return {k: params.clobbers(p, call) for k, p in sorted(arg_params.items()) if p in params.pointers}


def _arg_clobbers(call, arg_params: dict, params: Params) -> dict:
    """Arguments passing `p->f`: index -> the earlier calls that may have changed it."""
    out = {}
    for k, p in sorted(arg_params.items()):
        if "->" in p:
            c = params.clobbers(p.lstrip("!").split("->", 1)[0], call)
            if c:
                out[k] = c
    return out


def _field_args(call, values: dict) -> dict:
    """Arguments `&v` of a local struct whose fields are known: index -> {field: value}."""
    out = {}
    for i, a in enumerate(call.get_arguments()):
        name = fields.address_of_local(a, values)
        if name is not None:
            out[str(i)] = values[name]
    return out


def _arg_sets(call, anc: list, memo: dict, writes, params: list) -> dict:
    """Arguments whose value, or one of whose fields, the enclosing branches narrow to a few
    constants: index -> {field ("" for the argument itself): [values]}.  drivers/hid/intel-ish-hid/
    ishtp/hbm.c recv_hbm() calls `ishtp_hbm_dispatch(dev, ishtp_msg)` in the interrupt handler only
    `if (ishtp_msg->hbm_cmd == CLIENT_CONNECT_RES_CMD || ...)`, and the callee's switch on that field
    reaches the enumeration cases only from the work item.  Only what the function cannot have
    changed between the test and the call narrows: a parameter never assigned, a local assigned
    at most once (by then the test has read it), neither with its address taken, a field the function never writes (callees
    writing it are not looked for, as in fields.stable_condition())."""
    known: dict = {}
    chain = list(anc) + [call]
    for i, a in enumerate(chain[:-1]):
        if a.kind not in (K.IF_STMT, K.SWITCH_STMT):
            continue
        kids = children(a)
        child = chain[i + 1]
        if a.kind == K.IF_STMT and len(kids) > 1 and child == kids[1]:
            key = a.hash
            if key not in memo:
                memo[key] = _equal_values(kids[0])
        elif a.kind == K.SWITCH_STMT and len(kids) > 1:
            inner = chain[i + 2] if i + 2 < len(chain) else child  # the statement of the body holding the call
            key = (a.hash, inner.hash)
            if key not in memo:
                target = _operand(kids[0])
                vals = _case_values(kids[-1], inner, child) if target else None
                memo[key] = [(target, vals)] if vals else None
        else:
            continue
        for target, vals in memo[key] or ():
            if _unwritten(target, writes, params):
                known[target] = vals
    if not known:
        return {}
    out: dict = {}
    for i, arg in enumerate(call.get_arguments()):
        node = _bare(arg)
        while node.kind == K.CSTYLE_CAST_EXPR and children(node):
            node = _bare(children(node)[-1])
        if node.kind != K.DECL_REF_EXPR:
            continue
        for (var, fld), vals in known.items():
            if var == node.spelling:
                out.setdefault(str(i), {})[fld] = vals
    return out


def _unwritten(target: tuple, writes, params: list) -> bool:
    var, fld = target
    if len(writes.copies.get(var, ())) > (0 if var in params else 1) or writes.address_uses.get(var):
        return False
    written = writes.field_names()
    return not fld or (fld not in written and "*" not in written)


def _operand(node) -> tuple | None:
    """(variable, field) for `v->f`, (variable, "") for `v`, else None."""
    node = _bare(node)
    if node.kind == K.DECL_REF_EXPR and node.referenced is not None and node.referenced.kind in (K.VAR_DECL, K.PARM_DECL):
        return node.spelling, ""
    if node.kind == K.MEMBER_REF_EXPR:
        kids = children(node)
        base = _bare(kids[0]) if kids else None
        if base is not None and base.kind == K.DECL_REF_EXPR and base.type.get_canonical().kind == ci.TypeKind.POINTER:
            return base.spelling, node.spelling
    return None


def _equal_values(cond) -> list | None:
    """[((variable, field), values)] that COND being true implies: each operand of `&&` that is
    `x == A` or `x == A || x == B || ...` on one variable or field X."""
    out = []
    for c in _conjuncts(cond):
        target, values = None, set()
        for d in _disjuncts(c):
            d = _bare(d)
            if d.kind != K.BINARY_OPERATOR or cu.binary_operator(d) != cu.BINARY_EQ:
                target = None
                break
            x, y = children(d)
            v = evaluate_int(y)
            if v is None:
                x, v = y, evaluate_int(x)
            t = _operand(x) if v is not None else None
            if t is None or (target is not None and t != target):
                target = None
                break
            target = t
            values.add(v)
        if target is not None:
            out.append((target, sorted(values)))
    return out or None


def _address_of(a) -> bool:
    node = _bare(a)
    return node.kind == K.UNARY_OPERATOR and cu.unary_operator(node) == cu.UNARY_ADDR_OF


def _gfp_arg(text, env: GfpEnv, node, ctx):
    if text:
        try:
            return [sorted(m) for m in eval_gfp(text, env)]
        except Unresolved as e:
            if e.params:
                return {"param": e.params[0]}

    v = evaluate_int(node)
    if v is not None:
        return [sorted(ctx.layout.names(v))]
    return None


def _defined_here(call, ctx) -> bool:
    ref = call.referenced
    if ref is None:
        return False
    if ref.kind == K.FUNCTION_DECL:
        return ctx.callee(ref)[1]
    d = ref.get_definition()
    return d is not None


def _result_of(call, anc, callee, ctx, fn, file) -> Site:
    """How the caller treats a wrapper's result: the same analysis as for an allocation."""
    from ..catalog import AllocApi
    from .parse import Written
    from .results import analyse_result

    f, line, col, off = ctx.where(call.location)
    ext = ctx.extent(call)
    start, end = (ext[1], ext[2]) if ext else (off, off)
    written = Written(callee, line, col, start, end, None, callee)
    probe = Site(ctx.rel(file), line, col, fn.spelling, callee, callee, "other", None, None)
    api = AllocApi(callee, "other", "null", True)
    analyse_result(probe, api, call, anc, written, ctx)
    return probe


# ------------------------------------------------------------ registrations


def _named(text: str | None) -> str | None:
    """The name an argument written as `f`, `&f` or `(irq_handler_t)f` refers to, else None."""
    if not text:
        return None
    t = re.sub(r"^\(\s*[\w\s*]+\)\s*", "", text.strip())  # a cast
    t = t.lstrip("&").strip()
    return t if re.fullmatch(r"[A-Za-z_]\w*", t) else None


def _function_ref(text: str | None, known: set) -> str | None:
    t = _named(text)
    return t if t in known else None


def _registrations(fn, walk, ctx, cat: ContextCatalog, file) -> list:
    out, seen = [], set()
    # parameters a registration can take a callback from: function pointers (not `void *data`)
    params = [c.spelling if _function_pointer(c.type) else None for c in children(fn) if c.kind == K.PARM_DECL]
    for name, args, line, col in walk.registration_uses:
        for reg in cat.registrations.get(name, []):
            idx = reg.arg
            if isinstance(idx, int):
                cands = [args[idx]] if -len(args) <= idx < len(args) else []
            elif idx == "notifier":  # &my_nb, where `struct notifier_block my_nb = { .notifier_call = f }`
                cands = [_notifier_call(a, walk, ctx) for a in args]
            else:
                cands = args  # "fn": whichever argument names a function
            for a in cands:
                target = _function_ref(a, ctx.function_names)
                if target and (target, reg.context, line) not in seen:
                    seen.add((target, reg.context, line))
                    out.append(Registration(target, reg.context, name, reg.why, ctx.rel(file), line, fn.spelling))
                elif idx != "notifier" and (param := _param_ref(a, params)) is not None:
                    # a registration wrapper (gve_add_napi(priv, i, gve_napi_poll)): what its callers pass
                    # there is registered (callgraph.wrapped_registrations())
                    walk.registers.append([param, reg.context, name, reg.why, line])
    for field, target, line, struct, _ in walk.field_assignments:
        for ops in cat.ops_fields:
            if field in ops["fields"] and ops.get("struct", struct) == struct and target in ctx.function_names:
                out.append(Registration(target, ops["context"], f".{field} =", ops["why"], ctx.rel(file), line,
                                        fn.spelling))
    return out


def _param_ref(text: str | None, params: list) -> int | None:
    """The index of the parameter TEXT names (`poll`, `&fn`, `(irq_handler_t)handler`), else None."""
    t = _named(text)
    return params.index(t) if t is not None and t in params else None


def _function_pointer(t) -> bool:
    """T is a pointer to a function (`irq_handler_t`, `int (*poll)(struct napi_struct *, int)`)."""
    c = t.get_canonical()
    return c.kind == ci.TypeKind.POINTER and c.get_pointee().kind in (ci.TypeKind.FUNCTIONPROTO,
                                                                       ci.TypeKind.FUNCTIONNOPROTO)


def _notifier_call(arg: str, walk, ctx) -> str | None:
    """The function a notifier_block argument calls: `&my_nb` of a static object initialized with
    `.notifier_call = f`, or a block in a structure or behind a pointer whose notifier_call the
    registering function sets first (`priv->nb.notifier_call = f; register_...(&priv->nb)`, as
    drivers/net/ethernet/mellanox/mlx5/core/en/rep/bridge.c mlx5e_rep_bridge_init() does;
    `nb->notifier_call = f; register_...(nb)`)."""
    obj = normalize(arg).lstrip("&")
    hit = ctx.var_functions.get(obj, {}).get("notifier_call")
    if hit:
        return hit
    for field, target, _, _, base in walk.field_assignments:
        if field == "notifier_call" and base is not None and base.lstrip("&") == obj:
            return target
    return None


def file_scope_registrations(cursor, ctx, cat: ContextCatalog) -> tuple:
    """Designated initializers of structures holding functions: `static const struct net_device_ops x =
    { .ndo_start_xmit = f }`.  Returns (Registrations of known ops fields, FieldFunctions of every field)."""
    out, fields = [], []
    f, line, _, _ = ctx.where(cursor.location)
    stack = list(children(cursor))
    while stack:
        c = stack.pop()
        if c.kind == K.UNEXPOSED_EXPR:
            kids = children(c)
            if len(kids) == 2 and kids[0].kind == K.MEMBER_REF:
                target = named_function(kids[1])
                if target and target in ctx.function_names:
                    field, struct = kids[0].spelling, struct_of_field(kids[0].referenced)
                    fline = ctx.where(kids[0].location)[1]
                    if struct:
                        fields.append(FieldFunction(struct, field, target, ctx.rel(f), fline))
                    for ops in cat.ops_fields:
                        if field in ops["fields"] and ops.get("struct", struct) == struct:
                            out.append(Registration(target, ops["context"], f".{field} =", ops["why"],
                                                    ctx.rel(f), fline))
                continue
        stack.extend(children(c))
    return out, fields


def named_function(c) -> str | None:
    """The function an argument names (`f`, `&f`, `(cast)f`), or None."""
    while c.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR, K.CSTYLE_CAST_EXPR, K.UNARY_OPERATOR):
        kids = children(c)
        if len(kids) != 1:
            return None
        c = kids[0]
    if c.kind == K.DECL_REF_EXPR and c.referenced is not None and c.referenced.kind == K.FUNCTION_DECL:
        return c.spelling
    return None


# ------------------------------------------------------------ parameter guards

_WRAPPERS = (K.UNEXPOSED_EXPR, K.PAREN_EXPR)


def _bare(c):
    """C without parentheses, implicit casts and likely()/unlikely()'s __builtin_expect."""
    while True:
        kids = [k for k in children(c) if k.kind != K.TYPE_REF]
        if c.kind in _WRAPPERS and len(kids) == 1:
            c = kids[0]
        elif c.kind == K.CALL_EXPR and c.spelling == "__builtin_expect" and kids:
            c = next(iter(c.get_arguments()), kids[0])
        else:
            return c


def _not_operand(c):
    """The operand of `!x`, else None."""
    if cfg.is_not(c):
        return _bare(children(c)[0])
    return None


def _conjuncts(c) -> list:
    """The operands of a chain of `&&` (C itself when it is not one); `!!(a && b)` is `a && b`."""
    c = _bare(c)
    inner = _not_operand(c)
    inner = _not_operand(inner) if inner is not None else None
    if inner is not None:
        c = inner
    if c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) == cu.BINARY_LAND:
        a, b = children(c)
        return _conjuncts(a) + _conjuncts(b)
    return [c]


def cond_tests(cond, params: Params, ctx) -> list:
    """(param, condition) pairs that must hold for COND to be true: `p`, `!p`, `p & MASK`, `!(p & MASK)`,
    `p == C`, `p != C`, each possibly one operand of `&&` (`if ((flags & MSG_ZEROCOPY) && length)`);
    `p->field` for a field the function never writes (`if (cpa->pgd)`) is tested like a parameter."""
    out = []
    for c in _conjuncts(cond):
        if len(_disjuncts(c)) > 1:
            out += _one_key_disjunction(c, params, ctx)
            continue
        truth = True
        while (inner := _not_operand(c)) is not None:
            truth, c = not truth, inner
        key, extra = _test_key(c, params)
        if key is not None:
            out.append((key, _clobbered({"truth": truth, **extra}, key, c, params)))
        elif c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) == cu.BINARY_AND:
            a, b = (_bare(k) for k in children(c))
            key, extra = _test_key(a, params)
            if key is not None:
                mask = cu.evaluate_int(b)
                if mask is not None:
                    out.append((key, _clobbered({"mask": mask, "truth": truth, **extra}, key, a, params)))
        elif c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) in (cu.BINARY_EQ, cu.BINARY_NE):
            out += _equality(c, truth, params)
    return out


def _test_key(node, params: Params) -> tuple:
    """(key, {}) for a tested parameter or field that holds the caller's value, (p, {"cleared": bits})
    for a parameter only ever `&=`-ed, with the bits it may lose (_settled() keeps what still holds),
    else (None, {})."""
    if node.kind not in (K.DECL_REF_EXPR, K.MEMBER_REF_EXPR):
        return None, {}
    key = params.key(node)
    if key is not None:
        return key, {}
    key, bits = params.cleared_key(node)
    return (key, {"cleared": bits}) if key is not None else (None, {})


def _settled(tests: list) -> list:
    """TESTS without those a clearing write (`flags &= ~F`) can break.  Of such a parameter, a test
    that a bit is set (or that it is nonzero) holds for every caller that passes it clear; a test
    that bits are clear holds only for bits no write clears."""
    out = []
    for key, cond in tests:
        if "cleared" in cond:
            bits = cond["cleared"]
            if "in" in cond or "not_in" in cond:
                continue
            if not cond["truth"] and ("mask" not in cond or cond["mask"] & bits):
                continue
            cond = {k: v for k, v in cond.items() if k != "cleared"}
        out.append((key, cond))
    return out


def _equality(c, truth: bool, params: Params) -> list:
    """`p == C` -> p in [C]; `p != C` (or `!(p == C)`) -> p not in [C] (ips_next(): `intr == IPS_INTR_ON`)."""
    a, b = (_bare(k) for k in children(c))
    v = fields.constant(b)
    if v is None:
        a, v = b, fields.constant(a)
    key = params.key(a) if v is not None and a.kind in (K.DECL_REF_EXPR, K.MEMBER_REF_EXPR) else None
    if key is None:
        return []
    if (cu.binary_operator(c) == cu.BINARY_EQ) != truth:
        return [(key, _clobbered({"not_in": [v]}, key, a, params))]
    return [(key, _clobbered({"in": [v]}, key, a, params))]


def _one_key_disjunction(cond, params: Params, ctx) -> list:
    """`p & A || p & B`: one test, p & (A | B) (drivers/scsi/mpt3sas/mpt3sas_trigger_diag.c
    mpt3sas_trigger_master(): `trigger_bitmask & MASTER_TRIGGER_FW_FAULT || ... & ..._ADAPTER_RESET`);
    `p == A || p == B`: p in [A, B]."""
    tests = [cond_tests(d, params, ctx) for d in _disjuncts(cond)]
    if not all(len(t) == 1 for t in tests) or len({t[0][0] for t in tests}) != 1:
        return []
    conds = [t[0][1] for t in tests]
    key = tests[0][0][0]
    if all("mask" in c and c["truth"] for c in conds):
        mask = 0
        for c in conds:
            mask |= c["mask"]
        return [(key, dict(conds[0], mask=mask))]
    if all("in" in c for c in conds):
        return [(key, dict(conds[0], **{"in": sorted({v for c in conds for v in c["in"]})}))]
    return []


def _clobbered(cond: dict, key: str, node, params: Params) -> dict:
    """A `p->f` test remembers the calls before it that were given `p` (the linker checks them)."""
    if "->" in key:
        c = params.clobbers(key.split("->", 1)[0], node)
        if c:
            cond["clobbers"] = c
    return cond


def _negated(tests: list) -> list:
    """The conditions for COND to be false: known only when COND is a single test."""
    if len(tests) != 1:
        return []
    p, cond = tests[0]
    extra = {"clobbers": cond["clobbers"]} if "clobbers" in cond else {}
    if "in" in cond:
        return [(p, {"not_in": cond["in"], **extra})]
    if "not_in" in cond:
        return [(p, {"in": cond["not_in"], **extra})]
    return [(p, dict(cond, truth=not cond["truth"]))]


def _disjuncts(c) -> list:
    """The operands of a chain of `||` (C itself when it is not one)."""
    c = _bare(c)
    if c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) == cu.BINARY_LOR:
        a, b = children(c)
        return _disjuncts(a) + _disjuncts(b)
    return [c]


def false_tests(cond, params: Params, ctx) -> list:
    """(param, condition) pairs that hold when COND is false.  For `a || b` every operand is false,
    so each operand that is a single test gives one (`if (!iter->tr || ...) return NULL;`)."""
    out = []
    for d in _disjuncts(cond):
        if len(_conjuncts(d)) == 1:  # `a && b` false says nothing about b alone
            out += _negated(cond_tests(d, params, ctx))
    return out


def _terminates(stmt) -> bool:
    if stmt.kind in (K.RETURN_STMT, K.GOTO_STMT):
        return True
    if stmt.kind == K.COMPOUND_STMT:
        kids = children(stmt)
        return bool(kids) and kids[-1].kind in (K.RETURN_STMT, K.GOTO_STMT)
    return False


def _guard_statements(walk, params: set, ctx) -> dict:
    """The if/switch statements that test a parameter (most functions have none), by hash.  For an
    `if`: (then, else), the parts of its condition param_guards() leaves out on each branch, for
    branch_conditions() to print (None: it captures nothing there, the whole condition is printed)."""
    out: dict = {}
    for c in walk.branches:
        kids = children(c)
        if not kids:
            continue
        if c.kind == K.SWITCH_STMT and _switch_key(kids[0], params):
            out[c.hash] = None
        elif c.kind == K.IF_STMT:
            parts = (_uncaptured(kids[0], params, ctx, False), _uncaptured(kids[0], params, ctx, True))
            if parts != (None, None):  # a test on either branch
                out[c.hash] = parts
    return out


class _WrittenFields:
    """Test keys for the fields of pointer parameters the function sets itself, after the test,
    and never clears, counts or hands on by address (the other side of Params.key(), which keeps
    only fields it never writes): first_use().  `if (f->busy) return -EBUSY; f->busy = 1; ...
    f->busy = 0;` is a busy flag, not a lazy initialization.  A call given the pointer before the
    test may have set the field: such a test is not one (Params.clobbers())."""

    def __init__(self, params: Params, bit_sets: list = (), graph: cfg.Builder | None = None, branches=(),
                 results=()):
        self.params = params
        self.bit_sets = bit_sets  # (`p->f |= F` cursor, ancestors) of the function
        self.graph = graph  # the function's control-flow graph (cfg.Builder.at: statement -> node)
        self.branches = branches  # its if/switch statements (the result's test is one of them)
        self.results = results  # ErrorPaths of its allocation sites (None: unchecked)
        self._call_node: dict | None = None
        self._result_tests: list | None = None
        self._ifs: dict | None = None  # (line, column) -> hash of the `if` that starts there

    def _bit_sets(self, key: str, mask: int):
        for c, set_anc in self.bit_sets:
            kids = children(c)
            if len(kids) == 2 and fields.param_ref(kids[0], self.params, self.params.aliases) == key:
                bits = cu.evaluate_int(kids[1])
                if bits and bits & mask:
                    yield c, set_anc

    def gives_up(self, call, key: str, mask: int, path, ctx) -> bool:
        """The function sets a bit of MASK in KEY only where an allocation's result failed (PATH:
        the step's own ErrorPath, or a later site's; in the failure branch, at a label it jumps to,
        in the else of `if (p)`, after `if (p) { ... return 0; }`), and a path where the step
        succeeded reaches the return without setting it: a give-up flag, not the mark of a
        finished initialization.  fs/nfs/inode.c nfs_ooo_merge() returns while
        NFS_INO_DATA_INVAL_DEFER is set, sets it only when its GFP_ATOMIC allocation fails (or its
        gap list overflows), and allocates again on the next call after a success;
        drivers/scsi/mvumi.c mvumi_init_data() sets MVUMI_FW_ALLOC after its allocations succeed,
        and not on failure: lazy.  A set the success edge of the same test also reaches (a later
        `if (!ret)`, a count checked after a loop) is no give-up.  The searches stop at the step,
        so a retry loop's failure edge does not reach the set its success makes.  Where the graph
        does not show such a path, the mark stays."""
        g = self.graph
        if g is None or path is None:
            return False
        sets = [self._node_of(c, anc) for c, anc in self._bit_sets(key, mask)]
        start = self._call_nodes().get(call.hash)
        own = self._test(path, ctx)
        if not sets or None in sets or start is None or own is None:
            return False
        after = cfg.reach(g.nodes, [start])
        if own[0] not in after:
            return False
        stop = frozenset([start])
        failed_only: set = set()
        for node, i in [own] + [t for t in self._site_tests(ctx) if t[0] in after and t != own]:
            succ = g.nodes[node].succ
            failed_only |= cfg.reach(g.nodes, [succ[i][0]], stop) - cfg.reach(g.nodes, [succ[1 - i][0]], stop)
        return bool(failed_only.intersection(sets)) and 0 in cfg.reach(g.nodes, [start], frozenset(sets), own)

    def _test(self, path, ctx) -> tuple | None:
        """(graph node of the `if` that tests a result, index of its failure edge) for ErrorPath
        PATH: then for `if (!p)`, else for `if (p)` and `&&` chains."""
        node = self._test_node(path, ctx)
        if node is None or len(self.graph.nodes[node].succ) != 2:
            return None
        return node, 1 if path.check in _SUCCESS_TESTS else 0

    def _site_tests(self, ctx) -> list:
        if self._result_tests is None:
            tests = (self._test(p, ctx) for p in self.results if p is not None)
            self._result_tests = [t for t in tests if t is not None]
        return self._result_tests

    def _node_of(self, c, anc: list) -> int | None:
        """The graph node of the statement holding C; None when C is in a part of a statement the
        graph has no node of its own for (a loop's header, a switch's value)."""
        for x in reversed(list(anc) + [c]):
            if x.hash in self.graph.at:
                return self.graph.at[x.hash]
            if x.kind in cfg.STATEMENTS and x.kind != K.COMPOUND_STMT:  # ({ ... }) blocks: their statement's node
                return None
        return None

    def _test_node(self, path, ctx) -> int | None:
        """The graph node of the `if` that tests the result (ErrorPath.check_line, check_column;
        the first `if` there when a macro expands to several)."""
        if self._ifs is None:
            self._ifs = {}
            for b in self.branches:
                if b.kind == K.IF_STMT:
                    self._ifs.setdefault(tuple(ctx.where(b.extent.start)[1:3]), b.hash)
        h = self._ifs.get((path.check_line, path.check_column))
        return self.graph.at.get(h) if h is not None else None

    def _call_nodes(self) -> dict:
        if self._call_node is None:
            self._call_node = {ev[1].hash: i for i, node in enumerate(self.graph.nodes)
                               for ev in node.events if ev[0] == "call"}
        return self._call_node

    def key(self, node) -> str | None:
        k = fields.param_ref(node, self.params, self.params.aliases)
        if k is None or "->" not in k or not self.params.writes.set_after(k, node.location.offset):
            return None
        return None if self.params.clobbers(k.split("->", 1)[0], node) else k

    def cleared_key(self, node) -> tuple:
        return None, 0

    def clobbers(self, param: str, node) -> list:
        return []


_SUCCESS_TESTS = ("if-ok", "and-chain")  # ErrorPath.check forms whose then-branch is the success


def _zero_bits(tests: list, writes) -> dict:
    """The keys TESTS require to be zero or to have the tested bits clear, with those bits (0: the
    whole field); a bit test only when the function sets one of those bits (fs/namei.c
    legitimize_root() tests ND_ROOT_PRESET and sets ND_ROOT_GRABBED: a state, not a lazy
    initialization)."""
    out: dict = {}
    for k, c in tests:
        if not (c.get("truth") is False or c.get("in") == [0]):
            continue
        if "mask" not in c:
            out[k] = 0  # the whole field
        elif writes.sets_bits(k, c["mask"]) and out.get(k) != 0:
            out[k] = out.get(k, 0) | c["mask"]
    return out


def _first_use_statements(walk, fu: _WrittenFields, ctx) -> set:
    """The `if`s (by hash) with a branch that needs a field of a pointer parameter zero, where the
    function writes that field: `if (!vdev->stats) vdev->stats = dma_alloc...`
    (drivers/scsi/fnic/vnic_dev.c vnic_dev_stats_dump()), `if (mhba->fw_flag & MVUMI_FW_ALLOC)
    return 0; ... mhba->fw_flag |= MVUMI_FW_ALLOC;` (drivers/scsi/mvumi.c mvumi_init_data())."""
    params = fu.params
    if not any(k.split("->", 1)[0] in params.pointers for k, sets in params.writes.field_sets.items()
               if sets and "->" in k):
        return set()
    out: set = set()
    for c in walk.branches:
        kids = children(c) if c.kind == K.IF_STMT else ()
        if kids and (_zero_bits(cond_tests(kids[0], fu, ctx), params.writes)
                     or _zero_bits(false_tests(kids[0], fu, ctx), params.writes)):
            out.add(c.hash)
    return out


def first_use(call, anc: list, once: set, fu: _WrittenFields, ctx, jumps: tuple = (), path=None) -> list:
    """The fields CALL runs only while zero, that its function sets itself: lazy initialization,
    which allocates on the first call for an object and caches the result there.  Whether that
    first call can come in atomic context depends on the order of calls (probe before the
    interrupt handler), which the analysis does not see (sleep-in-atomic --first-use).  The
    tests of param_guards() on the `if`s of _first_use_statements(), with _WrittenFields' keys:
    all of them, so that a later test of the same field does not hide a zero test.  A bit test
    does not count when the bit is a give-up flag, set where CALL's result failed (PATH: the
    ErrorPath of its result, _WrittenFields.gives_up())."""
    zero = _zero_bits(_guard_tests(call, anc, fu, ctx, once, jumps), fu.params.writes)
    return sorted(k for k, bits in zero.items() if not bits or not fu.gives_up(call, k, bits, path, ctx))


def _uncaptured(cond, params: Params, ctx, negate: bool) -> list | None:
    """The operands of COND's `&&` (of its `||` when NEGATE: the branch where it is false) that
    give param_guards() no test, None when none gives one.  `if (x->q && x->a) return;` gives no
    test on the way past it, so the reader is shown `!(x->q && x->a)`; `if (p && busy)` gives p's,
    so `busy` is shown."""
    if negate:
        parts = _disjuncts(cond)
        caught = [len(_conjuncts(d)) == 1 and bool(_settled(_negated(cond_tests(d, params, ctx)))) for d in parts]
    else:
        parts = _conjuncts(cond)
        caught = [bool(_settled(cond_tests(d, params, ctx))) for d in parts]
    if not any(caught):
        return None
    return [d for d, c in zip(parts, caught) if not c]


def _switch_key(cond, params: Params) -> str | None:
    """`p` or `p->f` when a switch tests the caller's value (`switch (hdr->hbm_cmd)`), else None."""
    c = _bare(cond)
    return params.key(c) if c.kind in (K.DECL_REF_EXPR, K.MEMBER_REF_EXPR) else None


def param_guards(call, anc: list, params: set, ctx, tests, jumps: tuple = ()) -> dict:
    """Parameters whose value decides whether CALL runs: `if (!nofail) return ...;` before it, an
    enclosing `if (p)` or `if ((flags & F) && ...)`, or `switch (p) { case A: ... }` around it.  Values:
    {"truth": bool}, {"mask": int, "truth": bool} ((p & mask) != 0) or {"in": [case values]}.  Callers
    whose constant arguments contradict a guard cannot reach CALL.  A later test of a key wins."""
    return dict(_guard_tests(call, anc, params, ctx, tests, jumps))


def _guard_tests(call, anc: list, params: set, ctx, tests, jumps: tuple) -> list:
    """Every (key, test) param_guards() sees on the way to CALL, outermost first.  TESTS: the
    if/switch statements (by hash) worth reading.  JUMPS: _jumps(), for _exit_holds()."""
    out: list = []
    at = ctx.where(call.location)[3] if jumps else 0
    chain = list(anc) + [call]
    for i, a in enumerate(chain[:-1]):
        child = chain[i + 1]
        if a.kind in (K.IF_STMT, K.SWITCH_STMT) and a.hash not in tests:
            continue
        if a.kind == K.COMPOUND_STMT and not any(st.hash in tests for st in children(a)):
            continue
        if a.kind == K.IF_STMT:
            kids = children(a)
            if len(kids) > 1 and child == kids[1]:
                out += _settled(cond_tests(kids[0], params, ctx))
            elif len(kids) > 2 and child == kids[2]:
                out += _settled(false_tests(kids[0], params, ctx))
        elif a.kind == K.SWITCH_STMT:
            kids = children(a)
            key = _switch_key(kids[0], params) if kids else None
            if key and len(kids) > 1:
                values = _case_values(kids[-1], chain[i + 2] if i + 2 < len(chain) else child, child)
                if values is not None:
                    out.append((key, _clobbered({"in": values}, key, kids[0], params)))
        elif a.kind == K.COMPOUND_STMT:
            early: list = []
            for stmt in children(a):
                if stmt.kind in _CASES:
                    early = []  # a switch body: another case's early return is not on this path
                if stmt == child:
                    break
                if stmt.kind != K.IF_STMT:
                    continue
                kids = children(stmt)
                if len(kids) == 2 and _terminates(kids[1]) and _exit_holds(stmt, a, at, jumps, ctx):
                    early += _settled(false_tests(kids[0], params, ctx))
            out += early
    return out


def _jumps(walk, ctx) -> tuple:
    """(label offset, goto offset) for each goto of the function (computed gotos have no label)."""
    out = []
    for g in walk.gotos:
        refs = [ch for ch in children(g) if ch.kind == K.LABEL_REF]
        label = refs[0].referenced if refs else None
        if label is not None:
            out.append((ctx.where(label.location)[3], ctx.where(g.location)[3]))
    return tuple(out)


def _exit_holds(stmt, block, at: int, jumps: tuple, ctx) -> bool:
    """The early exit STMT (`if (c) return;`) in BLOCK decides what runs at offset AT: no goto
    from before its end, or from outside BLOCK, lands on a label between them.  `if (skip) goto
    out; ... out: call();` runs the call with skip true; `again: call(); if (!p) goto again;`
    after the exit does not.  A label anywhere in between counts, also one nested in a later
    statement: a goto into a block falls through to what follows it."""
    if not jumps:
        return True
    ext, bext = ctx.extent(stmt), ctx.extent(block)
    if ext is None or bext is None:
        return True
    end, block_end = ext[2], bext[2]
    return all(not end <= label <= at or end <= g <= block_end for label, g in jumps)


def _case_values(body, inner, child) -> list | None:
    """Case values whose code reaches the statement holding CALL in a switch BODY (None: default)."""

    if body.kind != K.COMPOUND_STMT:
        return None
    stmts = children(body)
    target = inner if inner in stmts else child if child in stmts else None
    if target is None:
        return None
    values: list = []
    for st in stmts:
        labels, node = [], st
        while node.kind in (K.CASE_STMT, K.DEFAULT_STMT):
            labels.append(node)
            kids = children(node)
            node = kids[-1] if kids else node
            if not kids or (node.kind == K.CASE_STMT and node is labels[-1]):
                break
        if labels:
            for lab in labels:
                if lab.kind == K.DEFAULT_STMT:
                    return None
                v = evaluate_int(next(iter(children(lab))))
                if v is None:
                    return None
                values.append(v)
        if st == target:
            return values or None
        if st.kind in (K.BREAK_STMT, K.RETURN_STMT, K.GOTO_STMT) or (labels and node.kind in (K.BREAK_STMT, K.RETURN_STMT)):
            values = []
    return None


# ------------------------------------------------------------ branch conditions

MAX_CONDS = 4  # enclosing conditions kept per call, the innermost ones
MAX_COND_TEXT = 96
_EXITS = (K.RETURN_STMT, K.GOTO_STMT, K.BREAK_STMT, K.CONTINUE_STMT)
_POSTFIX = re.compile(r"[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*")
_LIKELY = re.compile(r"(?:un)?likely\((.*)\)")


def branch_conditions(call, anc: list, skip: dict, ctx, memo: dict) -> list:
    """The conditions, as written, under which CALL runs in its function: an enclosing `if`
    branch (`!(c)` on the else side), an earlier `if (c) return/goto/break/continue;` in an
    enclosing block (`!(c)`), a `case` label (`x == A`), the arm of `c ? a : b`, the right
    operand of `&&`/`||`.  The statements in SKIP (_guard_statements()) test a parameter:
    param_guards() has those tests, with values callers can decide, and only the parts of their
    conditions it leaves out are printed here.  A reader checks these to see whether the witness path can
    run; the witness with the fewest of them is shown (callgraph.witness_cost()).  Conditions
    written inside a macro's body (wait_event(), min()) and constant ones (IS_ENABLED()) are
    left out."""
    out: list = []
    chain = list(anc) + [call]
    at = ctx.where(call.location)[3] if memo.get("jumps") else 0
    switch = None  # the innermost enclosing switch's value as written, None when skipped or unreadable
    for i in range(len(chain) - 1):
        a, child = chain[i], chain[i + 1]
        if a.kind == K.SWITCH_STMT:
            kids = children(a)
            switch = (_cond_text(kids[0], ctx, memo) if kids and a.hash not in skip and len(kids) > 1
                      and _in_file(kids[0], kids[1], ctx) else None)
            continue
        if a.hash in skip:
            if a.kind == K.IF_STMT:
                out += _partial(a, child, skip[a.hash], ctx, memo)
            continue
        if a.kind == K.CASE_STMT:
            out += _case(a, child, switch, ctx, memo)
        else:
            out += _conditions_at(a, child, skip, ctx, memo, at)
    return out[-MAX_CONDS:]


def _partial(stmt, child, parts: tuple, ctx, memo: dict, exit_: bool = False) -> list:
    """The conditions an `if` that tests a parameter puts on CHILD (its then or else branch, or,
    with EXIT_, the code after `if (c) return;`): the parts param_guards() leaves out."""
    kids = children(stmt)
    if len(kids) < 2 or (not exit_ and child not in kids[1:3]):
        return []
    negate = exit_ or child != kids[1]
    rest = parts[1 if negate else 0]
    if rest is None:
        return _written(kids[0], kids[1], ctx, memo, negate)
    return [t for d in rest for t in _written(d, kids[1], ctx, memo, negate)]


def _case(label, child, switch: str | None, ctx, memo: dict) -> list:
    kids = children(label)
    if switch is None or not kids or child == kids[0] or not _in_file(kids[0], child, ctx):
        return []
    value = _cond_text(kids[0], ctx, memo)
    return [f"{switch} == {value}"] if value else []


def _conditions_at(a, child, skip: dict, ctx, memo: dict, at: int) -> list:
    """The conditions node A puts on its CHILD, the next node on the way to the call."""
    k = a.kind
    kids = children(a) if k in (K.IF_STMT, K.CONDITIONAL_OPERATOR, K.BINARY_OPERATOR) else []
    if k == K.IF_STMT and len(kids) > 1 and child in kids[1:3]:
        return _written(kids[0], kids[1], ctx, memo, negate=child != kids[1])
    if k == K.CONDITIONAL_OPERATOR and len(kids) == 3 and child != kids[0]:
        return _written(kids[0], kids[1], ctx, memo, negate=child == kids[2])
    if k == K.BINARY_OPERATOR and len(kids) == 2 and child == kids[1]:
        op = cu.binary_operator(a)
        if op in (cu.BINARY_LAND, cu.BINARY_LOR):
            return _written(kids[0], kids[1], ctx, memo, negate=op == cu.BINARY_LOR)
    if k == K.COMPOUND_STMT:
        return _early_exits(a, child, skip, ctx, memo, at)
    return []


def _early_exits(block, child, skip: dict, ctx, memo: dict, at: int) -> list:
    """`!(c)` for each `if (c) return;` (goto, break, continue) before CHILD in BLOCK that still
    holds at offset AT (_exit_holds()).  One pass per block, shared by the calls under it (MEMO),
    so a long body is not rescanned for every call."""
    key = ("exits", block.hash)
    if key not in memo:
        before, out = {}, ()
        for stmt in children(block):
            if stmt.kind in _CASES:
                out = ()  # a switch body: another case's early exit is not on this path
            before[stmt.hash] = out
            if stmt.kind != K.IF_STMT:
                continue
            kids = children(stmt)
            if len(kids) == 2 and _terminates(kids[1]) and stmt.hash in skip:  # param_guards()' early returns
                conds = tuple(_partial(stmt, None, skip[stmt.hash], ctx, memo, exit_=True))
            elif len(kids) == 2 and (kids[1].kind in _EXITS or _terminates(kids[1])):
                conds = tuple(_written(kids[0], kids[1], ctx, memo, negate=True))
            else:
                continue
            if conds:
                out = out + ((stmt, conds),)
        memo[key] = before
    jumps = memo.get("jumps", ())
    return [c for stmt, conds in memo[key].get(child.hash, ()) if _exit_holds(stmt, block, at, jumps, ctx)
            for c in conds]


def _in_file(cond, after, ctx) -> bool:
    """COND is written in the file, before AFTER: not in a macro's body, where libclang maps
    every token to the macro's name (wait_event()'s loop, min()'s `?:`)."""
    a, b = ctx.extent(cond), ctx.extent(after)
    return a is not None and b is not None and a[0] == b[0] and a[1] < a[2] <= b[1]


def _written(cond, after, ctx, memo: dict, negate: bool) -> list:
    """[COND as written, negated when NEGATE], or [] for a constant condition or one in a macro body.
    Once per condition (MEMO): every call under an `if` asks for it."""
    key = ("written", cond.hash, after.hash, negate)
    if key not in memo:
        memo[key] = _write(cond, after, ctx, memo, negate)
    return list(memo[key])


def _write(cond, after, ctx, memo: dict, negate: bool) -> list:
    if not _in_file(cond, after, ctx) or cfg.constant_condition(cond, memo.get("value")) is not None:
        return []
    text = _cond_text(cond, ctx, memo)
    if not text:
        return []
    m = _LIKELY.fullmatch(text)
    likely = bool(m and _balanced(m.group(1)))
    if likely:  # the operand of likely() is a macro argument: its own extent is not reliable
        text = m.group(1)
    if negate:
        text = (None if likely else _negation(cond, ctx, memo)) or _not(text)
    return [text if len(text) <= MAX_COND_TEXT else text[:MAX_COND_TEXT - 3] + "..."]


# comparisons and the operator of their negation
_NEGATED_COMPARISON = {cu.BINARY_LT: ">=", cu.BINARY_GT: "<=", cu.BINARY_LE: ">", cu.BINARY_GE: "<",
                       cu.BINARY_EQ: "!=", cu.BINARY_NE: "=="}


def _negation(cond, ctx, memo: dict, depth: int = 0) -> str | None:
    """COND negated the way a reader writes it: `!x` -> `x`, `a != b` -> `a == b`, `n > 8` ->
    `n <= 8`, `a || b` -> `!a && !b` and `a && b` -> `!a || !b` (De Morgan); None when only
    `!(...)` will do."""
    c = _bare(cond)
    if cfg.is_not(c):
        return _part(children(c)[0], c, ctx, memo)
    if c.kind != K.BINARY_OPERATOR or len(children(c)) != 2 or depth > 2:
        return None
    op = cu.binary_operator(c)
    a, b = children(c)
    ta, tb = _part(a, c, ctx, memo), _part(b, c, ctx, memo)
    if ta is None or tb is None:
        return None
    if op == cu.BINARY_LOR:
        na = _negation(a, ctx, memo, depth + 1) or _not(ta)
        nb = _negation(b, ctx, memo, depth + 1) or _not(tb)
        return f"{and_operand(na)} && {and_operand(nb)}"
    if op == cu.BINARY_LAND:
        na = _negation(a, ctx, memo, depth + 1) or _not(ta)
        nb = _negation(b, ctx, memo, depth + 1) or _not(tb)
        return f"{or_operand(na)} || {or_operand(nb)}"
    if op in _NEGATED_COMPARISON:
        return f"{ta} {_NEGATED_COMPARISON[op]} {tb}"
    return None


def _part(node, whole, ctx, memo: dict) -> str | None:
    """NODE's text when it is written inside WHOLE's text and is not all of it (a token from a
    macro's body or argument maps to the macro's name, which would make both the same)."""
    a, w = ctx.extent(node), ctx.extent(whole)
    if a is None or w is None or a[0] != w[0] or not (w[1] <= a[1] < a[2] <= w[2]) or a[1:3] == w[1:3]:
        return None
    return _cond_text(node, ctx, memo)


def _not(text: str | None) -> str | None:
    """`!TEXT`, written the short way: `!x` -> `x`, `!(a && b)` -> `a && b`, `p->f` -> `!p->f`."""
    if not text:
        return None
    rest = text[1:].strip() if text.startswith("!") else None
    if rest and _postfix(rest):
        return rest
    if rest and rest.startswith("(") and _balanced(rest[1:-1]) and rest.endswith(")"):
        return rest[1:-1]
    return f"!{text}" if _postfix(text) else f"!({text})"


def _postfix(text: str) -> bool:
    """TEXT is a variable, field, call or subscript (`p->f`, `f(x)`, `a[i].b`): `!` binds looser
    than those, so `!TEXT` needs no parentheses."""
    depth, outer = 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0:
            outer.append(ch)
    return depth == 0 and _POSTFIX.fullmatch("".join(outer)) is not None


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def _cond_text(c, ctx, memo: dict) -> str | None:
    key = c.hash
    if key not in memo:
        text = ctx.text(c)
        memo[key] = " ".join(text.split()) if text else None
    return memo[key]
