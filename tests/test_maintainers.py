"""MAINTAINERS parsing and matching, the way scripts/get_maintainer.pl does it."""
from hypothesis import given, settings
from hypothesis import strategies as st

from gfplint.maintainers import glob_regex, parse

# Every pattern form: directory with and without trailing slash, files in one
# directory only (*), ? wildcards, a leading * (any top-level directory), X:
# exclusions of a subdirectory and of a file, N: regexes, and THE REST.
EXCERPT = """\
List of maintainers (preamble, as in the kernel's file)

Descriptions of section entries and preferred order
	M: *Mail* patch to: FullName <address@domain>
	F: *Files* and directories wildcard patterns.

Maintainers List
----------------

MEMORY MANAGEMENT
M:	Andrew Morton <akpm@example.org>
L:	linux-mm@example.org
S:	Maintained
F:	mm/
F:	include/linux/gfp.h
X:	mm/slub.c

SLAB ALLOCATOR
M:	Vlastimil Babka <vbabka@example.org>
R:	Roman Gushchin <roman@example.org>
L:	linux-mm@example.org
S:	Maintained
F:	mm/slub.c
F:	mm/slab*
F:	include/linux/sl?b.h

NETWORKING DRIVERS
M:	Net Dev <net@example.org>
L:	netdev@example.org
S:	Odd Fixes
F:	drivers/net/
X:	drivers/net/wireless/

INTEL ETHERNET DRIVERS
M:	Intel Wired <intel@example.org>
S:	Supported
F:	drivers/net/ethernet/intel/*
F:	drivers/net/ethernet/intel/e1000e/

TEGRA ARCHITECTURE SUPPORT
M:	Tegra Person <tegra@example.org>
S:	Supported
N:	[^a-z]tegra

ANY NET DIRECTORY
M:	Someone <someone@example.org>
S:	Supported
F:	*/net/*.c

OLD DRIVER
S:	Obsolete
F:	drivers/old/

ORPHANED THING
S:	Orphan
F:	drivers/orphan/
K:	\\borphan_alloc\\b

THE REST
M:	Linus Torvalds <torvalds@example.org>
L:	linux-kernel@example.org
S:	Buried alive in reports
F:	*
F:	*/
"""

M = parse(EXCERPT)


def titles(path):
    return [s.title for s in M.match(path)]


def test_sections_and_fields():
    assert [s.title for s in M.sections][:2] == ["MEMORY MANAGEMENT", "SLAB ALLOCATOR"]
    slab = M.by_title("SLAB ALLOCATOR")
    assert slab.maintainers == ["Vlastimil Babka <vbabka@example.org>"]
    assert slab.reviewers == ["Roman Gushchin <roman@example.org>"]
    assert slab.lists == ["linux-mm@example.org"] and slab.status == "Maintained"
    assert M.by_title("ORPHANED THING").keywords == ["\\borphan_alloc\\b"]
    assert len(M.sections) == 9  # the preamble's indented examples start no section


def test_trailing_slash_means_everything_below():
    assert titles("mm/page_alloc.c") == ["MEMORY MANAGEMENT"]
    assert titles("mm/damon/core.c") == ["MEMORY MANAGEMENT"]


def test_exclusion_is_tested_first():
    assert titles("mm/slub.c") == ["SLAB ALLOCATOR"]  # MEMORY MANAGEMENT excludes it
    assert titles("drivers/net/wireless/ath/x.c") == ["THE REST"]


def test_star_does_not_cross_a_slash():
    assert titles("mm/slab_common.c") == ["SLAB ALLOCATOR", "MEMORY MANAGEMENT"]
    assert "INTEL ETHERNET DRIVERS" in titles("drivers/net/ethernet/intel/e100.c")
    # intel/* names files in intel/ only; igb/ is reached through drivers/net/ alone
    assert titles("drivers/net/ethernet/intel/igb/igb_main.c") == ["NETWORKING DRIVERS"]


def test_question_mark_is_one_character():
    assert titles("include/linux/slab.h") == ["SLAB ALLOCATOR"]
    assert titles("include/linux/slub.h") == ["SLAB ALLOCATOR"]
    assert titles("include/linux/sla.h") == ["THE REST"]


def test_most_specific_first():
    # INTEL's e1000e/ (4 slashes) beats NETWORKING DRIVERS' drivers/net/ (2)
    assert titles("drivers/net/ethernet/intel/e1000e/netdev.c") == ["INTEL ETHERNET DRIVERS", "NETWORKING DRIVERS"]
    # a file pattern (mm/slub.c: depth 2) beats a directory pattern (mm/: depth 1)
    assert titles("mm/slab.h") == ["SLAB ALLOCATOR", "MEMORY MANAGEMENT"]


def test_leading_star_matches_any_top_level_directory_least_specifically():
    assert titles("drivers/net/foo.c") == ["NETWORKING DRIVERS", "ANY NET DIRECTORY"]
    assert titles("fs/net/bar.c") == ["ANY NET DIRECTORY"]
    assert titles("fs/net/deeper/bar.c") == ["THE REST"]


def test_n_regex():
    assert titles("drivers/gpu/host1x/tegra-foo.c") == ["TEGRA ARCHITECTURE SUPPORT"]
    assert titles("drivers/gpu/integrator.c") == ["THE REST"]  # [^a-z]tegra: not "integra"


def test_the_rest_only_when_nothing_else_matches():
    assert titles("README") == ["THE REST"]
    assert titles("Documentation/x/y.rst") == ["THE REST"]
    assert "THE REST" not in titles("mm/page_alloc.c")


def test_orphan_and_obsolete_are_flagged():
    assert M.primary("drivers/old/x.c").obsolete
    assert M.primary("drivers/orphan/x.c").orphan
    assert "orphan" in M.primary("drivers/orphan/x.c").flag
    assert M.primary("mm/page_alloc.c").flag == ""


def test_directory_named_without_slash(tmp_path):
    (tmp_path / "fs" / "ext4").mkdir(parents=True)
    m = parse("EXT4\nS: Maintained\nF: fs/ext4\n", tmp_path)
    assert [s.title for s in m.match("fs/ext4/super.c")] == ["EXT4"]


def test_glob_regex_escapes_regex_syntax():
    import re
    assert re.fullmatch(glob_regex("a+b(c).[ch]"), "a+b(c).[ch]")
    assert not re.fullmatch(glob_regex("a.c"), "abc")


lines = st.one_of(
    st.text(max_size=40),
    st.builds(lambda t, v: f"{t}:\t{v}", st.sampled_from("MRLSFXNKTWQ"), st.text(max_size=30)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(lines, max_size=30), st.text(max_size=30))
def test_any_text_parses_and_matches_without_crashing(body, path):
    m = parse("\n".join(body))
    for s in m.sections:
        assert s.title.strip()
    found = m.match(path)
    rest = [s for s in found if s.title == "THE REST"]
    assert not rest or len(rest) == len(found)
