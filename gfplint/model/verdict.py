"""Site verdicts: can this allocation return failure in production?

A small, pure classifier over a `Request` (backend, effective mask, size or
order).  It condenses KERNEL-FACTS 2.6 (page allocator decision table),
3.5 (kmalloc sizes), 4 (memcg), 5 (vmalloc/kvmalloc) and 6 (mempool, bio,
array helpers).  The reference model (outcome/simulator) checks these
verdicts world by world; this module only answers the static question.

Verdicts, strongest guarantee first:
  nofail             never returns failure (NOFAIL with direct reclaim, mempool/bio with reclaim)
  too-small-to-fail  fails only under fault injection or for an OOM victim/PF_MEMALLOC/suspend
  may-fail           returns failure under ordinary conditions (reasons say why)
  always-fails       can never succeed (order > MAX_PAGE_ORDER)
  unknown            mask or size not resolved: never counted as too-small-to-fail
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from .flags import DEFAULT_KERNEL, blocking, current_gfp_context, lowmem

VERDICTS = ("nofail", "too-small-to-fail", "may-fail", "always-fails", "unknown")

PAGE_SIZE = 4096
PAGE_ALLOC_COSTLY_ORDER = 3  # include/linux/mmzone.h
MAX_PAGE_ORDER = 10  # include/linux/mmzone.h (6.1: MAX_ORDER 11, exclusive)
KMALLOC_MAX_CACHE_SIZE = 8192  # include/linux/slab.h: PAGE_SIZE << 1
KMALLOC_MAX_SIZE = PAGE_SIZE << MAX_PAGE_ORDER  # 4 MiB
INT_MAX = 2**31 - 1

# Backends of the allocation catalog (gfplint/data/alloc_apis.json).
BACKENDS = (
    "kmalloc",  # slab up to 8 KiB, page allocator above (mm/slub.c __do_kmalloc_node)
    "slab",  # kmem_cache object of unknown/known size
    "page",  # buddy allocator, by order
    "vmalloc",
    "kvmalloc",
    "mempool",  # mempool_alloc and bio_alloc_bioset: pool reserve behind the allocator
    "percpu",
    "dma",
    "skb",
    "idr",  # idr/ida/xarray node allocations: small slab objects, errno result
    "other",
)


@dataclass(frozen=True)
class Request:
    backend: str
    flags: frozenset | None  # __GFP_* names as written (before scopes); None = unresolved
    size: int | None = None  # bytes (kmalloc, slab object, vmalloc, kvmalloc)
    order: int | None = None  # page order (page backend)
    overflow: bool = False  # n * size computed at run time: NULL on overflow (check_mul_overflow)
    accounted: bool = False  # charged to memcg besides __GFP_ACCOUNT (SLAB_ACCOUNT cache)
    lowmem_cache: bool = False  # SLAB_CACHE_DMA/DMA32 cache
    scopes: frozenset = field(default_factory=frozenset)  # "nofs", "noio", "pin", "noreclaim"
    kernel: str = DEFAULT_KERNEL
    size_min: int | None = None  # set: SIZE is only an upper bound, and the size is at least this


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple = ()


def get_order(size: int) -> int:
    """include/asm-generic/getorder.h: smallest order whose pages hold SIZE bytes."""
    if size <= PAGE_SIZE:
        return 0
    return (size - 1).bit_length() - 12


def _may(*reasons: str) -> Verdict:
    return Verdict("may-fail", tuple(reasons))


def _page_verdict(flags: frozenset, order: int, req: Request) -> Verdict:
    """KERNEL-FACTS 2.6 for one page-allocator request of ORDER (mm/page_alloc.c)."""
    if order > MAX_PAGE_ORDER:
        return Verdict("always-fails", ("order-too-large",))  # __alloc_pages_noprof WARN_ON_ONCE_GFP
    if "__GFP_NOFAIL" in flags:
        if blocking(flags):
            return Verdict("nofail", ("nofail",))
        return _may("atomic", "nofail-without-reclaim")  # 6.12 slowpath: NULL + WARN
    reasons = []
    if not blocking(flags):
        reasons.append("atomic")
    if "noreclaim" in req.scopes:
        reasons.append("noreclaim-scope")  # PF_MEMALLOC: no reclaim recursion
    if "__GFP_NORETRY" in flags:
        reasons.append("noretry")
    if order > PAGE_ALLOC_COSTLY_ORDER:
        reasons.append("costly-order")
    if "__GFP_RETRY_MAYFAIL" in flags:
        reasons.append("retry-mayfail")
    if "__GFP_THISNODE" in flags:
        reasons.append("thisnode")
    if lowmem(flags) or req.lowmem_cache:
        reasons.append("lowmem")
    if reasons:
        return _may(*reasons)
    return Verdict("too-small-to-fail", ())


def _memcg_reasons(flags: frozenset, req: Request) -> tuple:
    """try_charge_memcg: accounted requests fail at memory.max unless NOFAIL or __GFP_HIGH."""
    accounted = req.accounted or "__GFP_ACCOUNT" in flags
    if accounted and not ({"__GFP_NOFAIL", "__GFP_HIGH"} & flags):
        return ("accounted",)
    return ()


def _with_memcg(v: Verdict, flags: frozenset, req: Request) -> Verdict:
    memcg = _memcg_reasons(flags, req)
    if not memcg or v.verdict in ("always-fails", "nofail"):
        return v
    if v.verdict == "may-fail":
        return _may(*v.reasons, *memcg)
    return _may(*memcg)


def _kmalloc(flags: frozenset, size: int, req: Request) -> Verdict:
    # kmalloc_fix_flags() (mm/slab_common.c) drops GFP_SLAB_BUG_MASK (DMA32, HIGHMEM) with a
    # warning: kmalloc(..., GFP_DMA32) does not allocate from ZONE_DMA32 (KERNEL-FACTS 3.1).
    flags = flags - {"__GFP_DMA32", "__GFP_HIGHMEM"}
    if size == 0:
        return Verdict("nofail", ("zero-size-ptr",))  # ZERO_SIZE_PTR, never NULL
    if size > KMALLOC_MAX_SIZE:
        return Verdict("always-fails", ("size-too-large",))
    # slab pages are order <= 3 with fallback to get_order(size) (mm/slub.c allocate_slab);
    # large kmalloc is get_order(size) from the page allocator.
    return _with_memcg(_page_verdict(flags, get_order(size), req), flags, req)


def _vmalloc(flags: frozenset, size: int | None) -> Verdict:
    """__vmalloc_node_range_noprof: fails on a pending fatal signal, unless NOFAIL."""
    if size == 0:
        return _may("vmalloc", "zero-size")
    if "__GFP_NOFAIL" in flags and blocking(flags):
        return Verdict("nofail", ("nofail",))
    if not blocking(flags):
        return _may("vmalloc", "atomic")
    return _may("vmalloc")


def _kvmalloc(flags: frozenset, size: int | None, req: Request) -> Verdict:
    """__kvmalloc_node_noprof (mm/util.c): kmalloc, then vmalloc for blocking masks above a page."""
    if size is None:
        return Verdict("unknown", ("size-unknown",))
    if size <= PAGE_SIZE:
        return _kmalloc(flags, size, req)
    if not blocking(flags):
        return _may("atomic")
    if size > INT_MAX:
        return Verdict("always-fails", ("size-too-large",))
    return _with_memcg(_vmalloc(flags, size), flags, req)


def _classify_one(flags: frozenset, req: Request) -> Verdict:
    b = req.backend
    if b == "mempool":
        # mm/mempool.c mempool_alloc: with direct reclaim it waits on the pool, never NULL
        return Verdict("nofail", ("mempool",)) if blocking(flags) else _may("atomic")
    if b == "vmalloc":
        return _with_memcg(_vmalloc(flags, req.size), flags, req)
    if b == "kvmalloc":
        return _kvmalloc(flags, req.size, req)
    if b == "page":
        if req.order is None:
            return Verdict("unknown", ("order-unknown",))
        return _with_memcg(_page_verdict(flags, req.order, req), flags, req)
    if b == "slab" and flags & {"__GFP_DMA", "__GFP_DMA32"}:
        # new_slab() keeps only GFP_RECLAIM_MASK|GFP_CONSTRAINT_MASK of the caller's mask: the zone
        # of a kmem_cache comes from its SLAB_CACHE_DMA/DMA32 flags (req.lowmem_cache), mm/slub.c
        flags = flags - {"__GFP_DMA", "__GFP_DMA32"}
    if b in ("kmalloc", "slab", "idr", "skb"):
        if req.size is None:
            if not blocking(flags) and "__GFP_NOFAIL" not in flags:
                return _may("atomic")  # whatever the size
            return Verdict("unknown", ("size-unknown",))
        return _kmalloc(flags, req.size, req)
    if b == "percpu":
        # pcpu_alloc: mutex_lock_killable -> NULL on a fatal signal (mm/percpu.c)
        return _may("percpu") if "__GFP_NOFAIL" not in flags else Verdict("nofail", ("nofail",))
    if b == "dma":
        return _may("dma")  # DMA mask may force ZONE_DMA/DMA32: lowmem, no OOM killer
    return Verdict("unknown", ("not-modelled",))


def classify(req: Request) -> Verdict:
    """Verdict for one request with one resolved mask (or None = unresolved)."""
    if req.flags is None:
        return Verdict("unknown", ("gfp-unresolved",))
    flags = current_gfp_context(req.flags, req.scopes)
    v = _classify_one(flags, req)
    if v.verdict == "always-fails" and req.size_min is not None and req.size is not None:
        # the size is a range [size_min, size]: if a size in it is within the allocator's limit,
        # the largest such one is the weakest that can succeed, and the site may fail
        largest = INT_MAX if req.backend == "kvmalloc" else KMALLOC_MAX_SIZE
        low = max(req.size_min, min(largest, req.size))
        v = weakest([v, _classify_one(flags, replace(req, size=low, size_min=None))])
    if req.overflow and v.verdict in ("nofail", "too-small-to-fail"):
        return _may("overflow")  # *_array/kcalloc: NULL on overflow, even with NOFAIL
    if req.overflow and v.verdict == "unknown" and v.reasons == ("size-unknown",):
        return _may("overflow")
    return v


def _reasons(vs: list, kinds: tuple) -> tuple:
    return tuple(dict.fromkeys(r for v in vs if v.verdict in kinds for r in v.reasons))


def weakest(verdicts: Iterable[Verdict]) -> Verdict:
    """Combine the verdicts of a site's possible masks: if any may fail, the site may fail.

    A mix of always-fails and a mask that can succeed may fail; unknown beats the
    guarantees (nofail, too-small-to-fail) but not a known failure."""
    vs = list(verdicts)
    if not vs:
        return Verdict("unknown", ("no-mask",))
    kinds = {v.verdict for v in vs}
    if "may-fail" in kinds or ("always-fails" in kinds and len(kinds) > 1 and "unknown" not in kinds):
        return Verdict("may-fail", _reasons(vs, ("may-fail", "always-fails", "unknown")))
    for kind in ("unknown", "always-fails", "too-small-to-fail", "nofail"):
        if kind in kinds:
            return Verdict(kind, _reasons(vs, (kind,)) or _reasons(vs, VERDICTS))
    raise AssertionError(kinds)


def classify_site(req: Request, masks: Iterable[frozenset] | None) -> Verdict:
    """Verdict for a site whose gfp expression resolves to MASKS (None = unresolved)."""
    if masks is None:
        return Verdict("unknown", ("gfp-unresolved",))
    return weakest(classify(replace(req, flags=m)) for m in masks)
