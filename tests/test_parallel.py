"""Worker processes: results independent of --jobs; a crashed, hung or failing TU costs only itself."""
import shutil
import subprocess
import sys

import pytest

import gfplint.parallel as parallel
import worker_faults
from fixture_expect import EXAMPLE_INCLUDE, ROOT
from gfplint.analysis import Inputs, analyse
from gfplint.parallel import FrontEndOptions
from gfplint.report import to_json

GOOD = '#include <linux/slab.h>\nvoid *{name}(void) {{ void *p = kmalloc(64, GFP_KERNEL); if (!p) return 0; return p; }}\n'


def analyse_dir(path, jobs, timeout=120.0):
    inp = Inputs([str(path)], includes=[str(EXAMPLE_INCLUDE)], cwd=str(path))
    inp.front_end = FrontEndOptions(jobs=jobs, tu_timeout=timeout)
    return analyse(inp)


def test_results_do_not_depend_on_jobs(tmp_path):
    tree = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", tree)
    inp = lambda jobs: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "gfplint", "check", "--no-cache", "-j", str(jobs), "--format", "json",
         "--fail-on", "never", "."], cwd=tree, capture_output=True, text=True)
    one, two, three = inp(1), inp(2), inp(3)
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout == three.stdout
    in_process = analyse(Inputs([str(tree)], cwd=str(tree)))
    assert to_json(in_process) == one.stdout


@pytest.mark.parametrize("bad,why", [
    ("crash.c", "killed by SIGSEGV"),
    ("killed.c", "killed by SIGKILL"),
    ("raise.c", "front end failed: RuntimeError: front end bug"),
])
def test_a_dead_worker_costs_only_its_tu(tmp_path, monkeypatch, bad, why):
    monkeypatch.setattr(parallel, "PARSE_TASK", worker_faults.crash_on_marked)
    for name in ("a.c", "b.c", "c.c"):
        (tmp_path / name).write_text(GOOD.format(name=name[0]))
    (tmp_path / bad).write_text(GOOD.format(name="bad"))
    result = analyse_dir(tmp_path, jobs=2)
    assert sorted(s.site.file for s in result.program.sites) == ["a.c", "b.c", "c.c"]
    errors = [d for d in result.program.diagnostics if d.severity == "error"]
    assert [(d.file, why in d.message) for d in errors] == [(bad, True)]
    assert result.program.tus == 4 and result.program.tus_with_errors == 1
    assert result.front_end.failed == 1


def test_a_hung_tu_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "PARSE_TASK", worker_faults.crash_on_marked)
    (tmp_path / "a.c").write_text(GOOD.format(name="a"))
    (tmp_path / "hang.c").write_text(GOOD.format(name="h"))
    # long enough for a.c on a loaded machine (a worker's start and a parse), short beside the hang
    result = analyse_dir(tmp_path, jobs=1, timeout=10)
    assert [s.site.file for s in result.program.sites] == ["a.c"]
    assert any(d.file == "hang.c" and "--tu-timeout" in d.message for d in result.program.diagnostics)


def test_in_process_front_end_failure_is_a_diagnostic(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "PARSE_TASK", worker_faults.crash_on_marked)
    (tmp_path / "a.c").write_text(GOOD.format(name="a"))
    (tmp_path / "raise.c").write_text(GOOD.format(name="r"))
    result = analyse_dir(tmp_path, jobs=0)
    assert [s.site.file for s in result.program.sites] == ["a.c"]
    assert any(d.file == "raise.c" and "RuntimeError" in d.message for d in result.program.diagnostics)


def test_killed_worker_through_the_cli(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gfplint.cli import main

    monkeypatch.setattr(parallel, "PARSE_TASK", worker_faults.crash_on_marked)
    (tmp_path / "a.c").write_text(GOOD.format(name="a"))
    (tmp_path / "crash.c").write_text(GOOD.format(name="c"))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "-j", "2", "--no-cache", "--format", "json",
                                    "-o", str(out), "--fail-on", "never", str(tmp_path)])
    assert res.exit_code == 0, res.output
    import json
    doc = json.loads(out.read_text())
    assert [s["file"].rsplit("/", 1)[-1] for s in doc["sites"]] == ["a.c"]
    assert any("SIGSEGV" in d["message"] for d in doc["diagnostics"])


def test_progress_protocol_and_old_callable(tmp_path):
    (tmp_path / "a.c").write_text(GOOD.format(name="a"))
    seen = []
    analyse(Inputs([str(tmp_path)], includes=[str(EXAMPLE_INCLUDE)], cwd=str(tmp_path)), progress=seen.append)
    assert [u.file.rsplit("/", 1)[-1] for u in seen] == ["a.c"]


def test_no_progress_bar_when_not_a_terminal(tmp_path):
    (tmp_path / "a.c").write_text(GOOD.format(name="a"))
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", "-I", str(EXAMPLE_INCLUDE), "--no-cache",
                           "a.c"], cwd=tmp_path, capture_output=True, text=True)
    assert "\x1b[" not in proc.stderr and "parsing" not in proc.stderr


def test_progress_bar_counts(tmp_path):
    import io

    from gfplint.progress import BarProgress, make_progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert make_progress(quiet=True, stream=Tty()) is None
    assert make_progress(quiet=False, stream=io.StringIO()) is None
    bar = make_progress(quiet=False, stream=Tty())
    assert isinstance(bar, BarProgress)
    bar.start(3)
    bar.advance(cached=True)
    bar.advance(failed=True)
    bar.advance()
    bar.finish()
    assert (bar.hits, bar.errors) == (1, 1)
