"""Parse one translation unit and extract allocation-site Facts.

Only function bodies whose expansion file is an analysed .c file are walked
(FRONTEND-NOTES trap 1 and 2: SYSCALL_DEFINEx names come from token pasting,
and kernel/sched/build_policy.c #includes other .c files).  A site is named
by the macro the programmer wrote (kmalloc), not by 6.12's expansion
(kmalloc_noprof inside alloc_hooks), FRONTEND-NOTES trap 3.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import clang.cindex as ci

from ..catalog import AllocApi, Catalog
from ..context_catalog import ContextCatalog, load_context_catalog
from ..compdb import CompileUnit
from ..facts import CacheFacts, Diagnostic, FieldFunction, FunctionFacts, Goto, LabelRegion, Site, TUFacts
from ..model.flags import Layout, describe
from . import clangutil as cu
from .clangutil import children
from .fields import OR_ASSIGN, SCALAR_TYPES, Writes
from .context import (STRAIGHT_STMTS, analyse_function, file_scope_references, file_scope_registrations,
                      is_callee, named_function, struct_of_field)
from .ctext import GfpEnv, Unresolved, eval_gfp, eval_int_text, normalize, split_call
from .results import analyse_result

K = ci.CursorKind
MAX_DIAGNOSTICS = 10


@dataclass
class Instantiation:
    name: str
    file: str
    start: int
    end: int
    line: int
    column: int


# Macro invocations are read from the source text (the parse keeps no preprocessing record):
# identifiers outside comments, string and character literals and preprocessor directives;
# the arguments run to the matching parenthesis.
_SCAN = re.compile(rb"""//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'"""
                   rb"""|^[ \t]*\#(?:[^\n]*\\\n)*[^\n]*|(?P<id>[A-Za-z_]\w*)""", re.S | re.M)
_PARENS = re.compile(rb"""//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|[()]""", re.S)
_ARGS = re.compile(rb"""//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\s+|[()\[\]{},]|[^()\[\]{},\s"'/]+|/""",
                   re.S)
_IDENT = re.compile(rb"[A-Za-z_]\w*")
_GAP = re.compile(rb"(?:\s|/\*.*?\*/|//[^\n]*)*", re.S)


@dataclass
class Source:
    """An analysed file's bytes, decoded per line for extents."""

    path: str
    data: bytes
    _invocations: dict = field(default_factory=dict)

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")

    def invocation(self, off: int, need_parens: bool = False):
        """(name, start, end) of the identifier written at OFF and its parenthesized arguments
        (just the name when no parenthesis follows: an object-like macro); None when no
        identifier starts at OFF."""
        key = (off, need_parens)
        if key in self._invocations:
            return self._invocations[key]
        out = None
        m = _IDENT.match(self.data, off)
        if m is not None and (off == 0 or not (self.data[off - 1:off].isalnum() or self.data[off - 1:off] == b"_")):
            name = m.group().decode("ascii")
            j = _GAP.match(self.data, m.end()).end()
            if self.data[j:j + 1] == b"(":
                end = self._close(j)
                if end is not None:
                    out = (name, off, end)
            elif not need_parens:
                out = (name, off, m.end())
        self._invocations[key] = out
        return out

    def _close(self, j: int) -> int | None:
        depth = 0
        for m in _PARENS.finditer(self.data, j):
            t = m.group()
            if t == b"(":
                depth += 1
            elif t == b")":
                depth -= 1
                if depth == 0:
                    return m.end()
        return None

    def invocations(self, start: int, end: int, names) -> list:
        """(name, start, end) of every NAME( written in [START, END), in source order."""
        out = []
        for m in _SCAN.finditer(self.data, start, end):
            ident = m.group("id")
            if ident is None:
                continue
            name = ident.decode("ascii")
            if name in names:
                inv = self.invocation(m.start(), need_parens=True)
                if inv is not None:
                    out.append(inv)
        return out

    def argument_starts(self, start: int, end: int) -> list:
        """Offsets of the first character of each argument of the invocation at [START, END)."""
        out, depth, expect = [], 0, False
        for m in _ARGS.finditer(self.data, start, end):
            t = m.group()
            if expect and not t.isspace() and not t.startswith((b"//", b"/*")):
                out.append(m.start())
                expect = False
            if t in (b"(", b"[", b"{"):
                depth += 1
                expect = expect or (depth == 1 and t == b"(")
            elif t in (b")", b"]", b"}"):
                depth -= 1
            elif t == b"," and depth == 1:
                expect = True
        return out

    def line_col(self, off: int) -> tuple:
        """1-based line and byte column of OFF, as libclang counts them."""
        return self.data.count(b"\n", 0, off) + 1, off - (self.data.rfind(b"\n", 0, off) + 1) + 1


@dataclass
class TUContext:
    unit: CompileUnit
    root: str
    catalog: Catalog
    layout: Layout
    files: cu.FileNames = field(default_factory=cu.FileNames)
    sources: dict = field(default_factory=dict)  # abs path -> Source
    context_catalog: ContextCatalog | None = None
    var_functions: dict = field(default_factory=dict)  # file-scope variable -> {field: function} (notifier blocks)
    releases: dict = field(default_factory=dict)  # function of this TU -> lock classes it returns released
    acquires: dict = field(default_factory=dict)  # function of this TU -> lock classes it returns holding
    noreturn: dict = field(default_factory=dict)  # callee name -> declared __noreturn (CFG paths end there)
    returns: dict = field(default_factory=dict)  # USR -> the one constant a function returns (values.Values)
    function_decls: list = field(default_factory=list)  # every top-level FUNCTION_DECL cursor
    tu: ci.TranslationUnit | None = None
    macro_names: set = field(default_factory=set)  # lock/scope/registration macros (context catalog)
    _function_names: set | None = None
    _where: dict = field(default_factory=dict)  # bytes of a SourceLocation -> where()
    _callees: dict = field(default_factory=dict)  # bytes of a FUNCTION_DECL cursor -> callee()
    _inline_calls: dict = field(default_factory=dict)  # bytes of a FUNCTION_DECL cursor -> inline_calls()
    inline_callees: dict = field(default_factory=dict)  # (bytes of a header inline, depth) -> context._inline_callees()
    inline_unseen: set = field(default_factory=set)  # functions header inlines may call with no edge recorded
    inline_locks: dict = field(default_factory=dict)  # bytes of a header inline -> the section it opens/closes
    _rels: dict = field(default_factory=dict)  # path -> os.path.relpath(path, root)

    def callee(self, ref: ci.Cursor) -> tuple:
        """(parameter type spellings, has a definition, defined in a header) of the function
        declaration REF, computed once per declaration in the TU."""
        key = bytes(ref)
        hit = self._callees.get(key)
        if hit is None:
            d = ref.get_definition()
            f = self.where(d.location)[0] if d is not None else None
            hit = self._callees[key] = ([a.type.spelling for a in ref.get_arguments()], d is not None,
                                        f is not None and not f.endswith(".c"))
        return hit

    def inline_calls(self, ref: ci.Cursor, depth: int = 0) -> tuple:
        """Functions a header inline calls on every path: the calls of its leading straight-line
        statements (include/linux/kernfs.h kernfs_find_and_get() is `return kernfs_find_and_get_ns()`),
        through nested inlines.  The call graph holds no header inline, so a caller learns from
        these names whether the inline always sleeps."""
        key = bytes(ref)
        hit = self._inline_calls.get(key)
        if hit is None:
            self._inline_calls[key] = ()  # recursion guard
            hit = self._inline_calls[key] = _straight_calls(self, ref.get_definition(), depth)
        return hit

    @property
    def function_names(self) -> set:
        """Names of the functions the TU declares (spelled only when first needed)."""
        if self._function_names is None:
            self._function_names = {c.spelling for c in self.function_decls}
        return self._function_names

    def _relpath(self, path: str) -> str:
        rel = self._rels.get(path)
        if rel is None:
            rel = self._rels[path] = os.path.relpath(path, self.root)
        return rel

    def rel(self, path: str) -> str:
        rel = self._relpath(path)
        return path if rel.startswith("..") else rel.replace(os.sep, "/")

    def analysed(self, path: str | None) -> bool:
        """A .c file under the analysis root (FRONTEND-NOTES trap 2)."""
        if not path or not path.endswith(".c"):
            return False
        if path == self.unit.file:
            return True
        return not self._relpath(path).startswith("..")

    def source(self, path: str) -> Source:
        src = self.sources.get(path)
        if src is None:
            try:
                with open(path, "rb") as f:
                    src = Source(path, f.read())
            except OSError:
                src = Source(path, b"")
            self.sources[path] = src
        return src

    def where(self, loc: ci.SourceLocation):
        key = bytes(loc)
        hit = self._where.get(key)
        if hit is None:
            h, line, col, off = cu.expansion(loc)
            hit = self._where[key] = (self.files.name(h), line, col, off)
        return hit

    def extent(self, c: ci.Cursor):
        """(file, start offset, end offset, start line, end line) of C in its expansion file."""
        f1, l1, _, o1 = self.where(c.extent.start)
        f2, l2, _, o2 = self.where(c.extent.end)
        if f1 is None or f1 != f2 or o2 < o1:
            return None
        return f1, o1, o2, l1, l2

    def text(self, c: ci.Cursor) -> str | None:
        ext = self.extent(c)
        if ext is None or not self.analysed(ext[0]):
            return None
        return self.source(ext[0]).text(ext[1], ext[2])

    def macro_at(self, call: ci.Cursor, file: str, off: int, names) -> tuple | None:
        """(name, start, end) of the macro the programmer wrote at CALL's expansion location
        (FILE, OFF) when its name is in NAMES: the outermost macro the call comes from.

        None when the name written there is not in NAMES, or is the callee's own name: a call
        written directly (libclang's spelling location cannot tell: it is the expansion location
        for tokens of a macro body)."""
        if not self.analysed(file):
            return None
        inv = self.source(file).invocation(off)
        if inv is None or inv[0] not in names or inv[0] == call.spelling:
            return None
        return inv

    def expanded_at(self, file: str, start: int, end: int) -> bool:
        """Whether the macro invocation written at [START, END) of FILE was expanded (not in
        #if-disabled code): the AST node libclang finds at one of its arguments lies inside it."""
        src = self.source(file)
        f = self.tu.get_file(file)
        for p in src.argument_starts(start, end):
            cur = ci.Cursor.from_location(self.tu, ci.SourceLocation.from_offset(self.tu, f, p))
            ext = self.extent(cur) if cur is not None else None
            if ext is not None and ext[0] == file and start <= ext[1] and ext[2] <= end:
                return True
        return False


_DEFAULT_CONTEXT = None


def _default_context_catalog() -> ContextCatalog:
    global _DEFAULT_CONTEXT
    if _DEFAULT_CONTEXT is None:
        _DEFAULT_CONTEXT = load_context_catalog()
    return _DEFAULT_CONTEXT


def parse_unit(unit: CompileUnit, root: str, catalog: Catalog, layout: Layout,
               context_catalog: ContextCatalog | None = None) -> TUFacts:
    cu.LOST.clear()
    context_catalog = context_catalog or getattr(catalog, "context", None) or _default_context_catalog()
    ctx = TUContext(unit, root, catalog, layout, context_catalog=context_catalog)
    ctx.macro_names = ctx.context_catalog.macro_names()
    facts = TUFacts(tu=ctx.rel(unit.file))
    try:
        unit.file.encode("utf-8")
    except UnicodeEncodeError:
        name = unit.file.encode("utf-8", "backslashreplace").decode()
        facts.tu = name
        facts.diagnostics.append(Diagnostic(name, 0, 0, "error", "file name is not valid UTF-8; libclang cannot open it", name))
        facts.parse_errors = 1
        return facts
    try:
        tu = ci.Index.create().parse(unit.file, args=list(unit.args), options=cu.PARSE_OPTIONS)
    except ci.TranslationUnitLoadError as e:
        facts.diagnostics.append(Diagnostic(facts.tu, 0, 0, "error", f"libclang could not parse: {e}", facts.tu))
        facts.parse_errors = 1
        return facts
    ctx.tu = tu
    _diagnostics(tu, ctx, facts)
    facts.headers = sorted({ctx.rel(i.include.name) for i in tu.get_includes()})
    functions, variables = [], []
    files = cu.ExpansionFiles(ctx.files)
    for c in cu.top_level_decls(tu):
        if c._kind_id == cu.FUNCTION_DECL:
            ctx.function_decls.append(c)
            if c.is_definition() and ctx.analysed(files.file(c.location)):
                functions.append(c)
        elif ctx.analysed(files.file(c.location)):
            variables.append(c)
    try:
        for v in variables:
            cu.clear_cache()
            regs, fields = file_scope_registrations(v, ctx, ctx.context_catalog)
            facts.registrations += regs
            facts.field_functions += fields
            facts.taken += file_scope_references(v, ctx)
            if fields:
                ctx.var_functions[v.spelling] = {ff.field: ff.function for ff in fields}
        done: dict = {}
        for fn in functions:
            key = (ctx.where(fn.location)[0], fn.spelling)
            if key not in done:
                done[key] = (fn, _function_facts(fn, ctx, facts.tu))
        _with_release_wrappers(done, ctx)
    finally:
        cu.clear_cache()
    for _, one in done.values():
        for name in ("sites", "functions", "registrations", "field_functions", "caches", "taken"):
            getattr(facts, name).extend(getattr(one, name))
    facts.taken += [[name, facts.tu] for name in sorted(ctx.inline_unseen)]
    return facts


def _function_facts(fn: ci.Cursor, ctx: TUContext, tu: str) -> TUFacts:
    """One function's Facts on their own, so that a second analysis can replace them."""
    one = TUFacts(tu=tu)
    cu.clear_cache()
    try:
        _function(fn, ctx, one)
    except RecursionError:  # expressions nested too deeply for the recursive walks: the function is lost
        cu.LOST.append("RecursionError")
        return TUFacts(tu=tu)
    return one


def _with_release_wrappers(done: dict, ctx: TUContext) -> None:
    """Functions of this TU that return having released their caller's lock (`/* drops
    pi_state->pi_mutex.wait_lock */ wake_futex_pi()`) are unlocks for their callers, and those
    that return holding a lock they took on every path (a driver's `static void foo_lock(f) {
    spin_lock_irqsave(&f->lock, f->flags); }`) are locks: analyse the callers again with calls to
    them as exits and enters (kernel/futex/pi.c futex_unlock_pi())."""
    releases = {f.name: f.releases for _, one in done.values() for f in one.functions if f.releases}
    acquires = {f.name: f.acquires for _, one in done.values() for f in one.functions if f.acquires}
    if not releases and not acquires:
        return
    ctx.releases, ctx.acquires = releases, acquires
    for key, (fn, one) in done.items():
        if any(c.callee in releases or c.callee in acquires for f in one.functions for c in f.calls):
            done[key] = (fn, _function_facts(fn, ctx, one.tu))


def _diagnostics(tu, ctx: TUContext, facts: TUFacts) -> None:
    for d in tu.diagnostics:
        if d.severity < ci.Diagnostic.Error:
            continue
        facts.parse_errors += 1
        if len(facts.diagnostics) < MAX_DIAGNOSTICS:
            loc = d.location
            path = ctx.rel(loc.file.name) if loc.file else facts.tu
            facts.diagnostics.append(Diagnostic(path, loc.line, loc.column, "error", d.spelling, facts.tu))


class _MacroNames:
    """Names that are macros at a use in the TU's source: in NAMES and not declared as a
    function (6.12's kmalloc() is a macro, 6.1's a function)."""

    def __init__(self, names, ctx: "TUContext"):
        self.names = names
        self.ctx = ctx

    def __contains__(self, name: str) -> bool:
        return name in self.names and name not in self.ctx.function_names


# ------------------------------------------------------------------ functions


@dataclass
class FunctionWalk:
    fn: ci.Cursor
    file: str
    calls: list = field(default_factory=list)  # (call cursor, ancestors)
    cache_creates: list = field(default_factory=list)  # (call cursor, ancestors)
    other_calls: list = field(default_factory=list)  # (call cursor, ancestors): call-graph edges
    inline_calls: list = field(default_factory=list)  # (call cursor, ancestors): calls of header inlines
    guard_owners: dict = field(default_factory=dict)  # guard constructor call hash -> block hash
    registration_uses: list = field(default_factory=list)  # (api, written args, line, column)
    field_assignments: list = field(default_factory=list)  # (field, function, line, struct, object as written)
    registers: list = field(default_factory=list)  # registrations of a parameter (FunctionFacts.registers)
    drops: list = field(default_factory=list)
    releases: list = field(default_factory=list)  # lock classes of the caller it returns released
    acquires: list = field(default_factory=list)  # lock classes it takes and returns holding, on every path
    sleeps_always: bool = False
    calls_always: list = field(default_factory=list)
    param_writes: dict = field(default_factory=dict)
    param_passes: dict = field(default_factory=dict)
    branches: list = field(default_factory=list)  # if/switch statements, for parameter guards
    writes: Writes = field(default_factory=Writes)  # fields and variables the body writes
    struct_locals: dict = field(default_factory=dict)  # local struct variable -> its VAR_DECL
    gotos: list = field(default_factory=list)  # (goto cursor)
    bit_sets: list = field(default_factory=list)  # (`x |= F` cursor, ancestors): context.first_use()
    gfp_params: set = field(default_factory=set)
    gfp_locals: dict = field(default_factory=dict)  # name -> [(op, rhs text)]
    taken: set = field(default_factory=set)  # functions referenced other than as a call's callee


_KINDS = {k.value: k for k in ci.CursorKind.get_all_kinds()}


def _is_gfp_type(t: ci.Type) -> bool:
    return "gfp_t" in t.spelling


def _walk(c: ci.Cursor, anc: list, w: FunctionWalk, ctx: TUContext) -> None:
    k = _KINDS.get(c._kind_id) or c.kind  # CursorKind without the bindings' checked lookup
    if k == K.CALL_EXPR and c.spelling.lstrip("_").startswith("kmem_cache_create"):
        w.cache_creates.append((c, list(anc)))
    if k == K.CALL_EXPR and ctx.catalog.lookup(c.spelling) is not None:
        w.calls.append((c, list(anc)))
    elif k == K.CALL_EXPR:
        _other_call(c, anc, w, ctx)
    elif k == K.GOTO_STMT:
        w.gotos.append(c)
    elif k in (K.IF_STMT, K.SWITCH_STMT):
        w.branches.append(c)
    elif k == K.VAR_DECL and _is_gfp_type(c.type):
        init = [ch for ch in children(c) if ch.kind != K.TYPE_REF]
        text = ctx.text(init[-1]) if init else None
        w.gfp_locals.setdefault(c.spelling, [])
        if text:
            w.gfp_locals[c.spelling].append(("=", text))
    elif k == K.VAR_DECL and c.type.get_canonical().kind == ci.TypeKind.RECORD:
        if c.storage_class != ci.StorageClass.STATIC:  # a static local keeps what earlier calls wrote
            w.struct_locals[c.spelling] = c
    elif k == K.VAR_DECL:
        init = [ch for ch in children(c) if ch.kind != K.TYPE_REF]
        if init and c.type.get_canonical().kind in SCALAR_TYPES:  # an array's children are its sizes
            w.writes.values.setdefault(c.spelling, []).append(init[-1])
        if init and c.type.get_canonical().kind == ci.TypeKind.POINTER:
            w.writes.copy(c.spelling, init[-1])  # struct foo *q = p: q aliases p
        elif init:
            w.writes.escape(init[-1])
    elif k == K.ASM_STMT:
        w.writes.asm_operands(c)
    elif k == K.DECL_REF_EXPR and c.spelling in ctx.function_names and not is_callee(c, anc):
        ref = c.referenced  # (the name test first: most references are to variables)
        if ref is not None and ref.kind == K.FUNCTION_DECL:
            w.taken.add(c.spelling)  # fp = f, tbl[] = { f }, return f, x ? f : g
    elif k in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
        if k == K.COMPOUND_ASSIGNMENT_OPERATOR and cu.binary_operator(c) == OR_ASSIGN:
            w.bit_sets.append((c, list(anc)))
        _gfp_assignment(c, w, ctx)
        _field_assignment(c, w, ctx)
        w.writes.visit(c, k)
    elif k == K.UNARY_OPERATOR:
        w.writes.visit(c, k)
    if k == K.CALL_EXPR and c.spelling == "memset":
        w.writes.visit(c, k)
    anc.append(c)
    for ch in cu.evaluated_children(c):  # not sizeof(f()), typeof(f()): those calls never run
        _walk(ch, anc, w, ctx)
    anc.pop()


def _other_call(c: ci.Cursor, anc: list, w: FunctionWalk, ctx: TUContext) -> None:
    if not _header_inline(c, ctx):
        w.other_calls.append((c, list(anc)))
    else:  # what it does with functions it is given, and what it calls: context.inline_forwards(), inline_callees()
        w.inline_calls.append((c, list(anc)))
    if c.spelling.startswith("class_") and c.spelling.endswith("_constructor"):
        owner = next((a for a in reversed(anc) if a.kind in (K.COMPOUND_STMT, K.FOR_STMT)), None)
        if owner is not None:
            w.guard_owners[c.hash] = owner.hash
    if c.spelling in ctx.context_catalog.registrations:
        text = ctx.text(c)
        sc = split_call(text) if text else None
        if sc:
            _, line, col, _ = ctx.where(c.location)
            # report the API as written: timer_setup(), not the __init_timer() it expands to
            name = sc[0] if sc[0] in ctx.context_catalog.registrations else c.spelling
            w.registration_uses.append((name, sc[1], line, col))


_STRAIGHT = STRAIGHT_STMTS
MAX_INLINE_DEPTH = 3


def _straight_calls(ctx: TUContext, d, depth: int) -> tuple:
    """Callee names of the statements a function body runs first, unconditionally: up to its first
    branch, loop, goto or return (short-circuit and ?: operands are not followed)."""
    body = next((k for k in children(d) if k.kind == K.COMPOUND_STMT), None) if d is not None else None
    if body is None:
        return ()
    out: list = []
    for stmt in children(body):
        if stmt.kind not in _STRAIGHT:
            break
        _calls_in(stmt, ctx, depth, out)
        if stmt.kind == K.RETURN_STMT:
            break
    return tuple(dict.fromkeys(out))


def _calls_in(c, ctx: TUContext, depth: int, out: list) -> None:
    if c.kind in (K.CONDITIONAL_OPERATOR, K.COMPOUND_STMT):  # ?: and ({ ... }) statement expressions
        return
    if c.kind == K.BINARY_OPERATOR and cu.binary_operator(c) in (cu.BINARY_LAND, cu.BINARY_LOR):
        kids = children(c)
        if kids:
            _calls_in(kids[0], ctx, depth, out)  # the left operand always runs
        return
    for k in cu.evaluated_children(c):
        _calls_in(k, ctx, depth, out)
    if c.kind == K.CALL_EXPR:
        ref = c.referenced
        if ref is not None and ref.kind == K.FUNCTION_DECL:
            out.append(ref.spelling)
            if depth < MAX_INLINE_DEPTH and ctx.callee(ref)[2]:
                out.extend(ctx.inline_calls(ref, depth + 1))


def _header_inline(c: ci.Cursor, ctx: TUContext) -> bool:
    """A call to a function defined in a header (static inline: list_add, spin_lock, ...): never a
    node of the call graph, which holds the analysed .c files' functions, so no edge is recorded."""
    ref = c.referenced
    if ref is None or ref.kind != K.FUNCTION_DECL:
        return False
    return ctx.callee(ref)[2]


def _field_assignment(c: ci.Cursor, w: FunctionWalk, ctx: TUContext) -> None:
    """ops->ndo_start_xmit = my_xmit: a function pointer stored in a struct field."""
    kids = children(c)
    if len(kids) != 2 or kids[0].kind != K.MEMBER_REF_EXPR:
        return
    rhs = kids[1]
    while rhs.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR) and len(children(rhs)) == 1:
        rhs = next(iter(children(rhs)))
    if rhs.kind == K.DECL_REF_EXPR and rhs.referenced is not None and rhs.referenced.kind == K.FUNCTION_DECL:
        owner = children(kids[0])
        base = ctx.text(owner[0]) if owner else None  # `priv->nb` of priv->nb.notifier_call
        w.field_assignments.append((kids[0].spelling, rhs.spelling, ctx.where(c.location)[1],
                                    struct_of_field(kids[0].referenced), normalize(base) if base else None))


def operator(c: ci.Cursor, ctx: TUContext) -> str | None:
    """The operator token of a binary expression, from the text between its operands."""
    kids = children(c)
    if len(kids) != 2:
        return None
    a, b = ctx.extent(kids[0]), ctx.extent(kids[1])
    if a is None or b is None or a[0] != b[0]:
        return None
    return ctx.source(a[0]).text(a[2], b[1]).strip() or None


def _gfp_assignment(c: ci.Cursor, w: FunctionWalk, ctx: TUContext) -> None:
    kids = children(c)
    if len(kids) != 2 or kids[0].kind != K.DECL_REF_EXPR or not _is_gfp_type(kids[0].type):
        return
    op = operator(c, ctx)
    if op not in ("=", "|=", "&="):
        return
    rhs = ctx.text(kids[1])
    if rhs:
        w.gfp_locals.setdefault(kids[0].spelling, []).append((op, rhs))


def _function(fn: ci.Cursor, ctx: TUContext, facts: TUFacts) -> None:
    file = ctx.where(fn.location)[0]
    w = FunctionWalk(fn, file)
    params = []
    for ch in children(fn):
        if ch.kind == K.PARM_DECL:
            params.append(ch.spelling)
            if _is_gfp_type(ch.type):
                w.gfp_params.add(ch.spelling)
    body = next((ch for ch in children(fn) if ch.kind == K.COMPOUND_STMT), None)
    if body is None:
        return
    _walk(body, [fn], w, ctx)
    ff = FunctionFacts(ctx.rel(file), fn.spelling, ctx.where(fn.location)[1],
                       static=fn.storage_class == ci.StorageClass.STATIC, params=params)
    env = GfpEnv(ctx.layout, {k: v for k, v in w.gfp_locals.items() if v}, frozenset(w.gfp_params))
    sites, branches, site_calls = [], [], []
    seen = set()
    for call, anc in w.calls:
        built = _site(call, anc, fn, file, ctx, env)
        if built is None or built[0].key + (built[0].api,) in seen:
            continue
        site, branch = built
        seen.add(site.key + (site.api,))
        sites.append(site)
        branches.append(branch)
        site_calls.append(call)
    _macro_registrations(body, file, ctx, w)
    ff.calls, regs = analyse_function(fn, body, file, ctx, w, sites, site_calls, env, ctx.context_catalog)
    ff.drops = w.drops
    ff.releases = w.releases
    ff.acquires = w.acquires
    ff.sleeps_always, ff.calls_always = w.sleeps_always, w.calls_always
    ff.param_writes, ff.param_passes = w.param_writes, w.param_passes
    ff.registers = w.registers
    facts.registrations += regs
    facts.field_functions += [FieldFunction(struct, field, target, ctx.rel(file), line)
                              for field, target, line, struct, _ in w.field_assignments if struct]
    facts.taken += [[name, ctx.rel(file)] for name in sorted(w.taken)]
    _labels(body, ff, ctx)
    _gotos(w, ff, sites, branches, ctx)
    for call, anc in w.cache_creates:
        _cache(call, anc, file, ctx, facts)
    facts.sites += sites
    facts.functions.append(ff)


def _macro_registrations(body: ci.Cursor, file: str, ctx: TUContext, w: FunctionWalk) -> None:
    """INIT_WORK(&w, fn) and friends are macros that expand to assignments: read them as written."""
    ext = ctx.extent(body)
    if ext is None or ext[0] != file or not ctx.analysed(file):
        return
    src = ctx.source(file)
    regs = _MacroNames(ctx.context_catalog.registrations, ctx)
    for name, s0, e0 in src.invocations(ext[1], ext[2], regs):
        sc = split_call(src.text(s0, e0))
        if sc and ctx.expanded_at(file, s0, e0):
            line = src.data.count(b"\n", 0, s0) + 1
            w.registration_uses.append((name, sc[1], line, 0))


# ---------------------------------------------------------------------- sites


def _descendant_offsets(c: ci.Cursor, file: str, ctx: TUContext, limit: int = 64) -> list[int]:
    """Spelling offsets in FILE of C and its descendants: where macro arguments were written."""
    out, stack, n = [], [c], 0
    while stack and n < limit:
        x = stack.pop()
        n += 1
        h, _, _, off = cu.spelling(x.location)
        if h and ctx.files.name(h) == file:
            out.append(off)
        stack.extend(children(x))
    return out


def _instantiation_for(call: ci.Cursor, file: str, off: int, line: int, col: int,
                       ctx: TUContext) -> Instantiation | None:
    inv = ctx.macro_at(call, file, off, ctx.catalog.apis)
    if inv is not None:
        return Instantiation(inv[0], file, inv[1], inv[2], line, col)
    # The allocator macro sits inside another macro (rcu_assign_pointer(p, kmalloc(...))):
    # take the innermost catalog macro, written inside the one at OFF, that holds the call's
    # written arguments.
    src = ctx.source(file)
    outer = src.invocation(off)
    if outer is None:
        return None
    inner = src.invocations(off + len(outer[0]), outer[2], _MacroNames(ctx.catalog.apis, ctx))
    if not inner:
        return None
    offs = _descendant_offsets(call, file, ctx)
    best = None
    for name, start, end in inner:
        if any(start <= o < end for o in offs):
            if best is None or (end - start) < (best[2] - best[1]):
                best = (name, start, end)
    if best is None:
        return None
    return Instantiation(best[0], file, best[1], best[2], *src.line_col(best[1]))


@dataclass
class Written:
    api: str
    line: int
    column: int
    start: int
    end: int
    args: list | None  # argument texts as written; None inside an unrelated macro
    call: str
    via: str = ""


def _written(call: ci.Cursor, file: str, ctx: TUContext) -> Written | None:
    cf, line, col, off = ctx.where(call.location)
    if cf != file:
        return None
    inst = _instantiation_for(call, file, off, line, col, ctx)
    api = ctx.catalog.lookup(call.spelling).api
    if inst is not None:
        text = ctx.source(file).text(inst.start, inst.end)
        sc = split_call(text)
        return Written(inst.name, inst.line, inst.column, inst.start, inst.end, sc[1] if sc else None, normalize(text))
    ext = ctx.extent(call)
    if ext is not None:
        text = ctx.source(file).text(ext[1], ext[2])
        sc = split_call(text)
        if sc and ctx.catalog.lookup(sc[0]) is not None:  # a plain function call, as in 6.1
            return Written(sc[0], line, col, ext[1], ext[2], sc[1], normalize(text))
        if sc:  # inside an unrelated macro such as alloc_inode_sb(): position of that macro
            return Written(api, line, col, ext[1], ext[2], None, normalize(text), via=sc[0])
    return Written(api, line, col, off, off, None, api, via="macro")


def _ast_arg(call: ci.Cursor, i: int, written: Written, ctx: TUContext, file: str):
    """The AST argument that corresponds to written argument I, when the mapping is safe."""
    args = list(call.get_arguments())
    if i >= len(args):
        return None
    if written.args is None:
        return args[i] if ctx.catalog.lookup(call.spelling).api == written.api else None
    # Identity mapping (kcalloc -> kmalloc_array_noprof keeps positions); reject it when the
    # argument was visibly written elsewhere (kvzalloc -> __kvmalloc_node_noprof shifts them).
    offs = _descendant_offsets(args[i], file, ctx, limit=16)
    if offs:
        spans = _arg_spans(written, ctx, file)
        if i < len(spans) and not all(spans[i][0] <= o < spans[i][1] for o in offs):
            return None
    return args[i]


def _arg_spans(written: Written, ctx: TUContext, file: str) -> list:
    text = ctx.source(file).text(written.start, written.end)
    spans, depth, start = [], 0, text.find("(") + 1
    for j in range(start, len(text)):
        ch = text[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                spans.append((start, j))
                break
            depth -= 1
        elif ch == "," and depth == 0:
            spans.append((start, j))
            start = j + 1
    base = written.start
    # offsets in bytes: the text slice is decoded; kernel sources are ASCII in practice
    return [(base + a, base + b) for a, b in spans]


def _int_arg(call, i, written, ctx, file, bound: list | None = None) -> tuple[int | None, str | None]:
    if i is None:
        return None, None
    text = written.args[i] if written.args is not None and i < len(written.args) else None
    node = _ast_arg(call, i, written, ctx, file)
    value = cu.evaluate_int(node) if node is not None else None
    if value is None and text:
        value = eval_int_text(text)
    if value is None and node is not None and bound is not None:
        bound.append(size_bound(node))
    return value, (normalize(text) if text else None)


def _site(call, anc, fn, file, ctx: TUContext, env: GfpEnv):
    api: AllocApi = ctx.catalog.lookup(call.spelling)
    written = _written(call, file, ctx)
    if written is None:
        return None
    wapi = ctx.catalog.lookup(written.api) or api
    site = Site(
        file=ctx.rel(file), line=written.line, column=written.column, function=fn.spelling,
        api=written.api, call=written.call, backend=wapi.backend, gfp=None, masks=None,
    )
    _gfp(site, wapi, call, written, ctx, env, file)
    _size(site, wapi, call, written, ctx, file)
    branch = analyse_result(site, wapi, call, anc, written, ctx)
    return site, branch


def _gfp(site: Site, api: AllocApi, call, written: Written, ctx: TUContext, env: GfpEnv, file: str) -> None:
    adds = frozenset(api.adds)
    if api.gfp is None or (written.args is not None and api.gfp >= len(written.args) and api.gfp_default):
        expr = api.implied or api.gfp_default
        site.gfp = None if api.implied else api.gfp_default
        masks = eval_gfp(expr, GfpEnv(ctx.layout))
        site.masks = [sorted(m | adds) for m in masks]
        return
    if written.args is not None and api.gfp < len(written.args):
        site.gfp = normalize(written.args[api.gfp])
        try:
            site.masks = [sorted(m | adds) for m in eval_gfp(written.args[api.gfp], env)]
            return
        except Unresolved as e:
            site.gfp_note = e.why
            site.gfp_params = list(e.params)
    node = _ast_arg(call, api.gfp, written, ctx, file)
    if node is not None and not site.gfp_params:
        value = cu.evaluate_int(node)
        if value is not None:
            names = ctx.layout.names(value)
            site.masks = [sorted(names | adds)]
            site.gfp_note = ""
            if site.gfp is None:
                site.gfp = ctx.text(node) or describe(names, ctx.layout.kernel)
            return
    if not site.gfp_note:
        site.gfp_note = "gfp argument inside a macro" if written.args is None else "not a constant mask"


def _size(site: Site, api: AllocApi, call, written: Written, ctx: TUContext, file: str) -> None:
    if api.fixed_size is not None:
        site.size = api.fixed_size
    if api.fixed_order is not None:
        site.order = api.fixed_order
    if api.cache is not None and written.args is not None and api.cache < len(written.args):
        site.cache = normalize(written.args[api.cache])
    if api.size is not None:
        bound: list = []
        site.size, site.size_text = _int_arg(call, api.size, written, ctx, file, bound)
        if site.size is not None:
            site.size += api.size_plus
        elif bound and bound[0] is not None:
            site.size_min, site.size_max = (end + api.size_plus for end in bound[0])
    if api.order is not None:
        site.order, site.size_text = _int_arg(call, api.order, written, ctx, file)
    if api.size_order is not None:
        size, site.size_text = _int_arg(call, api.size_order, written, ctx, file)
        if size is not None:
            from ..model.verdict import get_order

            site.size, site.order = size, get_order(size)
    if api.count is not None:
        site.count, ctext = _int_arg(call, api.count, written, ctx, file)
        site.elem_size, etext = _int_arg(call, api.elem, written, ctx, file)
        site.size_text = f"{ctext} * {etext}"
        if site.count is not None and site.elem_size is not None:
            site.size = site.count * site.elem_size
        elif not api.saturating:
            site.overflow = True  # check_mul_overflow() at run time: NULL on overflow


def _cache(call, anc, file, ctx: TUContext, facts: TUFacts) -> None:
    """Remember `x = kmem_cache_create(name, size, ...)` so that kmem_cache_alloc(x) has a size."""
    assign = next((a for a in reversed(anc) if a.kind == K.BINARY_OPERATOR), None)
    if assign is None or operator(assign, ctx) != "=":
        return
    lhs = ctx.text(next(iter(children(assign))))
    stmt = ctx.text(assign) or ""
    args = list(call.get_arguments())
    size = cu.evaluate_int(args[1]) if len(args) > 1 else None
    if not lhs:
        return
    line = ctx.where(call.location)[1]
    facts.caches.append(CacheFacts(normalize(lhs), ctx.rel(file), line, size, normalize(stmt),
                                   "SLAB_ACCOUNT" in stmt, "SLAB_CACHE_DMA" in stmt))


# ------------------------------------------------------------ size upper bounds

_NARROW = {ci.TypeKind.UCHAR: 0xFF, ci.TypeKind.CHAR_U: 0xFF, ci.TypeKind.USHORT: 0xFFFF, ci.TypeKind.BOOL: 1}


_SIGNED = {ci.TypeKind.CHAR_S, ci.TypeKind.SCHAR, ci.TypeKind.SHORT, ci.TypeKind.INT, ci.TypeKind.LONG,
           ci.TypeKind.LONGLONG}


def size_bound(c: ci.Cursor, depth: int = 0) -> tuple | None:
    """(lowest, highest) value of a size expression from its operands' types (u8 and u16 fields,
    which may be anything from 0 to their maximum), or None."""
    if depth > 12:
        return None
    v = cu.evaluate_int(c)
    if v is not None:
        return (v, v) if v >= 0 else None
    k = c.kind
    if k in (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR):
        kids = [x for x in children(c) if x.kind != K.TYPE_REF]
        if len(kids) == 1:
            inner = size_bound(kids[0], depth + 1)
            if inner is not None and k == K.CSTYLE_CAST_EXPR and c.type.get_size() < kids[0].type.get_size():
                return None  # a narrowing cast may wrap
            return inner
        return None
    if k in (K.DECL_REF_EXPR, K.MEMBER_REF_EXPR):
        top = _NARROW.get(c.type.get_canonical().kind)
        return (0, top) if top is not None else None
    if k == K.BINARY_OPERATOR:
        kids = children(c)
        if len(kids) != 2:
            return None
        a, b = size_bound(kids[0], depth + 1), size_bound(kids[1], depth + 1)
        if a is None or b is None:
            return None
        op = _binop(c, kids)
        if op == "<<" and b[1] >= 64:
            return None
        ends = {"+": lambda x, y: x + y, "*": lambda x, y: x * y, "<<": lambda x, y: x << y}.get(op)
        out = None
        if ends is not None:  # non-negative operands: both ends grow with each operand
            out = (ends(a[0], b[0]), ends(a[1], b[1]))
        elif op == "|":
            out = (max(a[0], b[0]), (1 << max(a[1], b[1]).bit_length()) - 1)
        t = c.type.get_canonical()
        bits = 8 * t.get_size() - (t.kind in _SIGNED)
        if out is not None and bits > 0 and out[1] >= 1 << bits:
            return None  # `(n + 1u) * 0x800000u` wraps in 32 bits: no range
        return out
    return None


def _binop(c, kids) -> str | None:
    toks = [t.spelling for t in c.get_tokens()][:64]
    left = [t.spelling for t in kids[0].get_tokens()]
    if len(left) < len(toks) and toks[: len(left)] == left:
        return toks[len(left)]
    return None


# --------------------------------------------------------------- labels, gotos


_TERMINATORS = (K.RETURN_STMT, K.GOTO_STMT)


def _lines(c: ci.Cursor, ctx: TUContext) -> list[int]:
    ext = ctx.extent(c)
    return list(range(ext[3], ext[4] + 1)) if ext else []


def _labels(body: ci.Cursor, ff: FunctionFacts, ctx: TUContext) -> None:
    stmts = children(body)
    current: LabelRegion | None = None
    last = None
    for s in stmts:
        inner = s
        while inner.kind == K.LABEL_STMT:
            region = LabelRegion(inner.spelling, ctx.where(inner.location)[1])
            if current is None:
                ff.body_falls_through = last is None or last.kind not in _TERMINATORS
            else:
                current.falls_through = last is None or last.kind not in _TERMINATORS
                current.returns = last is not None and last.kind == K.RETURN_STMT
            ff.labels.append(region)
            current = region
            kids = children(inner)
            last = None
            inner = kids[0] if kids else None
            if inner is None:
                break
        if inner is None:
            continue
        if current is not None:
            current.lines += _lines(inner, ctx)
        last = inner
    if current is not None:
        current.falls_through = last is None or last.kind not in _TERMINATORS
        current.returns = last is not None and last.kind == K.RETURN_STMT
    elif last is not None:
        ff.body_falls_through = last.kind not in _TERMINATORS


def _gotos(w: FunctionWalk, ff: FunctionFacts, sites: list, branches: list, ctx: TUContext) -> None:
    starts = [(r.line, r.name) for r in ff.labels]
    for g in w.gotos:
        refs = [ch for ch in children(g) if ch.kind == K.LABEL_REF]
        if not refs:
            continue  # computed goto
        _, line, _, off = ctx.where(g.location)
        region = None
        for lline, name in starts:
            if lline <= line:
                region = name
        owner = None
        for site, br in zip(sites, branches):
            if br is not None and br[0] <= off < br[1]:
                owner = site.key
        ff.gotos.append(Goto(line, refs[0].spelling, owner, region))
