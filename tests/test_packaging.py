"""`pip install .` ships the rules and data inside gfplint, and no top-level `rules` package."""
import subprocess
import sys
import zipfile

from fixture_expect import ROOT


def test_wheel_contents(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("gfplint-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gfplint/rules/__init__.py" in names
    assert "gfplint/rules/dead_error_path.py" in names
    assert "gfplint/data/alloc_apis.json" in names
    assert "gfplint/model/verdict.py" in names
    assert not [n for n in names if n.startswith("rules/")]
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "gfplint = gfplint.cli:main" in text


def test_rules_registry_loads_from_the_installed_package():
    from gfplint.registry import all_rules

    ids = [m.ID for m in all_rules()]
    assert ids == sorted(set(ids), key=ids.index)
    assert {"too-small-to-fail", "dead-error-path", "migrate", "unchecked-may-fail", "always-fails"} <= set(ids)
