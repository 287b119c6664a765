"""The one place rules are found: the modules listed in gfplint.rules.RULE_MODULES."""
from __future__ import annotations

import importlib
from functools import lru_cache

from .findings import LEVELS

REQUIRED = ("ID", "LEVEL", "NAME", "SHORT", "FULL", "BAD", "GOOD", "PRECISION", "TAGS", "SILENCE", "CLAIM", "check")


class RuleError(ValueError):
    pass


@lru_cache(maxsize=1)
def all_rules() -> tuple:
    pkg = importlib.import_module("gfplint.rules")
    mods = []
    for name in pkg.RULE_MODULES:
        mod = importlib.import_module(f"gfplint.rules.{name}")
        missing = [a for a in REQUIRED if not hasattr(mod, a)]
        if missing:
            raise RuleError(f"rule module {name} lacks {', '.join(missing)}")
        if mod.LEVEL not in LEVELS:
            raise RuleError(f"rule {mod.ID}: level {mod.LEVEL!r} is not one of {LEVELS}")
        mods.append(mod)
    return tuple(mods)


def rule_ids() -> list[str]:
    return [m.ID for m in all_rules()]


def get_rule(rule_id: str):
    for m in all_rules():
        if m.ID == rule_id:
            return m
    raise RuleError(f"unknown rule '{rule_id}' (known: {', '.join(rule_ids())})")


def select_rules(select: list[str] | None, ignore: list[str] | None) -> list:
    """Rules after --select/--ignore; unknown ids are an error."""
    for rid in (select or []) + (ignore or []):
        get_rule(rid)
    chosen = [m for m in all_rules() if not select or m.ID in select]
    return [m for m in chosen if m.ID not in (ignore or [])]
