"""Rule documentation: one page per rule, from the rule module itself.

`gfplint explain RULE`, `gfplint rules --markdown` (which writes docs/rules.md)
and the SARIF `help` of each rule all come from `page()`, so they cannot drift
apart.  A page has: what the rule reports (SHORT, FULL), why it matters in the
too-small-to-fail debate (WHY), a bad and a good example, the allocator claim
the reference model checks for it (CLAIM.text), and how to silence it.
"""
from __future__ import annotations

from .registry import all_rules

# Why each rule matters, for rule modules that do not carry a WHY of their own.
# (A rule module's WHY wins; these can move into the modules.)
WHY = {
    "too-small-to-fail": (
        "Neil Brown's proposal makes this behaviour the documented rule and removes the error handling "
        "behind it; Kent Overstreet's answer is to keep it and test it with fault injection. Either way the "
        "first step is knowing which sites are in this class: this rule is that list."
    ),
    "dead-error-path": (
        "Error handling that production never runs is not tested by production either: it rots (leaks, "
        "double frees, wrong unwinding order) and is found only by failslab or syzkaller. The line count is "
        "the size of the debate: what the proposal would delete, or what fault injection has to cover."
    ),
    "migrate": (
        "The linux-mm proposal replaces the implicit rule with explicit classes, so a reader sees at the call "
        "whether it can fail. This rule is the worklist for that conversion, per site, with the class the "
        "site already behaves as today."
    ),
    "unchecked-may-fail": (
        "The too-small-to-fail rule covers only blocking requests of order 3 or less. Code written in the "
        "belief that 'kmalloc never fails' is a NULL dereference when the mask is atomic, the order costly or "
        "the request accounted to a memcg at its limit; these are the sites where the belief is wrong."
    ),
    "always-fails": (
        "A request above MAX_PAGE_ORDER is the opposite of too small to fail: it never succeeds. Its error "
        "path is the only path, and the success path is dead code that nothing tests."
    ),
    "sleep-in-atomic": (
        "Too-small-to-fail holds only for allocations that may enter direct reclaim; in atomic context that "
        "sleeps and triggers 'BUG: sleeping function called from invalid context'. Matthew Wilcox's point: "
        "the real context is set far up the call chain, so the bug is invisible at the call."
    ),
    "nofail-misuse": (
        "Making error handling go away with __GFP_NOFAIL (the proposal's GFP_NOFAIL class) is only honest "
        "where the allocator can keep that promise: with direct reclaim, outside atomic context, at a "
        "non-costly order. Elsewhere the flag warns and the allocation can still fail."
    ),
    "redundant-nofs": (
        "Scoped APIs (memalloc_nofs_save, memalloc_noio_save) are how the kernel wants reclaim restrictions "
        "expressed; a GFP_NOFS inside such a scope is noise that hides where the real restriction comes from."
    ),
}

PARTS = ("SHORT", "FULL", "WHY", "BAD", "GOOD", "CLAIM", "SILENCE")


def why(mod) -> str:
    return getattr(mod, "WHY", None) or WHY.get(mod.ID, "")


def claims(mod) -> list:
    c = getattr(mod, "CLAIM", None)
    if c is None:
        return []
    return list(c) if isinstance(c, (tuple, list)) else [c]


def claim_text(mod) -> str:
    return "; ".join(c.text for c in claims(mod) if getattr(c, "text", ""))


def missing_parts(mod) -> list[str]:
    """Parts of the rule's page that are empty; a complete page has none."""
    have = {
        "SHORT": mod.SHORT, "FULL": mod.FULL, "WHY": why(mod), "BAD": mod.BAD, "GOOD": mod.GOOD,
        "CLAIM": claim_text(mod), "SILENCE": getattr(mod, "SILENCE", ""),
    }
    return [p for p in PARTS if not str(have[p] or "").strip()]


def _code(text: str) -> str:
    return "```c\n" + text.rstrip("\n") + "\n```"


def markdown_page(mod, heading: str = "##") -> str:
    lines = [
        f"{heading} `{mod.ID}`",
        "",
        f"Level **{mod.LEVEL}**, precision {mod.PRECISION}, tags: {', '.join(mod.TAGS)}.",
        "",
        mod.SHORT,
        "",
        f"{heading}# What it reports",
        "",
        mod.FULL,
        "",
        f"{heading}# Why it matters",
        "",
        why(mod),
        "",
        f"{heading}# Bad",
        "",
        _code(mod.BAD),
        "",
        f"{heading}# Good",
        "",
        _code(mod.GOOD),
        "",
        f"{heading}# The allocator claim it rests on",
        "",
    ]
    lines += [f"- {c.text}" for c in claims(mod)]
    lines += [
        "",
        "`gfplint model --check` verifies this claim against the reference allocator model.",
        "",
        f"{heading}# How to silence it",
        "",
        mod.SILENCE,
        "",
    ]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" if line else "\n" for line in text.rstrip("\n").split("\n"))


def text_page(mod) -> str:
    """The page for a terminal: same parts, no markdown."""
    out = [
        f"{mod.ID} ({mod.LEVEL}, precision {mod.PRECISION})",
        "",
        mod.SHORT,
        "",
        "What it reports:",
        mod.FULL,
        "",
        "Why it matters:",
        why(mod),
        "",
        "Bad:",
        _indent(mod.BAD).rstrip("\n"),
        "",
        "Good:",
        _indent(mod.GOOD).rstrip("\n"),
        "",
        "The allocator claim it rests on (checked by 'gfplint model --check'):",
    ]
    out += [f"  - {c.text}" for c in claims(mod)]
    out += ["", f"How to silence: {mod.SILENCE}", ""]
    return "\n".join(out)


def rules_markdown() -> str:
    """docs/rules.md: an index table, then one page per rule."""
    head = [
        "# gfplint rules",
        "",
        "<!-- Generated by `gfplint rules --markdown > docs/rules.md`; do not edit by hand. -->",
        "",
        "| id | level | precision | reports |",
        "|---|---|---|---|",
    ]
    head += [f"| [`{m.ID}`](#{m.ID}) | {m.LEVEL} | {m.PRECISION} | {m.SHORT} |" for m in all_rules()]
    pages = [markdown_page(m) for m in all_rules()]
    return "\n".join(head) + "\n\n" + "\n".join(pages)
