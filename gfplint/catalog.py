"""The allocation API catalog: data, loaded from gfplint/data/alloc_apis.json.

Users extend it with ``--catalog FILE`` (same format); entries there replace
built-in entries of the same name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

FAILURES = ("null", "zero", "errptr", "errno")
# backends whose every allocation passes might_alloc() first (percpu, dma, skb, idr: pools,
# preloads and clones that may return without reaching the allocator)
SLEEP_CHECKED_BACKENDS = frozenset({"kmalloc", "slab", "page", "vmalloc", "kvmalloc", "mempool"})


class CatalogError(ValueError):
    pass


@dataclass(frozen=True)
class AllocApi:
    api: str
    backend: str
    failure: str
    alloc_only: bool
    gfp: int | None = None  # argument index of the gfp mask
    implied: str | None = None  # mask the API uses when it takes none
    gfp_default: str | None = None  # mask when the optional gfp argument is omitted
    adds: tuple = ()
    size: int | None = None
    size_plus: int = 0
    count: int | None = None
    elem: int | None = None
    saturating: bool = False  # size_mul(): saturates instead of failing on overflow
    order: int | None = None
    fixed_order: int | None = None
    size_order: int | None = None  # alloc_pages_exact: order = get_order(argument)
    fixed_size: int | None = None
    cache: int | None = None
    kernels: tuple = ()
    aliases: tuple = ()
    note: str = ""
    might_alloc: bool | None = None  # always reaches might_alloc() before it can return (None: by backend)

    def always_checks_sleep(self) -> bool:
        """Every call runs the allocator's might_alloc() -> might_sleep_if(gfpflags_allow_blocking())
        (mm/slab.h slab_pre_alloc_hook, mm/page_alloc.c prepare_alloc_pages, mm/mempool.c
        mempool_alloc_noprof): with a blocking mask the call is a sleep on every path through it.
        Not for APIs that may return first: realloc in place, a NULL or constant source string."""
        if self.might_alloc is not None:
            return self.might_alloc
        return self.backend in SLEEP_CHECKED_BACKENDS


_FIELDS = set(AllocApi.__dataclass_fields__)


def _entry(raw: dict, where: str) -> AllocApi:
    if not isinstance(raw, dict) or "api" not in raw:
        raise CatalogError(f"{where}: every entry needs an 'api' name")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise CatalogError(f"{where}: entry {raw['api']!r} has unknown keys {sorted(unknown)}")
    for key in ("backend", "failure", "alloc_only"):
        if key not in raw:
            raise CatalogError(f"{where}: entry {raw['api']!r} lacks {key!r}")
    if raw["failure"] not in FAILURES:
        raise CatalogError(f"{where}: entry {raw['api']!r}: failure must be one of {', '.join(FAILURES)}")
    if raw.get("gfp") is None and raw.get("implied") is None:
        raise CatalogError(f"{where}: entry {raw['api']!r} needs 'gfp' (argument index) or 'implied' (mask)")
    fields = dict(raw)
    fields["adds"] = tuple(raw.get("adds", ()))
    fields["kernels"] = tuple(raw.get("kernels", ()))
    fields["aliases"] = tuple(raw.get("aliases", ()))
    return AllocApi(**fields)


def _parse(text: str, where: str) -> dict[str, AllocApi]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise CatalogError(f"{where}: not valid JSON: {e}") from None
    apis = doc.get("apis") if isinstance(doc, dict) else None
    if not isinstance(apis, list):
        raise CatalogError(f"{where}: expected an object with an 'apis' list")
    return {e.api: e for e in (_entry(raw, where) for raw in apis)}


class Catalog:
    """Name -> AllocApi, also answering for 6.12's ``*_noprof`` spellings."""

    def __init__(self, apis: dict[str, AllocApi]):
        self.apis = dict(apis)
        self.aliases = {alias: a for a in self.apis.values() for alias in a.aliases}

    def lookup(self, name: str) -> AllocApi | None:
        api = self.apis.get(name) or self.aliases.get(name)
        if api is None and name.endswith("_noprof"):
            # 6.12 memory allocation profiling: foo(...) -> alloc_hooks(foo_noprof(...))
            base = name[: -len("_noprof")]
            api = self.apis.get(base) or self.aliases.get(base)
        return api

    def __contains__(self, name: str) -> bool:
        return self.lookup(name) is not None

    def __len__(self) -> int:
        return len(self.apis)


def load_catalog(extra: Path | None = None) -> Catalog:
    text = resources.files("gfplint").joinpath("data/alloc_apis.json").read_text()
    apis = _parse(text, "built-in catalog")
    if extra is not None:
        try:
            extra_text = Path(extra).read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise CatalogError(f"{extra}: cannot read catalog: {e}") from None
        apis.update(_parse(extra_text, str(extra)))
    return Catalog(apis)
