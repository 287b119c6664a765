"""The context catalog: atomic sections, memalloc scopes, guards, callback registrations.

Data in gfplint/data/context.json (KERNEL-FACTS 8); `--context-catalog FILE`
adds entries in the same format.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

SCOPE_CLASSES = ("nofs", "noio", "noreclaim", "pin")


class ContextCatalogError(ValueError):
    pass


@dataclass(frozen=True)
class Section:
    """One enter or exit API."""

    name: str
    cls: str
    key: int | None
    conditional: bool = False  # enters only when it returns true (trylock)
    conditional_zero: bool = False  # enters only when it returns 0 (radix_tree_preload)
    scope: bool = False  # a memalloc scope, not an atomic section


@dataclass(frozen=True)
class Registration:
    name: str
    arg: object  # int index, -1 for the last argument, or a keyword ("fn", "notifier")
    context: str
    why: str


@dataclass
class ContextCatalog:
    enter: dict = field(default_factory=dict)
    exit: dict = field(default_factory=dict)
    guards: frozenset = frozenset()
    registrations: dict = field(default_factory=dict)  # name -> [Registration]
    ops_fields: list = field(default_factory=list)
    user_entry_prefixes: tuple = ()
    boot_entries: tuple = ()  # run under GFP_BOOT_MASK: their atomic sections cannot make allocations sleep
    sleeps: frozenset = frozenset()  # calls that always may sleep (mutex_lock, might_sleep, msleep, ...)
    lock_neutral: frozenset = frozenset()  # functions defined elsewhere that never release their caller's lock
    # name prefixes of what section macros expand to in a header inline (arch_local_irq_restore())
    section_primitives: tuple = ()

    def fingerprint(self) -> str:
        """The catalog's content as a stable string (cache keys): sets sorted, so that the value does
        not depend on the process's string hash seed the way repr() of a frozenset does."""
        def plain(x):
            if isinstance(x, (set, frozenset)):
                return sorted(plain(v) for v in x)
            if isinstance(x, dict):
                return {str(k): plain(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
            if isinstance(x, (list, tuple)):
                return [plain(v) for v in x]
            if hasattr(x, "__dataclass_fields__"):
                return {f: plain(getattr(x, f)) for f in x.__dataclass_fields__}
            return x
        return json.dumps(plain(self), sort_keys=True, default=str)

    def macro_names(self) -> set:
        return set(self.enter) | set(self.exit) | set(self.registrations) | set(self.sleeps) | {"guard", "scoped_guard"}


def _sections(raw: list, where: str) -> dict:
    out = {}
    for e in raw:
        try:
            for n in e["names"]:
                out[n] = Section(n, e["class"], e.get("key"), bool(e.get("conditional")),
                                 bool(e.get("conditional_zero")), bool(e.get("scope")))
        except (KeyError, TypeError):
            raise ContextCatalogError(f"{where}: each enter/exit entry needs 'names' and 'class'") from None
    return out


def _merge(cat: ContextCatalog, doc: dict, where: str) -> None:
    if not isinstance(doc, dict):
        raise ContextCatalogError(f"{where}: expected a JSON object")
    cat.enter.update(_sections(doc.get("enter", []), where))
    cat.exit.update(_sections(doc.get("exit", []), where))
    guards = doc.get("guards", {})
    if not isinstance(guards, dict) or not isinstance(guards.get("atomic", []), list):
        raise ContextCatalogError(f"{where}: 'guards' must be an object whose 'atomic' is a list of guard names")
    cat.guards = cat.guards | frozenset(guards.get("atomic", []))
    for e in _entries(doc, "registrations", where, ("names", "arg", "context")):
        for n in e["names"]:
            cat.registrations.setdefault(n, []).append(Registration(n, e["arg"], e["context"], e.get("why", "")))
    cat.ops_fields += _entries(doc, "ops_fields", where, ("fields", "context"))
    cat.user_entry_prefixes = cat.user_entry_prefixes + _names(doc, "user_entry_prefixes", where)
    cat.boot_entries = cat.boot_entries + _names(doc, "boot_entries", where)
    cat.sleeps = cat.sleeps | frozenset(_names(doc, "sleeps", where))
    cat.lock_neutral = cat.lock_neutral | frozenset(_names(doc, "lock_neutral", where))
    cat.section_primitives = cat.section_primitives + _names(doc, "section_primitives", where)


def _names(doc: dict, key: str, where: str) -> tuple:
    names = doc.get(key, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ContextCatalogError(f"{where}: '{key}' must be a list of strings")
    return tuple(names)


CONTEXTS = ("atomic", "kthread", "user")


def _entries(doc: dict, section: str, where: str, required: tuple) -> list:
    """The entries of SECTION, each checked for REQUIRED keys and a known context."""
    raw = doc.get(section, [])
    if not isinstance(raw, list):
        raise ContextCatalogError(f"{where}: '{section}' must be a list")
    for i, e in enumerate(raw):
        if not isinstance(e, dict) or any(k not in e for k in required):
            raise ContextCatalogError(f"{where}: {section}[{i}] needs {', '.join(repr(k) for k in required)}")
        lists = [k for k in ("names", "fields") if k in required]
        if any(not isinstance(e[k], list) or not all(isinstance(x, str) for x in e[k]) for k in lists):
            raise ContextCatalogError(f"{where}: {section}[{i}]: '{lists[0]}' must be a list of strings")
        if e["context"] not in CONTEXTS:
            raise ContextCatalogError(f"{where}: {section}[{i}]: context must be one of {', '.join(CONTEXTS)}")
    return raw


def load_context_catalog(extra: Path | None = None) -> ContextCatalog:
    cat = ContextCatalog()
    _merge(cat, json.loads(resources.files("gfplint").joinpath("data/context.json").read_text()), "built-in")
    if extra is not None:
        try:
            doc = json.loads(Path(extra).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ContextCatalogError(f"{extra}: cannot read context catalog: {e}") from None
        _merge(cat, doc, str(extra))
    return cat
