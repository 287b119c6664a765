"""Values a condition can be decided by without running the code: a call to a function of the TU
that returns one constant in this configuration, and a local variable every write of which is
such a constant.

The kernel's configuration stubs are written this way: drivers/scsi/lpfc/lpfc_scsi.c
lpfc_is_command_vm_io() returns NULL when `!IS_ENABLED(CONFIG_BLK_CGROUP_FC_APPID)`, and its caller
lpfc_queuecommand() allocates only `if (uuid)` after `uuid = lpfc_is_command_vm_io(cmnd)`; header
stubs under `#ifndef CONFIG_X` (`static inline void *x_get(...) { return NULL; }`) are the same.
cfg.Builder folds such conditions the way it folds IS_ENABLED(), so the dead branch has no path.
Only definitions in the TU are looked at; a function defined elsewhere has no known value."""
from __future__ import annotations

import clang.cindex as ci

from . import cfg
from . import clangutil as cu
from .clangutil import children

K = ci.CursorKind
MAX_DEPTH = 2  # a constant-returning function may return another one's constant, this deep
MAX_NODES = 4000  # a longer body is not looked at for its returns


def _strip(c):
    while c.kind in (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR) and children(c):
        c = children(c)[-1]
    return c


def literal_value(expr) -> int | None:
    """The value of EXPR when it is made of literals and enumerators (`NULL`, `0`, `-ENOMEM`)."""
    c = _strip(expr)
    if cfg.constant_condition(c) is None:  # not made of literals only
        return None
    v = cu.evaluate_int(expr)  # with its casts: `(u8)256` is 0
    return v if v is not None else cu.evaluate_int(c)  # clang does not evaluate `(void *)0`


class Values:
    """The constant-value oracle of one function, for cfg.constant_condition(): VALUES(cond) is the
    truth of `f(...)`, `v`, `likely(v)`, `v == C` or `v != C` when the values are known, else None."""

    def __init__(self, writes, returns: dict):
        self.writes = writes  # fields.Writes of the function: every value a local is given
        self.returns = returns  # per TU: USR -> the constant a function returns, or None

    def __call__(self, cond) -> bool | None:
        c = _strip(cond)
        if c.kind == K.CALL_EXPR and c.spelling == "__builtin_expect":  # likely(), unlikely()
            args = list(c.get_arguments())
            return cfg.constant_condition(args[0], self) if args else None
        if c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) in (cu.BINARY_EQ, cu.BINARY_NE):
            a, b = (self.operand(k) for k in children(c))
            if a is None or b is None:
                return None
            return (a == b) == (cu.binary_operator(c) == cu.BINARY_EQ)
        if c.kind not in (K.CALL_EXPR, K.DECL_REF_EXPR):
            return None
        x = self.operand(c)
        return None if x is None else bool(x)

    def operand(self, node) -> int | None:
        c = _strip(node)
        if c.kind == K.CALL_EXPR:
            return self.call(c)
        if c.kind == K.DECL_REF_EXPR:
            x = self.local(c)
            if x is not None:
                return x
        return literal_value(c)

    def call(self, call, depth: int = 0) -> int | None:
        ref = call.referenced
        if ref is None or ref.kind != K.FUNCTION_DECL or depth >= MAX_DEPTH:
            return None
        usr = ref.get_usr()
        if usr not in self.returns:
            self.returns[usr] = None  # recursion: unknown while being computed
            self.returns[usr] = self._constant_return(ref, depth)
        return self.returns[usr]

    def local(self, ref_expr, depth: int = 0) -> int | None:
        """The one value every write gives a non-static local whose address is never taken (an
        asm statement naming it counts as a write of an unknown value: Writes.asm_operands())."""
        given = self._writes_of(ref_expr)
        if given is None:
            return None
        seen = set()
        for v in given:
            x = None if v is None else literal_value(v)
            if x is None and v is not None and _strip(v).kind == K.CALL_EXPR:
                x = self.call(_strip(v), depth)
            if x is None:
                return None
            seen.add(x)
        return seen.pop() if len(seen) == 1 else None

    def address(self, ref_expr) -> bool:
        """A non-static local pointer every write of which is `&obj`, so never NULL, like `&obj`
        itself: `spinlock_t *lock = &j->j_dirty_buffers_lock; ... add_to_chunk(..., lock, ...)`,
        the local form of fs/reiserfs/journal.c write_ordered_buffers(), whose callers pass
        `&journal->j_dirty_buffers_lock` and whose add_to_chunk() tests `if (lock)`."""
        given = self._writes_of(ref_expr)
        return given is not None and all(v is not None and _is_address(v) for v in given)

    def _writes_of(self, ref_expr) -> list | None:
        """Every value written to the non-static local REF_EXPR names (None: not such a local, no
        write known, or written some other way: `&v` passed on, memset(&v, 0, ...))."""
        var = ref_expr.referenced
        if var is None or var.kind != K.VAR_DECL or var.storage_class == ci.StorageClass.STATIC \
                or var.semantic_parent is None or var.semantic_parent.kind != K.FUNCTION_DECL:
            return None
        name = var.spelling
        given = self.writes.values.get(name)
        if not given or self.writes.address_uses.get(name) or name in self.writes.zeroed:
            return None
        return given

    def _constant_return(self, ref, depth: int) -> int | None:
        d = ref.get_definition()
        if d is None or _overridable(d):
            return None
        body = next((k for k in children(d) if k.kind == K.COMPOUND_STMT), None)
        if body is None:
            return None
        rets = _live_returns(body)
        if not rets:
            return None
        seen = set()
        for r in rets:
            kids = children(r)
            x = literal_value(kids[0]) if kids else None
            if x is None and kids and _strip(kids[0]).kind == K.CALL_EXPR:
                x = self.call(_strip(kids[0]), depth + 1)
            if x is None:
                return None
            seen.add(x)
        return seen.pop() if len(seen) == 1 else None


def _is_address(expr) -> bool:
    c = expr
    while c.kind in (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR) and children(c):
        c = children(c)[-1]
    return c.kind == K.UNARY_OPERATOR and cu.unary_operator(c) == cu.UNARY_ADDR_OF


def _overridable(d) -> bool:
    """A global definition with an attribute libclang does not name may be `__weak`: another TU
    may replace its body (kernel/trace/fgraph.c ftrace_enable_ftrace_graph_caller() returns 0,
    arch/x86/kernel/ftrace.c's does not)."""
    return d.linkage != ci.LinkageKind.INTERNAL and any(k.kind == K.UNEXPOSED_ATTR for k in children(d))


def _live_returns(body) -> list | None:
    """The return statements of BODY that can run: not in a branch a constant condition rules
    out, not after a statement that always returns (`if (!IS_ENABLED(CONFIG_X) || !p) return NULL;`
    ends the function when CONFIG_X is off).  None when the body is too long to look at."""
    out: list = []
    budget = [MAX_NODES]
    try:
        _returns_in(body, out, budget)
    except (_TooLong, RecursionError):
        return None
    return out


class _TooLong(Exception):
    pass


def _returns_in(c, out: list, budget: list) -> bool:
    """Add C's reachable return statements to OUT; True when C always returns."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLong
    if c.kind == K.RETURN_STMT:
        out.append(c)
        return True
    kids = children(c)
    if c.kind == K.IF_STMT and kids:
        known = cfg.constant_condition(kids[0])
        if known is not None:
            live = kids[1] if known else (kids[2] if len(kids) > 2 else None)
            return live is not None and _returns_in(live, out, budget)
        ends = [_returns_in(k, out, budget) for k in kids[1:]]
        return len(kids) > 2 and all(ends)
    if c.kind == K.COMPOUND_STMT:
        for i, k in enumerate(kids):
            if _returns_in(k, out, budget) and not any(x.kind == K.LABEL_STMT for x in kids[i + 1:]):
                return True  # what follows runs only through a label
        return False
    for k in kids:
        _returns_in(k, out, budget)
    return False
