"""Macros as written, read from the source text (the parse keeps no preprocessing record)."""
from fixture_expect import EXAMPLE_INCLUDE

from gfplint.catalog import load_catalog
from gfplint.compdb import CompileUnit, plain_args
from gfplint.frontend.parse import Source, parse_unit
from gfplint.model.flags import layout


def _parse(tmp_path, text: str):
    path = tmp_path / "m.c"
    path.write_text(text)
    unit = CompileUnit(str(path), str(tmp_path), plain_args([str(EXAMPLE_INCLUDE)], []), "plain")
    return parse_unit(unit, str(tmp_path), load_catalog(), layout("6.12"))


def test_invocation_spans_the_arguments_as_written():
    src = Source("x.c", b'  p = kmalloc (n /* ) */, f(")", \')\'));\n')
    start = src.data.index(b"kmalloc")
    name, s, e = src.invocation(start)
    assert name == "kmalloc" and src.data[s:e] == b'kmalloc (n /* ) */, f(")", \')\'))'
    assert src.invocation(start + 1) is None  # not the start of an identifier
    assert src.invocation(src.data.index(b"p")) == ("p", 2, 3)  # no parenthesis: just the name
    assert src.invocation(src.data.index(b"p"), need_parens=True) is None


def test_invocations_skip_comments_strings_and_directives():
    src = Source("x.c", b"/* INIT_WORK(a, b) */ \"INIT_WORK(c, d)\"\n#define X INIT_WORK(e, f)\n"
                        b"INIT_WORK(&w, fn); goto INIT_WORK;\n")
    found = src.invocations(0, len(src.data), {"INIT_WORK"})
    assert [src.data[s:e] for _, s, e in found] == [b"INIT_WORK(&w, fn)"]
    _, s, e = found[0]
    assert [src.data[p:p + 2] for p in src.argument_starts(s, e)] == [b"&w", b"fn"]


def test_registration_macros_in_disabled_code_and_comments_register_nothing(tmp_path):
    facts = _parse(tmp_path, """#include <linux/callbacks.h>
struct dev { struct work_struct work, other, third; };
static void live_fn(struct work_struct *w) { }
static void dead_fn(struct work_struct *w) { }
static void comment_fn(struct work_struct *w) { }
void setup(struct dev *d)
{
	INIT_WORK(&d->work, live_fn);
#if 0
	INIT_WORK(&d->other, dead_fn);
#endif
	/* INIT_WORK(&d->third, comment_fn); */
}
""")
    assert [(r.function, r.api, r.line) for r in facts.registrations] == [("live_fn", "INIT_WORK", 8)]


def test_allocator_macro_inside_another_macro_keeps_its_written_name(tmp_path):
    facts = _parse(tmp_path, """#include <linux/slab.h>
#define STORE(p, v) do { (p) = (v); } while (0)
void *direct(unsigned long n)
{
	void *p;
	STORE(p, kmalloc(n, GFP_KERNEL));
	return p;
}
""")
    (site,) = facts.sites
    assert (site.api, site.line, site.column, site.call, site.gfp) == ("kmalloc", 6, 11, "kmalloc(n,GFP_KERNEL)",
                                                                      "GFP_KERNEL")
