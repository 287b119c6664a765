"""What `check` and `report` do after the analysis: narrow the findings for a
review (baseline, diff), render them (text, json, sarif) and count them.

Kept out of cli.py so the command line stays a thin layer of options.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from . import baseline as bl
from . import diffscope
from .registry import get_rule


@dataclass
class Review:
    """How a run's findings are narrowed; all optional."""

    baseline: str | None = None  # report only findings not in this baseline file
    write_baseline: str | None = None  # record all findings of this run
    diff_base: str | None = None  # git revision: only findings the working tree's change touches
    diff_file: str | None = None  # unified diff: the same, for a patch
    fixed: list = field(default_factory=list)  # baseline entries that disappeared (filled by narrow)
    keys: dict = field(default_factory=dict)  # id(finding) -> line-independent key, over all findings


def narrow(result, review: Review) -> None:
    """Replace result.findings by what the review asks for; keys are numbered before narrowing."""
    from .report import write_atomically

    findings = result.findings
    review.keys = dict(zip(map(id, findings), bl.finding_keys(findings)))
    if review.write_baseline:
        write_atomically(review.write_baseline, bl.dumps(findings))
    if review.baseline:
        findings, review.fixed = bl.compare(findings, bl.load(review.baseline))
    if review.diff_base or review.diff_file:
        changed = (diffscope.read_diff(review.diff_file) if review.diff_file
                   else diffscope.git_changes(result.program.root, review.diff_base))
        findings = diffscope.restrict(findings, changed)
    result.findings = findings


def render(result, fmt: str, category: str | None = None, keys: dict | None = None) -> str:
    from .report import to_json, to_text

    if fmt == "sarif":
        from .sarif import to_sarif

        return to_sarif(result, category, keys or None)
    return to_json(result) if fmt == "json" else to_text(result)


def statistics(findings: list) -> str:
    """Counts per rule, most frequent first, like `ruff --statistics`."""
    counts = Counter(f.rule for f in findings)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = len(str(sum(counts.values())))
    lines = [f"{n:>{width}}  {rule:<20} {get_rule(rule).LEVEL}" for rule, n in rows]
    lines.append(f"{sum(counts.values()):>{width}}  total")
    return "\n".join(lines) + "\n"


def fixed_text(fixed: list) -> str:
    """Baseline entries no finding matches any more (--show-fixed)."""
    return "".join(
        f"gfplint: fixed: {r.get('file')}: {r.get('rule')} in {r.get('function')}() at {r.get('call') or r.get('api')} "
        f"(baseline line {r.get('line')})\n"
        for r in fixed
    )
