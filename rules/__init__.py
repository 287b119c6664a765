"""gfplint rules: one module per rule, loaded through gfplint.registry.

Each module defines ID, LEVEL, NAME, SHORT, FULL, BAD, GOOD, PRECISION, TAGS,
CLAIM (the allocator claim the reference model checks) and
``check(program, catalog) -> Iterable[Finding]``.
"""

RULE_MODULES = (
    "too_small_to_fail",
    "dead_error_path",
    "migrate",
    "unchecked_may_fail",
    "always_fails",
    "sleep_in_atomic",
    "nofail_misuse",
    "redundant_nofs",
)
