"""Every fixture under tests/fixtures/ matches the expectations written beside its lines."""
import pytest

from fixture_expect import FIXTURES, check_fixture

FIXTURE_FILES = sorted(p.name for p in FIXTURES.glob("*.c"))


def test_fixture_files_exist():
    assert len(FIXTURE_FILES) >= 5, FIXTURE_FILES


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture(name):
    check_fixture(name)
