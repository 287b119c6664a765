"""Hostile input: the CLI ends cleanly, with the documented exit code, a clear message,
no partial output file, and every other translation unit's results intact.

Big inputs are generated in tmp_path.  Worker processes are used (the CLI default).
"""
import json
import os
import random
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixture_expect import EXAMPLE_INCLUDE

GOOD = ('#include <linux/slab.h>\n'
        'void *good(void) { void *p = kmalloc(64, GFP_KERNEL); if (!p) return 0; return p; }\n')


def gfplint(args, cwd):
    return subprocess.run([sys.executable, "-m", "gfplint", *args], cwd=cwd, capture_output=True)


def check_json(tmp_path, *paths, extra=()):
    """Run check with -o; the parsed report (None when there is none) and the process."""
    out = tmp_path / "report.json"
    proc = gfplint(["check", "-I", str(EXAMPLE_INCLUDE), "--no-cache", "-j", "2", "--format", "json",
                    "-o", str(out), "--fail-on", "never", *extra, *paths], tmp_path)
    doc = json.loads(out.read_text()) if out.exists() else None
    return doc, proc


def assert_clean(proc, codes=(0,)):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in codes, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    return err


def good_sites(doc):
    return [s for s in doc["sites"] if s["function"] == "good"]


def leftovers(tmp_path):
    return [p.name for p in tmp_path.iterdir() if p.name.startswith(".gfplint-")]


def test_random_bytes_and_truncated_c(tmp_path):
    rnd = random.Random(6)
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / "noise.c").write_bytes(bytes(rnd.randrange(1, 256) for _ in range(4096)))  # no NUL: "text"
    (tmp_path / "binary.c").write_bytes(bytes(rnd.randrange(0, 256) for _ in range(4096)) + b"\0")
    (tmp_path / "truncated.c").write_text(GOOD.replace("good", "cut")[:-30])
    doc, proc = check_json(tmp_path, ".")
    assert_clean(proc)
    assert len(good_sites(doc)) == 1
    files = {d["file"] for d in doc["diagnostics"]}
    assert {"noise.c", "binary.c", "truncated.c"} <= files
    assert leftovers(tmp_path) == []


def test_twenty_megabyte_file(tmp_path):
    big = tmp_path / "big.c"
    with open(big, "w") as f:
        f.write("#include <linux/slab.h>\n/*\n")
        line = "generated filler " * 58 + "\n"
        while f.tell() < 20 * 1024 * 1024:
            f.write(line * 1000)
        f.write("*/\n")
        for i in range(200):
            f.write(f"void *f{i}(void) {{ void *p = kmalloc({i + 1}, GFP_KERNEL); if (!p) return 0; return p; }}\n")
    (tmp_path / "good.c").write_text(GOOD)
    assert big.stat().st_size >= 20 * 1024 * 1024
    doc, proc = check_json(tmp_path, "big.c", "good.c")
    assert_clean(proc)
    assert sum(1 for s in doc["sites"] if s["file"] == "big.c") == 200
    assert len(good_sites(doc)) == 1


def test_ten_thousand_deep_expressions(tmp_path):
    (tmp_path / "deep.c").write_text(
        "int sum(int x) { return " + "1 + " * 10000 + "x; }\n"
        "int par(int x) { return " + "(" * 10000 + "x" + ")" * 10000 + "; }\n")
    (tmp_path / "good.c").write_text(GOOD)
    doc, proc = check_json(tmp_path, ".")
    err = assert_clean(proc)
    assert len(good_sites(doc)) == 1
    deep = [d["message"] for d in doc["diagnostics"] if d["file"] == "deep.c"]
    assert any("nesting" in m for m in deep), deep  # clang's own limit for the parenthesized one
    assert "Traceback" not in err


def test_exponential_macros(tmp_path):
    lines = ["#define A0 x"] + [f"#define A{i} A{i - 1} + A{i - 1}" for i in range(1, 19)]
    (tmp_path / "expo.c").write_text("\n".join(lines) + "\nint f(int x) { return A18; }\n")
    (tmp_path / "good.c").write_text(GOOD)
    doc, proc = check_json(tmp_path, ".")
    assert_clean(proc)
    assert len(good_sites(doc)) == 1


def test_non_utf8_names_and_contents(tmp_path):
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / b"caf\xe9.c".decode("utf-8", "surrogateescape")).write_bytes(b"/* \xff\xfe caf\xe9 */\n" + GOOD.replace("good", "latin").encode())
    (tmp_path / "latin1.c").write_bytes(b"/* \xe9\xe8 */\nchar *s = \"\xff\";\n" + GOOD.replace("good", "other").encode())
    doc, proc = check_json(tmp_path, ".")
    assert_clean(proc)
    assert len(good_sites(doc)) == 1
    assert any(s["function"] == "other" for s in doc["sites"])
    assert any("UTF-8" in d["message"] for d in doc["diagnostics"])


def test_symlink_loops_in_the_tree(tmp_path):
    (tmp_path / "good.c").write_text(GOOD)
    sub = tmp_path / "sub"
    sub.mkdir()
    os.symlink("..", sub / "up")
    os.symlink(".", sub / "self")
    os.symlink("nowhere.c", tmp_path / "dangling.c")
    os.symlink("loop2.c", tmp_path / "loop1.c")
    os.symlink("loop1.c", tmp_path / "loop2.c")
    doc, proc = check_json(tmp_path, ".")
    assert_clean(proc)
    assert len(good_sites(doc)) == 1
    assert {"dangling.c", "loop1.c", "loop2.c"} <= {d["file"] for d in doc["diagnostics"]}


def test_compile_database_shell_metacharacters_never_reach_a_shell(tmp_path):
    (tmp_path / "good.c").write_text(GOOD)
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    (outside / "far.c").write_text(GOOD.replace("good", "far"))
    canary = tmp_path / "PWNED"
    db = [
        {"directory": str(tmp_path), "file": "good.c",
         "command": f"gcc -I{EXAMPLE_INCLUDE} -c good.c; touch {canary} $(touch {canary}2) `touch {canary}3` | sh"},
        {"directory": str(tmp_path), "file": str(outside / "far.c"), "arguments": ["gcc", f"-I{EXAMPLE_INCLUDE}", "-c", str(outside / "far.c")]},
        {"directory": str(tmp_path), "file": "../../../../../no/such/dir/x.c", "arguments": ["gcc", "-c", "x.c"]},
    ]
    (tmp_path / "compile_commands.json").write_text(json.dumps(db))
    doc, proc = check_json(tmp_path, extra=("-p", "compile_commands.json"))
    assert_clean(proc)
    assert not list(tmp_path.glob("PWNED*"))
    assert len(good_sites(doc)) == 1
    assert any(s["function"] == "far" for s in doc["sites"])  # outside the root: absolute path, still analysed
    assert any("x.c" in d["file"] for d in doc["diagnostics"])


def test_output_never_partial_when_input_is_unusable(tmp_path):
    (tmp_path / "compile_commands.json").write_text("[{\"directory\": 1}]")
    out = tmp_path / "r.json"
    proc = gfplint(["check", "-p", "compile_commands.json", "-o", str(out)], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1 and "gfplint: error:" in proc.stderr.decode()
    assert not out.exists() and leftovers(tmp_path) == []


# ---------------------------------------------------------------- hypothesis on parser-facing pieces

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
entries = st.one_of(
    json_scalars,
    st.dictionaries(st.sampled_from(["directory", "file", "command", "arguments", "output"]),
                    st.one_of(json_scalars, st.lists(st.text(max_size=10), max_size=4)), max_size=5),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.lists(entries, max_size=5), json_scalars, st.text(max_size=50)))
def test_any_compile_database_is_loaded_or_refused_in_one_line(tmp_path, doc):
    from gfplint.compdb import CompdbError, load_compdb

    path = tmp_path / "compile_commands.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    try:
        units = load_compdb(path)
    except CompdbError as e:
        assert "\n" not in str(e)
    else:
        assert all(u.file.endswith(".c") for u in units)


gfp_words = st.sampled_from(["GFP_KERNEL", "GFP_ATOMIC", "__GFP_NOFAIL", "__GFP_NORETRY", "GFP_NOFS", "gfp",
                             "flags", "0", "1", "~", "|", "&", "(", ")", "?", ":", "^", "!", "<<", "x->gfp", ",",
                             "__GFP_ZERO", "GFP_USER", "-", "+", "sizeof"])


@settings(max_examples=300, deadline=None)
@given(st.lists(gfp_words, max_size=25).map(" ".join) | st.text(max_size=40))
def test_any_gfp_expression_resolves_or_is_unresolved(text):
    from gfplint.frontend.ctext import GfpEnv, Unresolved, eval_gfp
    from gfplint.model.flags import layout

    try:
        masks = eval_gfp(text, GfpEnv(layout("6.12")))
    except Unresolved:
        return
    assert all(isinstance(m, frozenset) for m in masks)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.sampled_from(
    ["--- a/x.c", "+++ b/x.c", "+++ /dev/null", "@@ -1,3 +1,4 @@", "@@ -0,0 +1 @@", "@@ bogus @@", "+x", "-y", " z",
     "diff --git a/x.c b/x.c", "\\ No newline at end of file"])), max_size=30))
def test_any_diff_is_read_or_refused(lines):
    from gfplint.diffscope import DiffError, changed_lines

    try:
        changed = changed_lines("\n".join(lines))
    except DiffError:
        return
    assert all(isinstance(v, set) for v in changed.values())
