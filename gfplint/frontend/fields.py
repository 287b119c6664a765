"""Field values that travel down call chains, smatch-style but flow-insensitive.

Facts per function:

- which `p->field` (and which parameters `p`) the function writes, and which
  pointers it stores elsewhere: a test of `p->field` is a guard on the
  caller's value only when the function never changes it;
- which calls each pointer parameter is given, before which test: the linker
  (callgraph.param_writes) adds what those callees write through it;
- the known fields of a (non-static) local struct whose address is passed once
  (`struct fib6_config cfg = { .fc_table = ..., ... }; ip6_route_info_create(&cfg, ...)`):
  a designated initializer names some fields and zeroes the rest (C11 6.7.9),
  `memset(&v, 0, sizeof(v))` zeroes all; a field assigned anywhere in the
  function, or whose address is taken, is unknown.  net/ipv6/route.c
  addrconf_f6i_alloc() leaves `fc_mx` NULL, so ip_fib_metrics_init() returns
  before its kzalloc().
"""
from __future__ import annotations

import clang.cindex as ci

from . import clangutil as cu
from .clangutil import children

K = ci.CursorKind
T = ci.TypeKind
_ASSIGN = 22  # CXBinaryOperator_Assign
_AND_ASSIGN = 30  # CXBinaryOperator_AndAssign
OR_ASSIGN = 32  # CXBinaryOperator_OrAssign
_ALL_BITS = (1 << 64) - 1
_INC_DEC = (1, 2, 3, 4)  # CXUnaryOperator_PostInc, PostDec, PreInc, PreDec
SCALAR_TYPES = (T.POINTER, T.BOOL, T.INT, T.UINT, T.LONG, T.ULONG, T.LONGLONG, T.ULONGLONG, T.SHORT, T.USHORT,
                T.CHAR_S, T.CHAR_U, T.SCHAR, T.UCHAR, T.ENUM)
MAX_FIELDS = 64  # fields of one local struct that are tracked


def _strip(c):
    while c.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR) and len(children(c)) == 1:
        c = children(c)[0]
    return c


def param_ref(node, params: set, aliases: dict | None = None) -> str | None:
    """`p` or `p->field` for a parameter P of the function (or `a->field` for a local alias A of
    P), else None."""
    node = _strip(node)
    if node.kind == K.DECL_REF_EXPR:
        return node.spelling if node.spelling in params else (aliases or {}).get(node.spelling)
    if node.kind == K.MEMBER_REF_EXPR:
        kids = children(node)
        base = _strip(kids[0]) if kids else None
        if base is None or base.kind != K.DECL_REF_EXPR or base.type.get_canonical().kind != T.POINTER:
            return None
        name = base.spelling if base.spelling in params else (aliases or {}).get(base.spelling)
        if name is not None:
            return f"{name}->{node.spelling}"
    return None


_DEREF = 6  # CXUnaryOperator_Deref


def _target(node):
    """(variable, field or None, through a pointer) written by an assignment to NODE, else None;
    `*p` writes every field ("*")."""
    node = _strip(node)
    if node.kind == K.DECL_REF_EXPR:
        return node.spelling, None, False
    if node.kind == K.UNARY_OPERATOR:
        kids = children(node)
        base = _strip(kids[0]) if kids else None
        if base is not None and base.kind == K.DECL_REF_EXPR and cu.unary_operator(node) == _DEREF:
            return base.spelling, "*", True
    if node.kind == K.MEMBER_REF_EXPR:
        kids = children(node)
        base = _strip(kids[0]) if kids else None
        if base is not None and base.kind == K.DECL_REF_EXPR:
            return base.spelling, node.spelling, base.type.get_canonical().kind == T.POINTER
    return None


class Writes:
    """What a function body writes: `p->f` / `v.f` fields, whole variables, addresses taken."""

    def __init__(self):
        self.fields: set = set()  # "p->f" for pointers, "v.f" for struct variables
        self.whole: set = set()  # variables assigned as a whole
        self.address_uses: dict = {}  # variable -> how many times &v appears (outside memset)
        self.zeroed: set = set()  # variables passed as memset(&v, 0, ...)
        self.escaped: set = set()  # pointers stored elsewhere (`q = p`, `x->y = p`): written through aliases
        self.copies: dict = {}  # variable -> what each whole assignment or initializer gave it (a name, or None)
        self.clearing: dict = {}  # variable -> the bits its `v &= mask` writes may clear; None: another write
        self.values: dict = {}  # variable -> the value of each whole write (None: `v += n`, `v++`)
        self.field_sets: dict = {}  # "p->f" -> True when every write sets it (`= f(x)`, `|= F`)
        self.field_bits: dict = {}  # "p->f" -> the bits its `|= F` writes set
        self.field_first: dict = {}  # "p->f" -> file offset of its first write

    def visit(self, c, kind) -> None:
        """C is a BINARY_OPERATOR, COMPOUND_ASSIGNMENT_OPERATOR, UNARY_OPERATOR or a memset() CALL_EXPR
        (operands are looked at only for assignments, ++/-- and &)."""
        if kind in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
            if kind == K.BINARY_OPERATOR and cu.binary_operator(c) != _ASSIGN:
                return  # most binary operators: one libclang call, no operand walk
            kids = children(c)
            t = _target(kids[0]) if kids else None
            if t is not None:
                self._write(t)
                if t[1] is not None:
                    self._set(t, _sets(c, kids, kind), c)
                    if kind == K.COMPOUND_ASSIGNMENT_OPERATOR and len(kids) == 2:
                        self._bits(t, cu.evaluate_int(kids[1]))
                if t[1] is None:
                    self._clear(t[0], c, kids, kind)
                    assigns = kind == K.BINARY_OPERATOR and len(kids) == 2
                    self.values.setdefault(t[0], []).append(kids[1] if assigns else None)
                if kind == K.BINARY_OPERATOR and len(kids) == 2 and t[1] is None:
                    self.copy(t[0], kids[1])
                elif kind == K.BINARY_OPERATOR and len(kids) == 2:
                    self.escape(kids[1])
                elif t[1] is None:
                    self.copies.setdefault(t[0], []).append(None)  # p += n: no longer a copy
        elif kind == K.UNARY_OPERATOR:
            op = cu.unary_operator(c)
            if op not in _INC_DEC and op != cu.UNARY_ADDR_OF:
                return
            kids = children(c)
            t = _target(kids[0]) if kids else None
            if t is not None:
                if op in _INC_DEC:
                    self._write(t)
                    if t[1] is not None:
                        self._set(t, False, c)  # a counter: `if (!p->users) ...; p->users++` runs at every 0 -> 1
                    if t[1] is None:
                        self.copies.setdefault(t[0], []).append(None)
                        self.clearing[t[0]] = None
                        self.values.setdefault(t[0], []).append(None)
                else:
                    self._address(t, c)
        elif kind == K.CALL_EXPR:
            args = list(c.get_arguments())
            if len(args) == 3 and cu.evaluate_int(args[1]) == 0:
                a = _strip(args[0])
                if a.kind == K.UNARY_OPERATOR and cu.unary_operator(a) == cu.UNARY_ADDR_OF:
                    t = _target(children(a)[0])
                    if t and t[1] is None:
                        self.zeroed.add(t[0])
                        self.address_uses[t[0]] = self.address_uses.get(t[0], 0) - 1  # counted again below

    def asm_operands(self, asm) -> None:
        """An asm statement may write the variables it names (libclang does not tell outputs from
        inputs: arch/x86/include/asm/msr.h native_read_msr_safe()'s `[err] "=r" (err)`), so they
        have no one value and no clear-only writes (values.Values, cleared_bits())."""
        for d in asm.walk_preorder():
            if d.kind == K.DECL_REF_EXPR:
                self.values.setdefault(d.spelling, []).append(None)
                self.clearing[d.spelling] = None

    def field_names(self) -> set:
        """The names of the fields written, through any pointer or variable ("*": a whole `*p`)."""
        return {k.rsplit("->", 1)[-1].rsplit(".", 1)[-1] for k in self.fields}

    def escape(self, value) -> None:
        """VALUE is stored somewhere: a variable it names may be written through the copy."""
        v = _strip(value)
        if v.kind == K.DECL_REF_EXPR:
            self.escaped.add(v.spelling)

    def copy(self, var: str, value) -> None:
        """VAR = VALUE (or its initializer): `msg = hdr` may make MSG an alias of a parameter;
        settle_copies() decides, once the whole body is seen."""
        v = _strip(value)
        while v.kind == K.CSTYLE_CAST_EXPR and len(children(v)) >= 1:
            v = _strip(children(v)[-1])
        self.copies.setdefault(var, []).append(v.spelling if v.kind == K.DECL_REF_EXPR else None)

    def settle_copies(self, params, pointers) -> dict:
        """Local alias -> pointer parameter, for a local whose only assignment is a copy of the
        parameter (drivers/hid/intel-ish-hid/ishtp/hbm.c ishtp_hbm_dispatch(): `ishtp_msg = hdr;`
        then `switch (ishtp_msg->hbm_cmd)`): reads of `alias->f` are reads of `p->f`, and writes
        through the alias are writes of the parameter.  Any other copy of a variable lets it escape."""
        # a copy of a copy (`res = (struct x *)msg`, in several switch cases) copies it too
        roots = {p: p for p in pointers}
        grew = True
        while grew:
            grew = False
            for var, sources in self.copies.items():
                if var not in roots and len(set(sources)) == 1 and sources[0] in roots \
                        and var not in params and not self.address_uses.get(var):
                    roots[var] = roots[sources[0]]
                    grew = True
        aliases = {v: p for v, p in roots.items() if v != p}
        for var, sources in self.copies.items():
            if var not in aliases:
                self.escaped.update(s for s in sources if s)
        for var, p in aliases.items():
            if var in self.escaped:
                self.escaped.add(p)
            prefix = var + "->"
            for k in [k for k in self.fields if k.startswith(prefix)]:
                self.fields.add(p + "->" + k[len(prefix):])
        return aliases

    def _write(self, t) -> None:
        var, fld, _ = t
        if fld is None:
            self.whole.add(var)
        else:
            self.fields.add(_field_key(t))

    def _address(self, t, node=None) -> None:
        var, fld, _ = t
        if fld is None:
            self.address_uses[var] = self.address_uses.get(var, 0) + 1
        else:
            self.fields.add(_field_key(t))  # may be written through it
            self._set(t, False, node)

    def _set(self, t, sets: bool, node=None) -> None:
        """Note a write of field T at NODE: whether it sets the field, and the first offset of a
        write (context.first_use() needs every write to set it, and its test to come first)."""
        key = _field_key(t)
        self.field_sets[key] = sets and self.field_sets.get(key, True)
        if node is not None:
            off = node.location.offset
            self.field_first[key] = min(off, self.field_first.get(key, off))

    def _bits(self, t, bits) -> None:
        key = _field_key(t)
        self.field_bits[key] = self.field_bits.get(key, 0) | (bits or 0)

    def sets_bits(self, key: str, mask: int) -> bool:
        """A `p->f |= F` write sets some of the bits of MASK (a flag the test reads, not another one)."""
        return bool(self.field_bits.get(key, 0) & mask)

    def set_after(self, key: str, offset: int) -> bool:
        """Every write of field KEY sets it, and none comes before OFFSET in the source: the test
        there reads the caller's value (`p->status = PENDING; issue(p); if (p->status == 0)`
        reads what the function wrote, `p->buf = kmalloc(...); if (!p->buf)` checks the result)."""
        return self.only_sets(key) and self.field_first.get(key, offset) >= offset

    def only_sets(self, key: str) -> bool:
        """Every write of field KEY sets it: an assignment of a computed value (an allocation, a
        query's result), or `|=` of constant bits; no constant (`= 0`, `= NULL`, a state or error
        code: advansys's `err_code = ASC_IERR_...`), clearing (`&=`), counting (`++`, `+=`) or
        `&p->f` handed on."""
        return self.field_sets.get(key, False)

    def _clear(self, var: str, c, kids, kind) -> None:
        """Record a whole write of VAR: `var &= C` clears at most the bits of ~C."""
        before = self.clearing.get(var, 0)
        mask = None
        if kind == K.COMPOUND_ASSIGNMENT_OPERATOR and cu.binary_operator(c) == _AND_ASSIGN and len(kids) == 2:
            mask = cu.evaluate_int(kids[1])
        self.clearing[var] = None if before is None or mask is None else before | (~mask & _ALL_BITS)

    def cleared_bits(self, var: str) -> int | None:
        """The bits VAR may lose when its only writes are `var &= mask` (a bit clear on entry stays
        clear, a bit outside these keeps its value: net/ipv4/ip_output.c __ip_append_data(),
        `flags &= ~MSG_SPLICE_PAGES`); None when it has another write or its address is taken."""
        if var not in self.whole or self.address_uses.get(var):
            return None
        return self.clearing.get(var)

    def changed(self, key: str) -> bool:
        """KEY (`p` or `p->f`) may not hold the caller's value everywhere in the function."""
        var = key.split("->", 1)[0]
        return var in self.whole or key in self.fields or (
            "->" in key and (var in self.escaped or f"{var}->*" in self.fields))


def _field_key(t) -> str:
    """The key of written target T (variable, field, through a pointer): "p->f" or "v.f"."""
    var, fld, arrow = t
    return f"{var}->{fld}" if arrow else f"{var}.{fld}"


def _sets(c, kids, kind) -> bool:
    """Assignment C (children KIDS) sets its field to what it caches: `p->f = x` with X computed
    (no constant), `p->f |= F` with F constant."""
    if kind == K.BINARY_OPERATOR:
        return len(kids) == 2 and constant(kids[1]) is None
    return cu.binary_operator(c) == OR_ASSIGN and len(kids) == 2 and cu.evaluate_int(kids[1]) is not None


def struct_fields(t) -> list | None:
    """The scalar and pointer fields of struct type T, by name (None for another type)."""
    canon = t.get_canonical()
    if canon.kind != T.RECORD:
        return None
    decl = canon.get_declaration()
    if decl is None or decl.kind != K.STRUCT_DECL:
        return None
    return [f.spelling for f in children(decl)
            if f.kind == K.FIELD_DECL and f.spelling and f.type.get_canonical().kind in SCALAR_TYPES][:MAX_FIELDS]


def constant(e) -> int | None:
    """An integer or null-pointer constant (NULL is `((void *)0)`)."""
    v = cu.evaluate_int(e)
    if v is not None:
        return v
    node = e
    while node.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR, K.CSTYLE_CAST_EXPR):
        kids = [k for k in children(node) if k.kind != K.TYPE_REF]
        if len(kids) != 1:
            return None
        node = kids[0]
    return cu.evaluate_int(node) if node.kind == K.INTEGER_LITERAL else None


def initializer_values(var) -> dict | None:
    """Field -> value of a local struct VAR_DECL initialized with designators only (named fields with
    constant values, the other scalar fields 0); None when it has no such initializer."""
    fields = struct_fields(var.type)
    if fields is None:
        return None
    init = next((k for k in children(var) if k.kind == K.INIT_LIST_EXPR), None)
    if init is None:
        return None
    values = dict.fromkeys(fields, 0)
    for item in children(init):
        kids = children(item)
        refs = [k for k in kids if k.kind == K.MEMBER_REF]
        if not refs:
            return None  # a positional initializer: not tracked
        if len(refs) == 1 and refs[0].spelling in values:
            v = constant(kids[-1])
            if v is None:
                del values[refs[0].spelling]
            else:
                values[refs[0].spelling] = v
        elif refs[0].spelling in values:
            del values[refs[0].spelling]
    return values


def local_struct_values(locals_: dict, writes: Writes) -> dict:
    """Variable -> {field: value} for the struct locals LOCALS_ (name -> VAR_DECL) whose address is
    passed at most once, minus the fields the function writes."""
    out = {}
    for name, var in locals_.items():
        if name in writes.whole or writes.address_uses.get(name, 0) > 1:
            continue
        values = initializer_values(var)
        if values is None and name in writes.zeroed:
            values = dict.fromkeys(struct_fields(var.type) or [], 0)
        if not values:
            continue
        known = {f: v for f, v in values.items() if f"{name}.{f}" not in writes.fields}
        if known:
            out[name] = known
    return out


def address_of_local(a, values: dict) -> str | None:
    """The struct local whose address argument A passes (`&cfg`), when its fields are known."""
    node = _strip(a)
    if node.kind == K.UNARY_OPERATOR and cu.unary_operator(node) == cu.UNARY_ADDR_OF:
        t = _target(children(node)[0])
        if t and t[1] is None and t[0] in values:
            return t[0]
    return None


class Params(frozenset):
    """A function's parameter names, with what its body writes: a test of `p` or `p->f` is a guard
    on the caller's value only when the function never changes it; the calls given `p` before a
    use of `p->f` go with it (clobbers), for the linker to check what they write."""

    def __new__(cls, names, writes: Writes | None = None, calls=(), where=None, callee=None, pointers=None):
        self = super().__new__(cls, names)
        self.pointers = frozenset(names if pointers is None else pointers)  # pointer parameters: fields
        self.writes = writes if writes is not None else Writes()
        self.calls = calls  # (call cursor, ancestors) of the function's calls
        self.where = where  # cursor location -> (file, line, column, offset)
        self.callee = callee  # FUNCTION_DECL -> (parameter types, defined, in a header)
        self._passes = None  # parameter -> [(offset, callee or "*", argument index)]
        self.aliases = self.writes.settle_copies(self, self.pointers)  # local -> pointer parameter it copies
        return self

    def key(self, node) -> str | None:
        k = param_ref(node, self, self.aliases)
        return None if k is None or self.writes.changed(k) else k

    def cleared_key(self, node) -> tuple:
        """(`p`, the bits it may lose) for a parameter the function changes only by `p &= mask`: a
        test that one of its bits is set still fails for every caller that passes it clear, a test
        of bits it never loses still holds the caller's value (context._settled()); else (None, 0)."""
        k = param_ref(node, self, self.aliases)
        bits = self.writes.cleared_bits(k) if k is not None and "->" not in k else None
        return (k, bits) if bits is not None else (None, 0)

    def clobbers(self, param: str, node) -> list:
        """[callee, argument index] of the calls before NODE (in source order) that are given PARAM
        and may change its fields ("*": a callee gfplint cannot follow): the linker keeps a
        `param->f` value across them only if none writes f (smatch's "param was modified")."""
        passes = self.passes().get(param)
        if not passes:
            return []
        off = self.where(node.location)[3] if self.where else 0
        return [[name, i] for o, name, i in passes if o < off]

    def passes(self) -> dict:
        """Parameter -> the calls it is passed to, bare, where the callee may write through it."""
        if self._passes is None:
            self._passes = {}
            for call, _ in self.calls:
                ref = call.referenced
                for i, a in enumerate(call.get_arguments()):
                    a = _strip(a)
                    if a.kind != K.DECL_REF_EXPR:
                        continue
                    param = a.spelling if a.spelling in self.pointers else self.aliases.get(a.spelling)
                    if param is not None:
                        name = self._callee_for(ref, i)
                        if name is not None:
                            off = self.where(call.location)[3] if self.where else 0
                            self._passes.setdefault(param, []).append((off, name, i))
        return self._passes

    def _callee_for(self, ref, i: int) -> str | None:
        """The callee's name, "*" when its body is not in the call graph (a header inline, a call
        through a pointer), None when parameter I is a pointer to const (it cannot write)."""
        if ref is None or ref.kind != K.FUNCTION_DECL or self.callee is None:
            return "*"
        types, _, header = self.callee(ref)
        if i < len(types) and types[i].startswith("const "):
            return None
        return "*" if header else ref.spelling

    def summary(self) -> tuple:
        """(param_writes, param_passes) for FunctionFacts: the fields of each pointer parameter the
        function writes itself ("*": it stores the pointer elsewhere), and the calls it hands the
        pointer to (the linker adds what they write)."""
        writes = {}
        for p in sorted(self.pointers):
            own = sorted(k.split("->", 1)[1] for k in self.writes.fields if k.startswith(p + "->"))
            if p in self.writes.escaped:
                own = ["*"]
            if own:
                writes[p] = own
        passes = {p: [list(x) for x in sorted({(name, i) for _, name, i in lst})]
                  for p, lst in self.passes().items()}
        return writes, passes


_STABLE = (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR, K.BINARY_OPERATOR, K.UNARY_OPERATOR,
           K.INTEGER_LITERAL, K.CHARACTER_LITERAL, K.DECL_REF_EXPR, K.MEMBER_REF_EXPR, K.ARRAY_SUBSCRIPT_EXPR)
_LOCALS = (K.PARM_DECL, K.VAR_DECL)


def stable_condition(cond, writes: Writes) -> str | None:
    """A key for COND when the function cannot change its value between two tests of it: only
    operators, constants, parameters and locals it never assigns or takes the address of, and
    fields it never writes (no calls, no globals: another CPU may change those).  Two `if`s with
    the same key take the same branch (the lock taken under the first is released under the
    second).  Callees writing a field the function tests again are not looked for, as smatch does
    not for its implied states either."""
    written = writes.field_names()
    parts: list = []
    stack = [cond]
    while stack:
        c = stack.pop()
        k = c.kind
        if k not in _STABLE or len(parts) > 48:
            return None
        if k == K.BINARY_OPERATOR:
            op = cu.binary_operator(c)
            if op >= _ASSIGN:  # assignments and the comma operator
                return None
            parts.append(f"b{op}")
        elif k == K.UNARY_OPERATOR:
            op = cu.unary_operator(c)
            if op in _INC_DEC:
                return None
            parts.append(f"u{op}")
        elif k == K.DECL_REF_EXPR:
            ref = c.referenced
            if ref is None:
                return None
            if ref.kind == K.ENUM_CONSTANT_DECL:
                parts.append(str(ref.enum_value))
            elif ref.kind in _LOCALS and ref.semantic_parent is not None \
                    and ref.semantic_parent.kind == K.FUNCTION_DECL \
                    and c.spelling not in writes.whole and not writes.address_uses.get(c.spelling) \
                    and ref.storage_class != ci.StorageClass.STATIC:
                parts.append("v:" + c.spelling)
            else:
                return None
        elif k == K.MEMBER_REF_EXPR:
            if c.spelling in written or "*" in written:
                return None
            parts.append("." + c.spelling)
        elif k in (K.INTEGER_LITERAL, K.CHARACTER_LITERAL):
            parts.append(str(cu.evaluate_int(c)))
        else:
            parts.append(k.name[0])
        stack.extend(reversed(children(c)))
    return " ".join(parts)
