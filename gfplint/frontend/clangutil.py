"""Thin helpers over the libclang Python bindings.

The PyPI bindings lack a few entry points gfplint needs (expansion and
spelling locations as offsets, constant evaluation); they are bound here
through ctypes on the same shared library.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache

import clang.cindex as ci

PARSE_OPTIONS = (
    ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD  # macro instantiations as written
    | ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES * 0
    | 0x200  # CXTranslationUnit_KeepGoing: keep parsing after fatal errors (missing headers)
)


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
    ):
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype
    lib.clang_getFileName.errcheck = ci._CXString.from_result
    return lib


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
BINARY_AND, BINARY_LAND = 17, 20
UNARY_ADDR_OF, UNARY_LNOT = 5, 10


def binary_operator(cursor: ci.Cursor) -> int:
    """The operator of a BINARY_OPERATOR cursor, also inside macro expansions (where its text is not)."""
    return _lib().clang_getCursorBinaryOperatorKind(cursor)


def unary_operator(cursor: ci.Cursor) -> int:
    return _lib().clang_getCursorUnaryOperatorKind(cursor)
