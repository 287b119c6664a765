"""The Facts cache: warm runs parse nothing; content, header, flag, version and catalog changes invalidate."""
import json

import pytest

import gfplint.cache as cache_mod
import gfplint.parallel as parallel
from fixture_expect import EXAMPLE_INCLUDE
from gfplint.analysis import Inputs, analyse
from gfplint.parallel import FrontEndOptions
from gfplint.report import to_json

SRC = '#include <linux/slab.h>\n#include "local.h"\nvoid *f(void) { void *p = kmalloc(SIZE, GFP_KERNEL); if (!p) return 0; return p; }\n'


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "local.h").write_text("#define SIZE 64\n")
    (tmp_path / "a.c").write_text(SRC)
    (tmp_path / "b.c").write_text(SRC.replace("f(void)", "g(void)").replace('#include "local.h"\n', "#define SIZE 8\n"))
    return tmp_path


@pytest.fixture
def parsed(monkeypatch):
    """The base names of the TUs the front end really parsed, per run."""
    seen = []

    def counting(unit, root, catalog, kernel):
        seen.append(unit.file.rsplit("/", 1)[-1])
        return parallel.parse_unit_task(unit, root, catalog, kernel)

    monkeypatch.setattr(parallel, "PARSE_TASK", counting)
    return seen


def run(tree, defines=(), catalog=None, cache_dir=None):
    inp = Inputs([str(tree)], includes=[str(EXAMPLE_INCLUDE)], defines=list(defines), catalog=catalog, cwd=str(tree))
    inp.front_end = FrontEndOptions(jobs=0, use_cache=True, cache_dir=str(cache_dir or tree / "cache"))
    return analyse(inp)


def test_warm_run_parses_nothing_and_matches_cold(tree, parsed):
    cold = run(tree)
    assert sorted(parsed) == ["a.c", "b.c"]
    parsed.clear()
    warm = run(tree)
    assert parsed == []
    assert warm.front_end.cache_hits == 2
    assert to_json(warm) == to_json(cold)


def test_touching_a_c_file_reparses_only_it(tree, parsed):
    run(tree)
    parsed.clear()
    (tree / "b.c").write_text((tree / "b.c").read_text() + "/* edited */\n")
    run(tree)
    assert parsed == ["b.c"]


def test_mtime_alone_is_not_a_change(tree, parsed):
    run(tree)
    parsed.clear()
    import os
    os.utime(tree / "a.c", (1, 1))
    run(tree)
    assert parsed == []


def test_touching_a_header_reparses_exactly_its_includers(tree, parsed):
    first = run(tree)
    assert {s.site.size for s in first.program.sites} == {64, 8}
    parsed.clear()
    (tree / "local.h").write_text("#define SIZE 65536\n")
    again = run(tree)
    assert parsed == ["a.c"]
    assert {s.site.size for s in again.program.sites} == {65536, 8}


def test_flags_are_part_of_the_key(tree, parsed):
    run(tree)
    parsed.clear()
    run(tree, defines=["CONFIG_X=1"])
    assert sorted(parsed) == ["a.c", "b.c"]


def test_gfplint_version_is_part_of_the_key(tree, parsed, monkeypatch):
    run(tree)
    parsed.clear()
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: "a newer gfplint")
    run(tree)
    assert sorted(parsed) == ["a.c", "b.c"]


def test_catalog_is_part_of_the_key(tree, parsed):
    run(tree)
    parsed.clear()
    extra = tree / "extra.json"
    extra.write_text(json.dumps({"apis": [{"api": "my_alloc", "backend": "kmalloc", "failure": "null",
                                           "alloc_only": True, "gfp": 1, "size": 0}]}))
    run(tree, catalog=str(extra))
    assert sorted(parsed) == ["a.c", "b.c"]


def entries(cache_dir):
    return sorted(cache_dir.glob("v1/*/*.json"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_corrupt_entries_are_dropped_and_rebuilt(tree, parsed, damage):
    cold = run(tree)
    victims = entries(tree / "cache")
    assert len(victims) == 2
    data = victims[0].read_bytes()
    victims[0].write_bytes({"truncate": data[: len(data) // 2], "flip": data[:-10] + b"X" + data[-9:],
                            "empty": b"", "garbage": b"\x00\xff" * 100}[damage])
    parsed.clear()
    again = run(tree)
    assert len(parsed) == 1  # the damaged TU, parsed again
    assert json.loads(to_json(again))["sites"] == json.loads(to_json(cold))["sites"]
    assert json.loads(to_json(again))["findings"] == json.loads(to_json(cold))["findings"]
    assert any("corrupt cache entries" in d.message for d in again.program.diagnostics)
    parsed.clear()
    run(tree)
    assert parsed == []  # and stored whole again


def test_unwritable_cache_costs_speed_not_results(tree, parsed):
    blocker = tree / "cache"
    blocker.write_text("a file where the cache directory should be")
    result = run(tree)
    assert len(result.program.sites) == 2
    assert any("not writable" in d.message for d in result.program.diagnostics)


def test_cache_clean(tree, tmp_path):
    from click.testing import CliRunner

    from gfplint.cli import main

    run(tree)
    res = CliRunner().invoke(main, ["cache", "clean", "--cache-dir", str(tree / "cache")])
    assert res.exit_code == 0, res.output
    assert "removed 2 cache entries" in res.output
    assert not (tree / "cache").exists()


def test_cache_clean_refuses_a_directory_that_is_not_a_cache(tmp_path):
    from click.testing import CliRunner

    from gfplint.cli import main

    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    res = CliRunner().invoke(main, ["cache", "clean", "--cache-dir", str(precious)])
    assert res.exit_code == 2
    assert "not a gfplint cache" in res.output
    assert (precious / "thesis.tex").exists()


def test_no_cache_writes_nothing(tmp_path):
    import subprocess
    import sys

    (tmp_path / "a.c").write_text(SRC.replace('#include "local.h"\n', "#define SIZE 8\n"))
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", "-I", str(EXAMPLE_INCLUDE), "--no-cache",
                           "--fail-on", "never", "a.c"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / ".gfplint-cache").exists()
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", "-I", str(EXAMPLE_INCLUDE),
                           "--fail-on", "never", "a.c"], cwd=tmp_path, capture_output=True, text=True)
    assert (tmp_path / ".gfplint-cache" / "CACHEDIR.TAG").exists()


def test_run_salt_does_not_depend_on_the_hash_seed(tmp_path):
    """The catalogs hold frozensets; a key built from their repr() changed with PYTHONHASHSEED, so
    every new process missed the whole cache (found on the 2,852-TU run: a 'warm' run re-parsed)."""
    import os
    import subprocess
    import sys

    code = ("from gfplint.analysis import Inputs, _catalog; from gfplint.cache import run_salt; "
            "print(run_salt('/tmp', '6.12', _catalog(Inputs([]))))")
    salts = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONHASHSEED=seed)).stdout for seed in ("1", "2", "3")}
    assert len(salts) == 1 and len(next(iter(salts)).strip()) == 64, salts


def test_fingerprint_covers_everything_the_front_end_imports():
    # A fresh interpreter: which gfplint modules does making Facts load?  Each must be hashed,
    # or a change to it would keep serving Facts made by the old code.
    import subprocess
    import sys

    code = ("import sys, gfplint.frontend.parse, gfplint.parallel; "
            "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.startswith('gfplint')))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    pkg = cache_mod.Path(cache_mod.__file__).parent
    loaded = sorted(str(cache_mod.Path(f).relative_to(pkg)).replace("\\", "/") for f in out.split())
    assert "frontend/parse.py" in loaded and "facts.py" in loaded
    assert [f for f in loaded if not f.startswith(cache_mod.FRONT_END_CODE)] == []


def test_linker_changes_keep_the_facts():
    # rules, linking and reports are not part of the key: changing them reuses a whole-kernel parse
    assert not "program.py".startswith(cache_mod.FRONT_END_CODE)
    assert not "rules/sleep_in_atomic.py".startswith(cache_mod.FRONT_END_CODE)
    assert "frontend/cfg.py".startswith(cache_mod.FRONT_END_CODE)
