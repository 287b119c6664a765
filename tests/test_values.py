"""frontend/values.py: the one constant a call or a local has in this configuration."""
import clang.cindex as ci

from gfplint.frontend import clangutil as cu
from gfplint.frontend.fields import Writes
from gfplint.frontend.values import Values, literal_value

K = ci.CursorKind

SOURCE = """
typedef unsigned char u8;
#define NULL ((void *)0)
#define IS_ENABLED(x) 0
u8 wraps(void) { return (u8)256; }
void *stub(void) { return NULL; }
static int gated(int *p)
{
	if (!IS_ENABLED(CONFIG_X) || !p)
		return -12;
	return *p;
}
static int either(int *p)
{
	if (p)
		return 1;
	return 0;
}
static int deeper(void) { return gated(0); }
int __attribute__((__weak__)) arch_default(void) { return 0; }
"""


def _functions(tmp_path):
    path = tmp_path / "v.c"
    path.write_text(SOURCE)
    tu = ci.Index.create().parse(str(path), options=cu.PARSE_OPTIONS)
    return tu, {c.spelling: c for c in tu.cursor.get_children() if c.kind == K.FUNCTION_DECL}


def _first(cursor, kind):
    return next(c for c in cursor.walk_preorder() if c.kind == kind)


def test_literal_values_keep_their_casts_and_null(tmp_path):
    tu, fns = _functions(tmp_path)
    assert literal_value(_first(_first(fns["wraps"], K.RETURN_STMT), K.CSTYLE_CAST_EXPR)) == 0
    ret = _first(fns["stub"], K.RETURN_STMT)
    assert literal_value(list(ret.get_children())[0]) == 0


def test_a_call_is_known_only_when_every_reachable_return_gives_one_literal(tmp_path):
    tu, fns = _functions(tmp_path)
    value = Values(Writes(), {})

    def returns(name):
        return value.call(_first(fns["deeper"], K.CALL_EXPR)) if name == "deeper" else value._constant_return(fns[name], 0)

    assert returns("gated") == -12  # `return *p` is after a return that always runs
    assert returns("either") is None  # two values
    assert returns("deeper") == -12  # through one more call
    assert returns("arch_default") is None  # __weak: another TU may replace it
