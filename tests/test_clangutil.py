"""The front end's cheaper libclang helpers agree with the bindings they replace."""
import clang.cindex as ci
from fixture_expect import EXAMPLE_INCLUDE, FIXTURES

from gfplint.compdb import plain_args
from gfplint.frontend import clangutil as cu


def _tu(path):
    return ci.Index.create().parse(str(path), args=list(plain_args([str(EXAMPLE_INCLUDE)], [])),
                                   options=cu.PARSE_OPTIONS)


def test_children_match_the_bindings_and_are_memoized():
    tu = _tu(FIXTURES / "calls.c")
    try:
        for c in tu.cursor.walk_preorder():
            if c.kind == ci.CursorKind.FUNCTION_DECL and c.is_definition():
                mine = cu.children(c)
                assert list(mine) == list(c.get_children())
                assert cu.children(c) is mine  # the same Cursor objects for later passes
                assert all(ch._tu is tu for ch in mine)
    finally:
        cu.clear_cache()


def test_expansion_files_match_expansion_locations(tmp_path):
    (tmp_path / "inc.h").write_text("static inline int in_header(void) { return 1; }\nint declared(void);\n")
    (tmp_path / "part.c").write_text("int in_part(void) { return 2; }\n")
    (tmp_path / "m.c").write_text('#include "inc.h"\n#include <linux/callbacks.h>\n'
                                  'SYSCALL_DEFINE1(pasted, int, a) { return a; }\n'
                                  '#include "part.c"\n#include "inc.h"\nint after(void) { return 3; }\n')
    tu = _tu(tmp_path / "m.c")
    decls = cu.top_level_decls(tu)
    names = cu.FileNames()
    files = cu.ExpansionFiles(names)
    got = [files.file(c.location) for c in decls]
    want = [names.name(cu.expansion(c.location)[0]) for c in decls]
    assert got == want
    by_name = {c.spelling: f for c, f in zip(decls, got)}
    assert by_name["in_part"].endswith("part.c") and by_name["after"].endswith("m.c")
    assert by_name["__do_sys_pasted"].endswith("m.c") and by_name["in_header"].endswith("inc.h")


def test_one_walk_of_an_inline_body_agrees_with_the_separate_walks():
    # context._inline_body() replaces cfg.calls_in() and _unconditional_calls() on header inlines
    from gfplint.frontend import cfg
    from gfplint.frontend.context import _inline_body, _unconditional_calls

    tu = _tu(FIXTURES / "calls.c")
    try:
        seen = 0
        for c in tu.cursor.walk_preorder():
            if c.kind != ci.CursorKind.FUNCTION_DECL or not c.is_definition():
                continue
            body = next((k for k in cu.children(c) if k.kind == ci.CursorKind.COMPOUND_STMT), None)
            calls, always, _ = _inline_body(body)
            assert [x.hash for x in calls] == [x.hash for _, x in cfg.calls_in(body)]
            assert always == _unconditional_calls(body)
            seen += bool(calls)
        assert seen > 20
    finally:
        cu.clear_cache()


UNEVALUATED = """
int f(int);
int g(void);
struct s { int x, y; };
struct t { int a[8]; };
#define MIN(a, b) ({ typeof(a) _a = (a); typeof(b) _b = (b); __builtin_constant_p(a) ? 0 : _a < _b ? _a : _b; })
void h(int x)
{
	int a = f(1) ?: g();                                  /* GNU ?: lists f(1) three times */
	int b = __builtin_choose_expr(1, f(2), g());
	int c = __builtin_choose_expr(0, f(3), g());
	int d = __builtin_constant_p(f(4)) + __builtin_object_size((void *)(long)f(5), 0);
	int k = (typeof(f(6)))x;
	typeof(f(7)) m;
	int n = sizeof(f(9)) + _Alignof(typeof(f(15)));
	int arr[4] = { [0 ... 2] = f(10) };                   /* range designator: three children too */
	struct s sa[2] = { [1].x = f(11) };
	int q = _Generic(f(12), int: f(13), default: g());
	_Static_assert(__builtin_types_compatible_p(typeof(f(16)), int), "");  /* container_of() */
	int r = MIN(f(17), 3);
	unsigned long o = __builtin_offsetof(struct t, a[f(18)]);  /* runs: an index that is not constant */
	__builtin_choose_expr(1, (void)f(14), (void)g());
}
"""


def _calls(c, kids, out):
    for ch in kids(c):
        _calls(ch, kids, out)
    if c.kind == ci.CursorKind.CALL_EXPR and c.spelling in ("f", "g"):
        args = list(c.get_children())[1:]
        out.append(c.spelling + (next(args[0].get_tokens()).spelling if args else ""))
    return out


def test_evaluated_children_leave_out_what_never_runs(tmp_path):
    (tmp_path / "u.c").write_text(UNEVALUATED)
    tu = ci.Index.create().parse(str(tmp_path / "u.c"), args=["-std=gnu11"], options=cu.PARSE_OPTIONS)
    try:
        h = next(c for c in tu.cursor.get_children() if c.spelling == "h")
        every = _calls(h, cu.children, [])
        ran = _calls(h, cu.evaluated_children, [])
    finally:
        cu.clear_cache()
    assert every.count("f17") == 3  # in the typeof, under __builtin_constant_p() and initializing _a
    assert ran == ["f1", "f1", "f1", "g", "f2", "g", "f10", "f11", "f13", "g", "f17", "f18", "f14"]
