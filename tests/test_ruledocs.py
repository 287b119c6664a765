"""Rule documentation: every rule has a complete page and fixtures; docs/rules.md is current."""
import pytest
from click.testing import CliRunner

from fixture_expect import FIXTURES, ROOT, expectations

from gfplint.cli import main
from gfplint.registry import all_rules
from gfplint.ruledocs import PARTS, missing_parts, rules_markdown, text_page

RULES_MD = ROOT / "docs" / "rules.md"
RULE_IDS = [m.ID for m in all_rules()]


def expected_rules() -> set:
    """Rule ids named in some `// expect:` comment of a fixture or the example tree."""
    out = set()
    for path in [*FIXTURES.rglob("*.c"), *(ROOT / "examples").rglob("*.c")]:
        for entry in expectations(path).values():
            out |= {rule for rule, _ in entry["rules"]}
    return out


@pytest.mark.parametrize("rule", RULE_IDS)
def test_rule_page_is_complete(rule):
    mod = next(m for m in all_rules() if m.ID == rule)
    assert missing_parts(mod) == [], f"rule {rule} lacks {missing_parts(mod)} (see gfplint/ruledocs.py)"


@pytest.mark.parametrize("rule", RULE_IDS)
def test_rule_has_fixture_coverage(rule):
    assert rule in expected_rules(), (
        f"rule {rule} appears in no `// expect:` comment under tests/fixtures or examples: add a fixture line")


def test_docs_rules_md_is_current():
    assert RULES_MD.read_text() == rules_markdown(), (
        "docs/rules.md is stale: run `.venv/bin/gfplint rules --markdown > docs/rules.md`")


def test_rules_markdown_is_what_the_cli_prints():
    res = CliRunner().invoke(main, ["rules", "--markdown"])
    assert res.exit_code == 0 and res.output == rules_markdown()


@pytest.mark.parametrize("rule", RULE_IDS)
def test_explain_prints_the_whole_page(rule):
    mod = next(m for m in all_rules() if m.ID == rule)
    res = CliRunner().invoke(main, ["explain", rule])
    assert res.exit_code == 0
    assert res.output == text_page(mod)
    for heading in ("What it reports:", "Why it matters:", "Bad:", "Good:", "claim it rests on", "How to silence:"):
        assert heading in res.output
    claims = mod.CLAIM if isinstance(mod.CLAIM, tuple) else (mod.CLAIM,)
    assert all(c.text in res.output for c in claims)


def test_a_missing_part_is_noticed():
    class Bare:
        ID, SHORT, FULL, BAD, GOOD, SILENCE, CLAIM = "bare-rule", "s", "f", "b", "", "x", None

    assert missing_parts(Bare) == ["WHY", "GOOD", "CLAIM"]
    assert set(PARTS) >= {"SHORT", "FULL", "WHY", "BAD", "GOOD", "CLAIM", "SILENCE"}
