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
