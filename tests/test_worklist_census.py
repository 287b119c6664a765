"""Worklists per MAINTAINERS section and the census, on the example tree and on hostile input."""
import csv
import io
import json
import os
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fixture_expect import ROOT
from gfplint.cli import main
from gfplint.worklist import MAX_NAME, safe_name, safe_names


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    tree = tmp_path_factory.mktemp("k") / "examples"
    shutil.copytree(ROOT / "examples", tree)
    return tree


def invoke(args, cwd):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_worklist_markdown(example, tmp_path):
    out = tmp_path / "wl"
    res = invoke(["worklist", "--no-cache", "-j", "1", ".", "-o", str(out)], example)
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["acme-ethernet-driver.md", "index.md", "tinyfs-filesystem.md", "toy-memory-pools.md"]
    acme = (out / "acme-ethernet-driver.md").read_text()
    assert acme.startswith("# ACME ETHERNET DRIVER\n")
    assert "- Maintainers: Ada Driver <ada@example.org>" in acme and "- Lists: netdev@example.org" in acme
    bugs, migrations, inject = acme.index("## 1. Bugs"), acme.index("## 2. Migrations"), acme.index("## 3. Live")
    assert bugs < migrations < inject
    assert "**always-fails** `drivers/net/acme/acme_main.c:" in acme
    assert "### GFP_NOFAIL" in acme and "; removes lines " in acme
    assert "inject with failslab" in acme
    index = (out / "index.md").read_text()
    assert "[tinyfs-filesystem.md](tinyfs-filesystem.md)" in index


def test_worklist_json_and_csv_agree_with_census(example, tmp_path):
    res = invoke(["worklist", "--no-cache", ".", "-o", str(tmp_path / "j"), "--format", "json"], example)
    assert res.exit_code == 0, res.output
    idx = json.loads((tmp_path / "j" / "index.json").read_text())
    res = invoke(["census", "--no-cache", ".", "--json", str(tmp_path / "c.json"), "--csv", str(tmp_path / "c.csv")],
                 example)
    assert res.exit_code == 0, res.output
    census = json.loads((tmp_path / "c.json").read_text())
    dead = {r["subsystem"]: r["dead_lines"] for r in census["subsystems"]}
    assert {w["section"]: w["dead_lines"] for w in idx["worklists"]} == dead
    res = invoke(["worklist", "--no-cache", ".", "-o", str(tmp_path / "c"), "--format", "csv"], example)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c" / "tinyfs-filesystem.csv").read_text())))
    assert {r["group"] for r in rows} <= {"bug", "migrate", "fault-injection"} and rows


def test_census_rows_add_up_and_print_as_markdown(example, tmp_path):
    res = invoke(["census", "--no-cache", ".", "--json", str(tmp_path / "c.json")], example)
    doc = json.loads((tmp_path / "c.json").read_text())
    total = doc["total"]
    for key in ("sites", "dead_lines", "gfp_nofail_sites"):
        assert sum(r[key] for r in doc["subsystems"]) == total[key]
    assert total["sites"] == sum(total["verdicts"].values())
    assert doc["top_by_dead_lines"][0]["dead_lines"] >= doc["top_by_dead_lines"][-1]["dead_lines"]
    assert "| TOTAL " in res.output and "## Why may-fail sites may fail" in res.output
    assert "configuration" in doc["meta"]["coverage"] or "flags" in doc["meta"]["coverage"]
    assert all(line == line.rstrip() for line in res.output.splitlines())


def test_census_by_directory_without_maintainers(tmp_path):
    tree = tmp_path / "t"
    shutil.copytree(ROOT / "examples", tree)
    (tree / "MAINTAINERS").unlink()
    res = invoke(["census", "--no-cache", "-I", "include", "fs", "mm", "--json", str(tmp_path / "c.json")], tree)
    assert res.exit_code == 0, res.output
    rows = {r["subsystem"] for r in json.loads((tmp_path / "c.json").read_text())["subsystems"]}
    assert rows == {"fs/tinyfs", "mm"}


def test_worklist_needs_maintainers(tmp_path):
    (tmp_path / "a.c").write_text("void f(void) {}\n")
    res = invoke(["worklist", "--no-cache", "a.c", "-o", str(tmp_path / "out")], tmp_path)
    assert res.exit_code == 2 and "no MAINTAINERS file" in res.output
    assert not (tmp_path / "out").exists()


def test_plot_is_skipped_cleanly_without_matplotlib(example, tmp_path, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_matplotlib(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    res = invoke(["census", "--no-cache", ".", "--plot", str(tmp_path / "p.png")], example)
    assert res.exit_code == 0
    assert "matplotlib is not installed" in res.output and "plot skipped" in res.output
    assert not (tmp_path / "p.png").exists()


def test_plot_when_matplotlib_is_there(example, tmp_path):
    import matplotlib  # noqa: F401  (in the test extra: missing means a broken set-up, not a skip)
    res = invoke(["census", "--no-cache", ".", "--plot", str(tmp_path / "p.png")], example)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


HOSTILE = """\
../../etc/passwd
S:	Maintained
F:	drivers/net/acme/

.hidden
S:	Maintained
F:	fs/tinyfs/

a/b\\c:d*e?f|g<h>"
S:	Orphan
F:	mm/

THE REST
S:	Buried alive in reports
F:	*
F:	*/
"""


def test_hostile_section_names_stay_inside_the_output_dir(example, tmp_path):
    tree = tmp_path / "t"
    shutil.copytree(example, tree)
    (tree / "MAINTAINERS").write_text(HOSTILE)
    out = tmp_path / "deep" / "out"
    res = invoke(["worklist", "--no-cache", ".", "-o", str(out)], tree)
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in out.iterdir())
    assert written == [".gfplint-worklist", "a-b-c-d-e-f-g-h.md", "etc-passwd.md", "hidden.md", "index.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "t"]
    assert "ORPHAN" in (out / "a-b-c-d-e-f-g-h.md").read_text()


def test_read_only_output_directory_leaves_nothing(example, tmp_path, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    if os.geteuid() == 0:
        # root ignores permission bits: make the write fail the way a read-only directory does
        import tempfile

        def refuse(*a, **k):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    else:
        out.chmod(0o555)
    try:
        res = invoke(["worklist", "--no-cache", ".", "-o", str(out)], example)
    finally:
        out.chmod(0o755)
    assert res.exit_code == 2
    assert "cannot write worklists" in res.output and "Permission denied" in res.output
    assert list(out.iterdir()) == []


def test_stale_worklists_of_an_earlier_run_are_removed(example, tmp_path):
    out = tmp_path / "wl"
    invoke(["worklist", "--no-cache", ".", "-o", str(out)], example)
    (out / "notes.txt").write_text("mine")
    invoke(["worklist", "--no-cache", "fs", "-o", str(out)], example)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "index.md", "notes.txt", "tinyfs-filesystem.md"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_safe_names(titles):
    names = safe_names(titles)
    stems = list(names.values())
    assert len(set(stems)) == len(set(titles))
    for stem in stems:
        assert stem and len(stem) <= MAX_NAME
        assert "/" not in stem and "\\" not in stem and ".." not in stem and not stem.startswith(".")
        assert stem not in ("index", "con", "nul")
        assert all(c.isascii() and (c.isalnum() or c in "-_") for c in stem)


def test_collisions_are_disambiguated():
    assert safe_names(["A B", "a-b", "A/B"]) == {"A B": "a-b", "a-b": "a-b-2", "A/B": "a-b-3"}
    assert safe_name("x" * 500) == "x" * MAX_NAME


def test_two_apis_at_one_location_are_two_sites():
    from types import SimpleNamespace as NS

    from gfplint.census import compute
    from gfplint.findings import Finding
    from gfplint.subsystems import group

    def result(api):
        site = NS(file="mm/x.c", line=3, column=5, api=api, masks=[["__GFP_DIRECT_RECLAIM"]])
        return NS(site=site, verdict="may-fail", reasons=("atomic",), dead_lines=[])

    sites = [result("kmalloc"), result("kmem_cache_alloc")]
    bug = Finding("unchecked-may-fail", "warning", "mm/x.c", 3, 5, "f", "m", api="kmem_cache_alloc")
    subs = group(NS(program=NS(sites=sites), findings=[bug]), None)
    items = subs["mm"].items
    assert len(items) == 2
    assert [len(i.findings) for i in items] == [0, 1] or [len(i.findings) for i in items] == [1, 0]
    assert compute(subs, {})["total"]["sites"] == 2


def test_every_site_result_is_counted_even_at_a_shared_location():
    from types import SimpleNamespace as NS

    from gfplint.census import compute
    from gfplint.subsystems import group

    site = NS(file="mm/filemap.c", line=9, column=1, api="filemap_alloc_folio", masks=None)
    twice = [NS(site=site, verdict="unknown", reasons=(), dead_lines=[]) for _ in range(2)]
    assert compute(group(NS(program=NS(sites=twice), findings=[]), None), {})["total"]["sites"] == 2
