"""Control-flow graph of one function body and the context dataflow over it.

The graph is built from the libclang AST (compound statements, if/else,
switch/case/default, loops, break/continue, return, goto/labels; `do {} while
(0)` macros are ordinary do-statements).  Nodes carry the calls in evaluation
order.  The dataflow computes, at every call, which atomic sections may be
held (union at merge points: a lock held on one incoming path counts) and
which memalloc scopes must and may be open.  Conditional acquisitions
(spin_trylock, atomic_dec_and_lock) act on the true edge of the `if` only;
guard()/scoped_guard() sections end with their enclosing block.  A test whose
value the function cannot change is assumed along each of its edges, so a later
test of the same condition takes the same branch (State.assumed, Token.under).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import clang.cindex as ci

from . import clangutil as cu
from .clangutil import children

K = ci.CursorKind
MAX_ITERATIONS = 20000
MAX_TOKENS = 16  # bound on held sections tracked per state (pathological macro soups)


@dataclass(frozen=True)
class Token:
    """One open section: class (spin, rcu, nofs, ...), the lock as written, where it was entered."""

    cls: str
    key: str
    line: int
    api: str
    owner: int = 0  # guard: the block whose end releases it
    scope: bool = False
    under: frozenset = frozenset()  # (condition, truth) the path had tested when it entered
    unread: bool = False  # a lock API whose lock argument gfplint could not read (not a helper)


@dataclass(frozen=True)
class State:
    held: frozenset = frozenset()  # may: Tokens open on some path
    must: frozenset = frozenset()  # scope classes open on every path
    locked: frozenset = frozenset()  # (class, lock) taken in this function on every path
    slept: bool = False  # must: a call that always may sleep (mutex_lock, might_sleep) ran on every path
    called: tuple = ()  # must: functions called on every path, in call order (the nearest last)
    assumed: frozenset = frozenset()  # must: (condition, truth) of the stable tests every path took
    drop_tests: frozenset = frozenset()  # may: the stable tests in force where the caller's lock was dropped

    def join(self, other: "State") -> "State":
        called = self.called
        if called != other.called:
            theirs = set(other.called)
            called = tuple(x for x in called if x in theirs)
        return State(self.held | other.held, self.must & other.must, self.locked & other.locked,
                     self.slept and other.slept, called, self.assumed & other.assumed,
                     self.drop_tests | other.drop_tests)


@dataclass
class Node:
    events: list = field(default_factory=list)  # ("call", cursor) | ("release", owner)
    succ: list = field(default_factory=list)  # (node index, edge effect or None)


class Builder:
    """Backward construction: stmt(c, next) returns the entry node of C, which continues to NEXT."""

    def __init__(self, classify_call, noreturn=None, stable=None, value=None):
        self.classify_call = classify_call  # cursor -> (Section, key, line, api) | None, for conditions
        self.noreturn = noreturn or (lambda call: False)  # call cursor -> the callee never returns
        self.stable = stable or (lambda cond: None)  # condition -> key when its value cannot change
        self.value = value  # values.Values: calls and locals with one value in this configuration
        self.nodes: list[Node] = [Node()]  # node 0: function exit
        self.labels: dict = {}
        self.breaks: list = []
        self.continues: list = []
        self.switches: list = []
        self.at: dict = {}  # statement hash -> its node: plain statements, returns, gotos and ifs (their test)

    def new(self, events=(), succ=()) -> int:
        self.nodes.append(Node(list(events), list(succ)))
        return len(self.nodes) - 1

    def label(self, name: str) -> int:
        if name not in self.labels:
            self.labels[name] = self.new()
        return self.labels[name]

    def stmt(self, c, nxt: int) -> int:
        k = c.kind
        handler = _HANDLERS.get(k)
        if handler is not None:
            node = handler(self, c, nxt)
            if k in _OWN_NODE:
                self.at[c.hash] = node
            return node
        calls = calls_in(c)
        if any(self.noreturn(call) for call in unconditional_calls(c)):
            node = self.new(calls, [])  # do_task_dead(), panic(): the path ends here
        else:
            node = self.new(calls, [(nxt, None)])
        self.at[c.hash] = node
        return node

    def compound(self, c, nxt: int) -> int:
        end = self.new([("release", c.hash)], [(nxt, None)])
        for child in reversed(children(c)):
            end = self.stmt(child, end)
        return end

    def if_(self, c, nxt: int) -> int:
        kids = children(c)
        cond = kids[0]
        then_entry = self.stmt(kids[1], nxt) if len(kids) > 1 else nxt
        else_entry = self.stmt(kids[2], nxt) if len(kids) > 2 else nxt
        effect = self.cond_effect(cond)
        t_eff = effect[1] if effect and effect[0] else None
        f_eff = effect[1] if effect and not effect[0] else None
        known = constant_condition(cond, self.value)
        if known is not None:  # if (IS_ENABLED(CONFIG_X)): only one branch exists in this configuration
            return self.new(calls_in(cond), [(then_entry, t_eff)] if known else [(else_entry, f_eff)])
        key = self.stable(cond) if effect is None else None
        if key is not None:
            t_eff, f_eff = ("assume", key, True), ("assume", key, False)
        return self.new(calls_in(cond), [(then_entry, t_eff), (else_entry, f_eff)])

    def cond_effect(self, cond):
        """(on_true, enter effect) for `if (spin_trylock(l))` / `if (!spin_trylock(l))`."""
        negated = False
        node = cond
        while True:
            if is_not(node):
                negated = not negated
            elif node.kind not in (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CALL_EXPR):
                return None
            if node.kind == K.CALL_EXPR:
                hit = self.classify_call(node)
                if hit is not None and hit[0].conditional:
                    return (not negated, ("enter",) + hit)
                if hit is not None and hit[0].conditional_zero:
                    return (negated, ("enter",) + hit)
                kids = [x for x in children(node) if x.kind != K.DECL_REF_EXPR]
                if hit is None and node.spelling in ("__builtin_expect",) and kids:
                    node = kids[0]
                    continue
                return None
            kids = children(node)
            if len(kids) != 1:
                return None
            node = kids[0]

    def loop(self, cond, body, nxt: int, do: bool) -> int:
        head = self.new(calls_in(cond) if cond is not None else [])
        self.breaks.append(nxt)
        self.continues.append(head)
        body_entry = self.stmt(body, head) if body is not None else head
        self.breaks.pop()
        self.continues.pop()
        self.nodes[head].succ = [(body_entry, None), (nxt, None)]
        return body_entry if do else head

    def while_(self, c, nxt: int) -> int:
        kids = children(c)
        return self.loop(kids[0] if kids else None, kids[-1] if len(kids) > 1 else None, nxt, do=False)

    def do_(self, c, nxt: int) -> int:
        kids = children(c)
        return self.loop(kids[-1] if len(kids) > 1 else None, kids[0] if kids else None, nxt, do=True)

    def for_(self, c, nxt: int) -> int:
        # libclang does not say which of init/cond/inc are present: all header calls go in one node,
        # and the block the for statement makes (scoped_guard's CLASS variable) ends after the loop.
        kids = children(c)
        body = kids[-1] if kids else None
        header_events = [e for k in kids[:-1] for e in calls_in(k)]
        end = self.new([("release", c.hash)], [(nxt, None)])
        head = self.new(header_events)
        self.breaks.append(end)
        self.continues.append(head)
        body_entry = self.stmt(body, head) if body is not None else head
        self.breaks.pop()
        self.continues.pop()
        self.nodes[head].succ = [(body_entry, None), (end, None)]
        return head

    def switch(self, c, nxt: int) -> int:
        kids = children(c)
        head = self.new(calls_in(kids[0]) if kids else [])
        self.breaks.append(nxt)
        self.switches.append([])
        body_entry = self.stmt(kids[-1], nxt) if len(kids) > 1 else nxt
        cases = self.switches.pop()
        self.breaks.pop()
        has_default = any(d for _, d in cases)
        self.nodes[head].succ = [(e, None) for e, _ in cases] + ([] if has_default else [(nxt, None)])
        if not cases:
            self.nodes[head].succ.append((body_entry, None))
        return head

    def case(self, c, nxt: int) -> int:
        kids = children(c)
        inner = kids[-1] if kids else None
        entry = self.stmt(inner, nxt) if inner is not None and (c.kind == K.DEFAULT_STMT or len(kids) > 1) else nxt
        if self.switches:
            self.switches[-1].append((entry, c.kind == K.DEFAULT_STMT))
        return entry

    def ret(self, c, nxt: int) -> int:
        return self.new(calls_in(c), [(0, None)])

    def brk(self, c, nxt: int) -> int:
        return self.breaks[-1] if self.breaks else nxt

    def cont(self, c, nxt: int) -> int:
        return self.continues[-1] if self.continues else nxt

    def goto(self, c, nxt: int) -> int:
        refs = [x for x in children(c) if x.kind == K.LABEL_REF]
        if not refs:
            return self.new([], [(0, None)])  # computed goto: leaves the analysis
        return self.new([], [(self.label(refs[0].spelling), None)])

    def labelled(self, c, nxt: int) -> int:
        kids = children(c)
        entry = self.stmt(kids[0], nxt) if kids else nxt
        node = self.label(c.spelling)
        self.nodes[node].succ = [(entry, None)]
        return node


_HANDLERS = {
    K.COMPOUND_STMT: Builder.compound,
    K.IF_STMT: Builder.if_,
    K.WHILE_STMT: Builder.while_,
    K.DO_STMT: Builder.do_,
    K.FOR_STMT: Builder.for_,
    K.SWITCH_STMT: Builder.switch,
    K.CASE_STMT: Builder.case,
    K.DEFAULT_STMT: Builder.case,
    K.RETURN_STMT: Builder.ret,
    K.BREAK_STMT: Builder.brk,
    K.CONTINUE_STMT: Builder.cont,
    K.GOTO_STMT: Builder.goto,
    K.INDIRECT_GOTO_STMT: Builder.goto,
    K.LABEL_STMT: Builder.labelled,
    K.NULL_STMT: lambda b, c, nxt: nxt,
}


STATEMENTS = frozenset(_HANDLERS)  # the statement kinds the graph is built from
_OWN_NODE = (K.IF_STMT, K.RETURN_STMT, K.GOTO_STMT, K.INDIRECT_GOTO_STMT)  # handlers that make the statement's node


def reach(nodes: list[Node], starts, avoid=frozenset(), cut=None) -> set:
    """Nodes a path from STARTS (included) reaches without entering AVOID, nor taking the edge
    CUT ((node, index in its succ))."""
    seen = set()
    stack = [n for n in starts if n not in avoid]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        for i, (m, _) in enumerate(nodes[n].succ):
            if m not in seen and m not in avoid and (n, i) != cut:
                stack.append(m)
    return seen


def is_not(c) -> bool:
    """C is `!x`: by the operator kind libclang records, which also holds inside macro expansions
    (the first token of `unlikely(!x)`'s operand is not in the file) and costs no tokenization."""
    from .clangutil import UNARY_LNOT, unary_operator

    return c.kind == K.UNARY_OPERATOR and unary_operator(c) == UNARY_LNOT


_CALL_EXPR = K.CALL_EXPR.value


def calls_in(c) -> list:
    """Calls in evaluation order (arguments before the call); not those in sizeof, typeof and the
    like (clangutil.evaluated_children())."""
    out = []

    def visit(x):
        for ch in cu.evaluated_children(x):
            visit(ch)
        if x._kind_id == _CALL_EXPR:
            out.append(("call", x))

    visit(c)
    return out


def unconditional_calls(c) -> list:
    """The calls that run whenever C runs.  Not the arms of `?:`, the right operand of `&&`/`||`,
    or what an if, switch or loop inside a `({ })` statement expression guards:
    include/asm-generic/rwonce.h READ_ONCE() is `({ compiletime_assert_rwonce_type(x); ... })`, and
    include/linux/compiler_types.h compiletime_assert() calls a __noreturn stub under an `if` that
    is never true.  Only such a call may end the path (panic(), do_task_dead())."""
    out = []

    def visit(x):
        kids = cu.evaluated_children(x)
        k = x.kind
        if k in (K.IF_STMT, K.SWITCH_STMT, K.CONDITIONAL_OPERATOR):
            kids = kids[:1]  # the condition runs, an arm may not
        elif k in (K.WHILE_STMT, K.FOR_STMT):
            kids = []
        elif k == K.BINARY_OPERATOR and cu.binary_operator(x) in (cu.BINARY_LAND, cu.BINARY_LOR):
            kids = kids[:1]
        elif k == K.UNEXPOSED_EXPR and len(kids) >= 3:
            kids = kids[:1]  # GNU `a ?: b` (context.is_gnu_conditional())
        for ch in kids:
            visit(ch)
        if x._kind_id == _CALL_EXPR:
            out.append(x)

    visit(c)
    return out


# --------------------------------------------------------------------- solving


_NOT_CONSTANT = (K.CALL_EXPR, K.DECL_REF_EXPR, K.MEMBER_REF_EXPR, K.ARRAY_SUBSCRIPT_EXPR, K.COMPOUND_STMT)


def constant_condition(cond, value=None) -> bool | None:
    """The truth of a condition made only of literals and operators (IS_ENABLED(), sizeof
    comparisons, `0`), else None.  Enumerators count as constants; any variable, field or call
    (even one clang could fold) does not: a run-time value must keep both branches.  `&&`, `||`
    and `!` fold when the constant operands decide them: `!IS_ENABLED(CONFIG_X) || !p` is true
    when CONFIG_X is off, whatever p is (drivers/scsi/lpfc/lpfc_scsi.c lpfc_is_command_vm_io()).
    VALUE (values.Values) also knows calls and locals that have one value in this configuration."""
    c = cond
    while c.kind in (K.PAREN_EXPR, K.UNEXPOSED_EXPR) and len(children(c)) == 1:
        c = children(c)[0]
    if value is not None:
        known = value(c)
        if known is not None:
            return known
    if c.kind == K.BINARY_OPERATOR and len(children(c)) == 2:
        op = cu.binary_operator(c)
        if op in (cu.BINARY_LAND, cu.BINARY_LOR):
            a, b = (constant_condition(k, value) for k in children(c))
            decisive = op == cu.BINARY_LOR  # the operand value that decides the whole: true for ||, false for &&
            if a is decisive or b is decisive:
                return decisive
            return (not decisive) if a is not None and b is not None else None
    if is_not(c):
        v = constant_condition(children(c)[0], value)
        return None if v is None else not v
    return _literal_condition(cond)


def _literal_condition(cond) -> bool | None:
    stack, n = [cond], 0
    while stack:
        c = stack.pop()
        n += 1
        if n > 64:
            return None
        if c.kind in _NOT_CONSTANT:
            ref = c.referenced if c.kind == K.DECL_REF_EXPR else None
            if ref is None or ref.kind != K.ENUM_CONSTANT_DECL:
                return None
        stack.extend(c.get_children())
    from .clangutil import evaluate_int

    v = evaluate_int(cond)
    return None if v is None else bool(v)


def _apply_effect(state: State, effect) -> State | None:
    """The state along an edge; None when the edge contradicts what the path already tested."""
    if effect is None:
        return state
    if effect[0] == "assume":
        return _assume(state, effect[1], effect[2])
    _, section, key, line, api = effect
    return _enter(state, section, key, line, api, 0)


def _assume(state: State, cond: str, truth: bool) -> State | None:
    """The edge of `if (COND)` taken when it is TRUTH.  A lock entered under the opposite test of the
    same unchanging condition is not held here: `if (phba->sli_rev == LPFC_SLI_REV4)
    spin_lock(...); ... if (phba->sli_rev == LPFC_SLI_REV4) spin_unlock(...);` (drivers/scsi/lpfc/
    lpfc_nportdisc.c lpfc_els_abort()) leaves nothing held on either path."""
    if (cond, not truth) in state.assumed:
        return None  # every path here took the other branch of the same test
    held = frozenset(t for t in state.held if (cond, not truth) not in t.under)
    return State(held, state.must, state.locked, state.slept, state.called, state.assumed | {(cond, truth)}, state.drop_tests)


def _enter(state: State, section, key: str, line: int, api: str, owner: int) -> State:
    if len(state.held) >= MAX_TOKENS:
        return state  # INHERITED and the first sections are kept; the rest is not tracked
    unread = not key and section.key is not None and api == section.name
    tok = Token(section.cls, key, line, api, owner, section.scope, state.assumed, unread)
    must = state.must | {section.cls} if section.scope else state.must
    locked = state.locked if section.scope else state.locked | {(section.cls, key)}
    return State(state.held | {tok}, must, locked, state.slept, state.called, state.assumed, state.drop_tests)


INHERITED = Token("inherited", "", 0, "caller")  # whatever atomic section the caller may hold


def _exit(state: State, section, key: str, dropping: frozenset = frozenset()) -> State:
    same = [t for t in state.held if t.cls == section.cls]
    # a lock taken by a lock API whose argument gfplint could not read (inside a macro that names
    # it by a parameter: include/linux/wait.h wait_event_lock_irq() retakes the caller's lock) may
    # be the one released here; a lock a helper took for its caller (task_lock()) is not
    keyed = [t for t in same if t.key == key] if key else []
    drop = set(keyed + [t for t in same if t.unread]) if keyed else set(same)
    if not section.scope and (not same or (key and key in dropping)):
        # unlocking a lock it never took (or a lock it unlocks somewhere without taking it):
        # the caller's lock is dropped here
        drop.add(INHERITED)
    held = state.held - drop
    must = state.must
    if section.scope and not any(t.cls == section.cls for t in held):
        must = must - {section.cls}
    tests = state.drop_tests | state.assumed if INHERITED in state.held and INHERITED in drop else state.drop_tests
    return State(held, must, state.locked - {(section.cls, key)}, state.slept, state.called, state.assumed, tests)


def _release(state: State, owner: int, locks: frozenset = frozenset()) -> State:
    """The end of block OWNER: its guards' locks are released, also one retaken by an explicit
    lock call after an explicit unlock inside the block (LOCKS: their (class, key))."""
    held = frozenset(t for t in state.held if t.owner != owner and (t.cls, t.key) not in locks)
    must = frozenset(c for c in state.must if any(t.cls == c for t in held))
    return State(held, must, state.locked, state.slept, state.called, state.assumed, state.drop_tests) if held != state.held else state


def transfer(state: State, event, classify_event, dropping: frozenset = frozenset()) -> State:
    kind, payload = event
    if kind == "release":
        guarded = getattr(getattr(classify_event, "__self__", None), "release", None)
        return _release(state, payload, guarded(payload) if guarded else frozenset())
    hit = classify_event(payload)
    if hit is None:
        return state
    action, section, key, line, api, owner = hit
    if action == "sleep":  # counts only in the caller's context: not after its lock was dropped
        if state.slept or INHERITED not in state.held:
            return state
        return State(state.held, state.must, state.locked, True, state.called, state.assumed, state.drop_tests)
    if action == "call":  # ordinary functions (KEY): remembered, for the link to learn which always sleep
        if INHERITED not in state.held:
            return state  # a sleep there is not in the caller's context
        new = tuple(n for n in key if n not in state.called)
        return State(state.held, state.must, state.locked, state.slept, state.called + new, state.assumed, state.drop_tests) if new else state
    if action == "enter":
        return _enter(state, section, key, line, api, owner)
    return _exit(state, section, key, dropping)


def solve(nodes: list[Node], entry: int, classify_event) -> tuple:
    """In-state of every reachable node (forward may/must dataflow to a fixed point), and the
    lock keys the function drops for its caller.

    The entry state holds INHERITED: calls that may still run in the caller's atomic section keep
    it.  A first pass finds the keys unlocked somewhere without being locked first (the caller's
    lock, dropped around a sleeping section and often retaken in a loop); the second pass drops
    INHERITED at every unlock of those keys."""
    ins = _solve(nodes, entry, classify_event, frozenset())
    dropping = dropped_keys(nodes, ins, classify_event)
    if dropping:
        ins = _solve(nodes, entry, classify_event, dropping)
    return ins, dropping


def dropped_keys(nodes, ins, classify_event) -> frozenset:
    out = set()
    for n, s in ins.items():
        for ev in nodes[n].events:
            if ev[0] == "call":
                hit = classify_event(ev[1])
                if hit is not None and hit[0] == "exit" and not hit[1].scope and hit[2]:
                    if (hit[1].cls, hit[2]) not in s.locked:  # not taken here on every path
                        out.add(hit[2])
            s = transfer(s, ev, classify_event)
    return frozenset(out)


def _solve(nodes: list[Node], entry: int, classify_event, dropping: frozenset) -> dict:
    ins = {entry: State(frozenset({INHERITED}))}
    work = [entry]
    steps = 0
    while work and steps < MAX_ITERATIONS:
        steps += 1
        n = work.pop()
        s = ins[n]
        for ev in nodes[n].events:
            s = transfer(s, ev, classify_event, dropping)
        for succ, effect in nodes[n].succ:
            out = _apply_effect(s, effect)
            if out is None:
                continue
            old = ins.get(succ)
            new = out if old is None else old.join(out)
            if dropping and old is not None and succ != entry and INHERITED in new.held \
                    and (INHERITED not in old.held or INHERITED not in out.held) and not _split_on_test(old, out):
                # A function that drops its caller's lock on one branch only does so because its
                # caller holds it on that branch only (`if (!debug_pagealloc_enabled())
                # spin_unlock(&cpa_lock)`, mirroring the caller's conditional lock): after the
                # merge, the caller's lock is held only if every path kept it.
                new = State(new.held - {INHERITED}, new.must, new.locked, new.slept, new.called, new.assumed, new.drop_tests)
            if new != old:
                ins[succ] = new
                work.append(succ)
    return ins


def _split_on_test(a: State, b: State) -> bool:
    """The state without the caller's lock dropped it under an unchanging test the other state did
    not take: the caller's arguments decide which runs (drivers/scsi/ips.c ips_next(): `if (intr ==
    IPS_INTR_ON) spin_unlock(host->host_lock)`; ips_queue() holds that lock and passes
    IPS_INTR_IORL), so the caller's lock stays possible."""
    without, other = (a, b) if INHERITED not in a.held else (b, a)
    return bool(without.drop_tests - other.assumed)


def states_at_calls(nodes: list[Node], ins: dict, classify_event, dropping: frozenset = frozenset()) -> dict:
    """Call cursor hash -> State just before the call (joined over the nodes holding it)."""
    out: dict = {}
    for n, s in ins.items():
        for ev in nodes[n].events:
            if ev[0] == "call":
                h = ev[1].hash
                out[h] = s if h not in out else out[h].join(s)
            s = transfer(s, ev, classify_event, dropping)
    return out
