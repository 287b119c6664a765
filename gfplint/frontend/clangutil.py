"""Thin helpers over the libclang Python bindings.

The PyPI bindings lack a few entry points gfplint needs (expansion and
spelling locations as offsets, constant evaluation); they are bound here
through ctypes on the same shared library.
"""
from __future__ import annotations

import ctypes
import os
from functools import lru_cache

import clang.cindex as ci

# No PARSE_DETAILED_PROCESSING_RECORD: its macro cursors (about two thirds of a kernel TU's top-level
# cursors) made every walk slower; macros as written are read from the source text (parse.Source).
PARSE_OPTIONS = 0x200  # CXTranslationUnit_KeepGoing: keep parsing after fatal errors (missing headers)


@lru_cache(maxsize=1)
def _lib():
    lib = ci.conf.lib
    for name, argtypes, restype in (
        ("clang_getExpansionLocation", [ci.SourceLocation, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_uint),
                                        ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint)], None),
        ("clang_getSpellingLocation", [ci.SourceLocation, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_uint),
                                       ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint)], None),
        ("clang_Cursor_Evaluate", [ci.Cursor], ctypes.c_void_p),
        ("clang_EvalResult_getKind", [ctypes.c_void_p], ctypes.c_int),
        ("clang_EvalResult_isUnsignedInt", [ctypes.c_void_p], ctypes.c_uint),
        ("clang_EvalResult_getAsUnsigned", [ctypes.c_void_p], ctypes.c_ulonglong),
        ("clang_EvalResult_getAsLongLong", [ctypes.c_void_p], ctypes.c_longlong),
        ("clang_EvalResult_dispose", [ctypes.c_void_p], None),
        ("clang_getFileName", [ctypes.c_void_p], ci._CXString),
        ("clang_getCursorBinaryOperatorKind", [ci.Cursor], ctypes.c_int),  # libclang >= 17
        ("clang_getCursorUnaryOperatorKind", [ci.Cursor], ctypes.c_int),
        ("clang_Cursor_getVarDeclInitializer", [ci.Cursor], ci.Cursor),  # libclang >= 16
        ("clang_Cursor_isNull", [ci.Cursor], ctypes.c_int),
    ):
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype
    lib.clang_getFileName.errcheck = ci._CXString.from_result
    return lib


def _visit_child(child, parent, out):
    out.append(child)
    return 1  # CXChildVisit_Continue


_VISITOR = ci.callbacks["cursor_visit"](_visit_child)


# Subtrees the walk could not list (Python's recursion limit on a 10,000-deep expression):
# parallel.parse_unit_task reports them as one warning on the TU.
LOST: list = []


# Children already listed, by the cursor's bytes (kind and AST pointers: equal cursors have equal
# bytes, but for a flag on declarations, which at worst costs a second listing).  Handing out the
# same Cursor objects again also keeps what the bindings memoize on them (spelling, location,
# extent, type, hash, referenced).  Valid for one translation unit only: parse.py clears it per
# function (clear_cache), so it holds at most one function body.
_CACHE: dict = {}


def clear_cache() -> None:
    _CACHE.clear()


def children(c: ci.Cursor) -> tuple:
    """The children of C, as Cursor.get_children() gives them, but as a tuple (never modify it),
    memoized, and without the bindings' per-child assertion (two extra libclang calls per child:
    most of a walk's cost)."""
    key = bytes(c)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    out: list = []
    try:
        ci.conf.lib.clang_visitChildren(c, _VISITOR, out)
    except (RecursionError, ctypes.ArgumentError) as e:  # ctypes wraps it while converting arguments
        if not isinstance(e, RecursionError) and "RecursionError" not in str(e):
            raise
        LOST.append("RecursionError")
        return ()
    tu = c._tu
    for ch in out:
        ch._tu = tu  # keep the translation unit alive as long as the cursor
    hit = _CACHE[key] = tuple(out)
    return hit


FUNCTION_DECL = ci.CursorKind.FUNCTION_DECL.value
VAR_DECL = ci.CursorKind.VAR_DECL.value


def _visit_decl(child, parent, out):
    if child._kind_id == FUNCTION_DECL or child._kind_id == VAR_DECL:
        out.append(child)
    return 1


_DECL_VISITOR = ci.callbacks["cursor_visit"](_visit_decl)


def top_level_decls(tu: ci.TranslationUnit) -> list:
    """The translation unit's top-level function and variable declarations (not cached: kernel
    headers make them about 14,000 cursors of which these are most)."""
    out: list = []
    ci.conf.lib.clang_visitChildren(tu.cursor, _DECL_VISITOR, out)
    for ch in out:
        ch._tu = tu
    return out


class FileNames:
    """CXFile handle -> file name, memoized per translation unit (handles are stable)."""

    def __init__(self):
        self._names: dict[int, str] = {}

    def name(self, handle: int | None) -> str | None:
        if not handle:
            return None
        n = self._names.get(handle)
        if n is None:
            n = _lib().clang_getFileName(ctypes.c_void_p(handle))
            self._names[handle] = n
        return n


def _loc(fn_name: str, loc: ci.SourceLocation):
    f = ctypes.c_void_p()
    line, col, off = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    getattr(_lib(), fn_name)(loc, ctypes.byref(f), ctypes.byref(line), ctypes.byref(col), ctypes.byref(off))
    return f.value, line.value, col.value, off.value


def expansion(loc: ci.SourceLocation):
    """(file handle, line, column, offset) where a macro expansion sits in the source."""
    return _loc("clang_getExpansionLocation", loc)


def spelling(loc: ci.SourceLocation):
    """(file handle, line, column, offset) where the token was spelled (a macro argument's own place)."""
    return _loc("clang_getSpellingLocation", loc)


_MACRO_BIT = 1 << 31  # SourceLocation raw encoding: set for macro locations


class ExpansionFiles:
    """The expansion file of many locations with few libclang calls.

    A file location's raw encoding (SourceLocation.int_data) is its FileID's start in the source
    manager's address space plus its offset; each inclusion of a file is one FileID covering
    [start, start + the file's size].  Each run of top-level declarations from one header costs
    one libclang call; the others are classified by comparing integers.  Macro locations
    (token-pasted names, FRONTEND-NOTES trap 1) are asked each time.  The size is the file's on
    disk (libclang's clang_getFileContents searches every source-manager entry on each call)."""

    def __init__(self, names: "FileNames"):
        self.names = names
        self.sizes: dict = {}  # file name -> size in bytes, or None
        self.last = (1, 0, None)  # (start, end, file name) of the FileID seen last

    def file(self, loc: ci.SourceLocation) -> str | None:
        raw = loc.int_data
        start, end, name = self.last
        if start <= raw <= end:
            return name
        h, _, _, off = expansion(loc)
        name = self.names.name(h)
        if name is not None and not raw & _MACRO_BIT and off <= raw and os.path.isabs(name):
            size = self.sizes.get(name, -1)
            if size == -1:
                try:
                    size = self.sizes[name] = os.path.getsize(name)
                except OSError:
                    size = self.sizes[name] = None
            if size is not None and off <= size:
                self.last = (raw - off, raw - off + size, name)
        return name


CXEval_Int = 1


def evaluate_int(cursor: ci.Cursor) -> int | None:
    """clang_Cursor_Evaluate for integer constant expressions; None otherwise."""
    lib = _lib()
    res = lib.clang_Cursor_Evaluate(cursor)
    if not res:
        return None
    try:
        if lib.clang_EvalResult_getKind(res) != CXEval_Int:
            return None
        if lib.clang_EvalResult_isUnsignedInt(res):
            return int(lib.clang_EvalResult_getAsUnsigned(res))
        return int(lib.clang_EvalResult_getAsLongLong(res))
    finally:
        lib.clang_EvalResult_dispose(res)


# CXBinaryOperatorKind / CXUnaryOperatorKind (clang-c/Index.h, LLVM 17): the ones gfplint tests for.
BINARY_LT, BINARY_GT, BINARY_LE, BINARY_GE = 11, 12, 13, 14
BINARY_EQ, BINARY_NE, BINARY_AND, BINARY_LAND, BINARY_LOR = 15, 16, 17, 20, 21
BINARY_ASSIGN = 22
UNARY_ADDR_OF, UNARY_LNOT = 5, 10
UNARY_WRITES = (1, 2, 3, 4, UNARY_ADDR_OF)  # x++, x--, ++x, --x, &x: x may change


def binary_operator(cursor: ci.Cursor) -> int:
    """The operator of a BINARY_OPERATOR cursor, also inside macro expansions (where its text is not)."""
    return _lib().clang_getCursorBinaryOperatorKind(cursor)


def unary_operator(cursor: ci.Cursor) -> int:
    return _lib().clang_getCursorUnaryOperatorKind(cursor)


# ------------------------------------------------------------------ what runs

_K = ci.CursorKind
_NO_OPERANDS = frozenset({_K.CXX_UNARY_EXPR.value, _K.STATIC_ASSERT.value})  # sizeof, _Alignof; _Static_assert
_LAST_ONLY = frozenset({_K.CSTYLE_CAST_EXPR.value, _K.COMPOUND_LITERAL_EXPR.value})  # (typeof(f()))x
_UNEXPOSED = _K.UNEXPOSED_EXPR.value
_CALL = _K.CALL_EXPR.value
_GENERIC = _K.GENERIC_SELECTION_EXPR.value
# Builtins that only look at their argument's type or constness (gcc "Other Builtins"): the
# argument is not evaluated.  include/linux/compiler.h statically_true() and, where the compiler
# lacks __builtin_dynamic_object_size (left out here: not known to skip its argument),
# include/linux/compiler_types.h __struct_size() name calls this way.
UNEVALUATED_ARGUMENTS = frozenset({"__builtin_constant_p", "__builtin_object_size"})


def has_initializer(var_decl: ci.Cursor) -> bool:
    lib = _lib()
    return not lib.clang_Cursor_isNull(lib.clang_Cursor_getVarDeclInitializer(var_decl))


def evaluated_children(c: ci.Cursor) -> tuple:
    """The children of C that run when C does: not the operand of sizeof or _Alignof, not a
    `typeof(f())` in a declaration, cast or compound literal (libclang lists the type's expression
    before the initializer or operand), not the argument of __builtin_constant_p(), not the
    controlling expression of _Generic, not a _Static_assert, and only the arm
    __builtin_choose_expr() picks.  Kernel macros name calls this way all the time:
    include/linux/container_of.h container_of(lookup(k), ...) has lookup(k) twice in its
    static_assert() besides the one call that runs, include/linux/overflow.h struct_size()'s count
    is in a sizeof (__is_constexpr()) and in both arms of a __builtin_choose_expr().  Walkers that
    list calls use this; children() itself stays the plain AST.  (A variable-length array's size would
    run, but the kernel builds with -Wvla.)"""
    kids = children(c)
    k = c._kind_id
    if k in _NO_OPERANDS:
        return ()
    if k in _LAST_ONLY or k == VAR_DECL:
        if k == VAR_DECL and not has_initializer(c):
            return ()
        return kids[-1:]  # the operand, initializer or init list comes last
    if k == _CALL and c.spelling in UNEVALUATED_ARGUMENTS:
        return kids[:1]
    if k == _GENERIC:
        return kids[1:]  # which association is chosen is not exposed: all of them may run
    if k == _UNEXPOSED and len(kids) == 3:
        arm = choose_expr_arm(c, kids)
        if arm is not None:
            return (arm,)
    return kids


def choose_expr_arm(c: ci.Cursor, kids: tuple):
    """The arm `__builtin_choose_expr(cond, a, b)` picks, if C is one (libclang shows it as an
    unexposed expression with three children, the first an integer constant expression, and the
    type of the arm it picks); else None.  A GNU `a ?: b` has four children, an atomic builtin's
    first one is a pointer, and a range designator `[0 ... 3] = f()` (also three) has type void."""
    if kids[0].type.get_canonical().kind == ci.TypeKind.POINTER:
        return None
    cond = evaluate_int(kids[0])
    if cond is None:
        return None
    arm = kids[1] if cond else kids[2]
    if arm.type.get_canonical().spelling != c.type.get_canonical().spelling:
        return None
    return arm
