"""Static outcome function: outcome(request, world) -> Outcome.

A rule table, evaluated top-down, condensing KERNEL-FACTS 2.6 (page
allocator), 3.2-3.5 (slab, kmalloc), 4.2 (memcg), 5.1-5.2 (vmalloc,
kvmalloc), 6.1 (mempool) and 7 (fault injection).  Each branch names the
kernel file and function it mirrors, both in a comment and in the Outcome it
returns (``where`` and ``path``), so a query can say which function decides.

simulator.py reaches the same answers by walking the allocator's steps over
a changing memory state; the checker compares the two.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import common as C
from .common import Outcome
from .flags import GFP_CONSTRAINT_MASK, GFP_RECLAIM_MASK, GFP_SLAB_BUG_MASK, blocking, current_gfp_context, gfp_allowed, lowmem
from .verdict import KMALLOC_MAX_CACHE_SIZE, MAX_PAGE_ORDER, PAGE_ALLOC_COSTLY_ORDER, PAGE_SIZE, INT_MAX, Request, get_order
from .world import World

PAGE_ALLOC = "mm/page_alloc.c"
SLUB = "mm/slub.c"
MEMCG = "mm/memcontrol.c"
OOM = "mm/oom_kill.c"
VMALLOC = "mm/vmalloc.c"

NOWARN, NOFAIL, NORETRY, MAYFAIL = "__GFP_NOWARN", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_RETRY_MAYFAIL"
DR, KSWAPD, HIGH, IO, FS = "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_HIGH", "__GFP_IO", "__GFP_FS"
MEMALLOC, NOMEMALLOC, THISNODE, ACCOUNT = "__GFP_MEMALLOC", "__GFP_NOMEMALLOC", "__GFP_THISNODE", "__GFP_ACCOUNT"
COMP, ZERO, HIGHMEM, DMA, DMA32 = "__GFP_COMP", "__GFP_ZERO", "__GFP_HIGHMEM", "__GFP_DMA", "__GFP_DMA32"

BACKENDS = ("page", "kmalloc", "slab", "vmalloc", "kvmalloc", "mempool")


@dataclass(frozen=True)
class Env:
    """A world as seen by one request: PF_MEMALLOC also comes from the request's noreclaim scope."""

    world: World
    kernel: str
    pf_memalloc: bool

    def __getattr__(self, name):  # world attributes pass through
        return getattr(self.world, name)


def _w(*names: str, unless: frozenset = frozenset()) -> tuple:
    """Warnings NAMES unless the mask has __GFP_NOWARN (UNLESS is the mask)."""
    return () if NOWARN in unless else names


def _join(*outcomes_or_warnings) -> tuple:
    out = []
    for x in outcomes_or_warnings:
        out.extend(x.warnings if isinstance(x, Outcome) else x)
    return tuple(sorted(set(out)))


def _mk(kind: str, where: str, why: str, warnings=(), path=()) -> Outcome:
    return Outcome(kind, where, why, tuple(sorted(set(warnings))), tuple(path) + ((where, why),))


def _then(first: Outcome, kind: str, where: str, why: str, warnings=()) -> Outcome:
    """Outcome that continues after FIRST (keeps its warnings and path)."""
    return Outcome(kind, where, why, _join(first, warnings), first.path + ((where, why),))


# ---------------------------------------------------------------------------------------------
# page allocator (KERNEL-FACTS 2.2-2.6)

def _reserve_flags(G: frozenset, env: Env) -> str | None:
    """mm/page_alloc.c __gfp_pfmemalloc_flags: NOMEMALLOC > MEMALLOC > (not in interrupt) PF_MEMALLOC > OOM victim."""
    if NOMEMALLOC in G:
        return None
    if MEMALLOC in G:
        return "no_watermarks"
    if env.atomic:
        return None
    if env.pf_memalloc:
        return "no_watermarks"
    if env.signal == "victim":
        return "oom"
    return None


def _fail_page_alloc(G: frozenset, order: int, fault: str) -> bool:
    """mm/fail_page_alloc.c should_fail_alloc_page (6.1: mm/page_alloc.c) with its exemptions."""
    if fault not in ("fail_page_alloc", "fail_page_alloc-all") or NOFAIL in G:
        return False
    if fault == "fail_page_alloc" and (order < 1 or HIGHMEM in G or DR in G):
        return False  # default min-order=1, ignore-gfp-highmem=Y, ignore-gfp-wait=Y
    return True


def _nopage(G: frozenset, order: int, env: Env, warns: list, path: list, why: str) -> Outcome:
    """mm/page_alloc.c __alloc_pages_slowpath, label nopage: NOFAIL retries forever, the rest fail."""
    path = path + [(PAGE_ALLOC + ": __alloc_pages_slowpath", "nopage: " + why)]
    if NOFAIL in G:
        if not blocking(G):
            if env.kernel == "6.1":
                warns += _w(C.W61_NOFAIL_NORECLAIM, unless=G)
            # 6.12: "we disregard these unreasonable nofail requests and still return NULL"
            return _mk("null", PAGE_ALLOC + ": __alloc_pages_slowpath", "NOFAIL without direct reclaim: goto fail",
                       warns + list(_w(C.W_WARN_ALLOC, unless=G)), path)
        if env.kernel == "6.1":
            if env.pf_memalloc:
                warns += _w(C.W61_NOFAIL_PF_MEMALLOC, unless=G)
            if order > PAGE_ALLOC_COSTLY_ORDER:
                warns += _w(C.W61_NOFAIL_COSTLY, unless=G)
        if env.reserves:
            return _mk("succeeds", PAGE_ALLOC + ": __alloc_pages_cpuset_fallback",
                       "NOFAIL: ALLOC_MIN_RESERVE fallback finds reserves", warns, path)
        return _mk("loops", PAGE_ALLOC + ": __alloc_pages_slowpath", "NOFAIL: cond_resched(); goto retry (forever)",
                   warns, path)
    return _mk("null", PAGE_ALLOC + ": warn_alloc", why, warns + list(_w(C.W_WARN_ALLOC, unless=G)), path)


def _may_oom(G: frozenset, order: int, env: Env) -> tuple[str, str, str]:
    """(result, where, why) of mm/page_alloc.c __alloc_pages_may_oom and mm/oom_kill.c out_of_memory."""
    may = PAGE_ALLOC + ": __alloc_pages_may_oom"
    if env.pf_dumpcore:
        return "skip", may, "PF_DUMPCORE: no OOM killer"
    if order > PAGE_ALLOC_COSTLY_ORDER:
        return "skip", may, "costly order: the OOM killer will not help"
    if G & {MAYFAIL, THISNODE}:
        return "skip", may, "__GFP_RETRY_MAYFAIL/__GFP_THISNODE: no OOM killer"
    if lowmem(G):
        return "skip", may, "highest_zoneidx < ZONE_NORMAL: no OOM kill for lowmem"
    if env.pm == "suspending":
        return "skip", may, "pm_suspended_storage(): no OOM killer"
    oom = OOM + ": out_of_memory"
    if env.pm == "oom-disabled":
        return "disabled", oom, "oom_killer_disabled: returns false"
    if env.has_mm and env.dying:
        return "victim", OOM + ": task_will_free_mem", "current is dying: mark_oom_victim(current)"
    if FS not in G:
        return "nofs", oom, "!__GFP_FS: no kill, but reports progress"
    if env.memory == "oom-killable":
        return "killed", OOM + ": oom_kill_process", "OOM killer kills a task, memory is freed"
    return "panic", oom, "nothing killable: panic(\"System is deadlocked on memory\")"


def page_outcome(G: frozenset, order: int, env: Env) -> Outcome:
    """One __alloc_pages request of ORDER with effective mask G (KERNEL-FACTS 2.6 rows 1-19)."""
    entry = PAGE_ALLOC + (": __alloc_pages" if env.kernel == "6.1" else ": __alloc_pages_noprof")
    if order > MAX_PAGE_ORDER:  # row 1
        return _mk("null", entry, "order > MAX_PAGE_ORDER", _w(C.W_ORDER, unless=G))
    if env.atomic and blocking(G):  # prepare_alloc_pages -> might_alloc
        return _mk("bug", "include/linux/sched/mm.h: might_alloc", "blocking mask in atomic context")
    if _fail_page_alloc(G, order, env.fault):  # row 2
        where = "mm/page_alloc.c: should_fail_alloc_page" if env.kernel == "6.1" else "mm/fail_page_alloc.c: should_fail_alloc_page"
        return _mk("null", where, "fail_page_alloc injects a failure", _w(C.W_FAULT, unless=G))
    if env.memory == "free":  # row 3
        return _mk("succeeds", PAGE_ALLOC + ": get_page_from_freelist", "fast path: above the low watermark")
    warns: list = []
    path: list = []
    nofail, can_reclaim = NOFAIL in G, blocking(G)
    if nofail and env.kernel != "6.1":  # 6.12 sanity checks at slowpath entry (plain WARN_ON_ONCE)
        if order > 1:
            warns.append(C.W_NOFAIL_ORDER)
        if not can_reclaim:
            warns.append(C.W_NOFAIL_NORECLAIM)
        if env.pf_memalloc:
            warns.append(C.W_NOFAIL_PF_MEMALLOC)
    if env.kernel == "6.1" and "__GFP_ATOMIC" in G and can_reclaim:
        warns.append(C.W61_ATOMIC_RECLAIM)
        G = G - {"__GFP_ATOMIC"}
    reserve = _reserve_flags(G, env)
    if env.reserves and HIGH in G:  # gfp_to_alloc_flags: ALLOC_MIN_RESERVE, __zone_watermark_ok
        return _mk("succeeds", PAGE_ALLOC + ": __zone_watermark_ok", "__GFP_HIGH: served from the min reserve", warns)
    costly, can_compact = order > PAGE_ALLOC_COSTLY_ORDER, IO in G
    if can_reclaim and costly and NORETRY in G and can_compact and reserve != "no_watermarks":
        # initial async compaction is skipped below the watermarks: costly NORETRY gives up
        return _nopage(G, order, env, warns, path, "costly __GFP_NORETRY: compaction skipped")
    if env.reserves and reserve:  # retry: __gfp_pfmemalloc_flags (NO_WATERMARKS or ALLOC_OOM)
        return _mk("succeeds", PAGE_ALLOC + ": __gfp_pfmemalloc_flags", f"reserves via ALLOC_{reserve.upper()}",
                   warns)
    if not can_reclaim:  # row 6 / retry step 4
        return _nopage(G, order, env, warns, path, "no direct reclaim")
    if env.pf_memalloc:  # row 7 / retry step 5
        return _nopage(G, order, env, warns, path, "PF_MEMALLOC: no reclaim recursion")
    if env.memory == "reclaimable":
        return _mk("succeeds", PAGE_ALLOC + ": __alloc_pages_direct_reclaim", "direct reclaim frees enough", warns)
    if NORETRY in G:  # row 8 / retry step 7
        return _nopage(G, order, env, warns, path, "__GFP_NORETRY after one reclaim round")
    if costly and (not can_compact or MAYFAIL not in G):  # rows 9, 11 / retry step 8
        return _nopage(G, order, env, warns, path, "costly order after one reclaim/compaction round")
    # should_reclaim_retry() gives up (no progress); __alloc_pages_may_oom
    result, where, why = _may_oom(G, order, env)
    path.append((where, why))
    if result == "panic":
        return _mk("panic", where, why, warns, path)
    if result == "killed":
        return _mk("succeeds", where, why, warns + [C.W_OOM_KILL], path)
    if nofail and env.reserves and result in ("nofs", "victim"):
        # out_of_memory() reported progress: NOFAIL gets the ALLOC_NO_WATERMARKS fallback
        return _mk("succeeds", PAGE_ALLOC + ": __alloc_pages_cpuset_fallback", "NOFAIL: ALLOC_NO_WATERMARKS fallback",
                   warns, path)
    if result == "nofs":  # row 18
        return _mk("loops", OOM + ": out_of_memory", "!__GFP_FS: progress without a kill, retry until memory appears",
                   warns, path)
    if result == "victim":  # row 17
        if env.reserves and NOMEMALLOC not in G:
            return _mk("succeeds", PAGE_ALLOC + ": __zone_watermark_ok", "OOM victim: ALLOC_OOM reserves", warns, path)
        if reserve == "no_watermarks" or (MEMALLOC in G and NOMEMALLOC not in G):
            # alloc_flags carry ALLOC_NO_WATERMARKS, not ALLOC_OOM: step 12 does not apply, progress -> retry
            return _mk("loops", PAGE_ALLOC + ": __alloc_pages_slowpath",
                       "victim with __GFP_MEMALLOC: no ALLOC_OOM exit, retries", warns, path)
        return _nopage(G, order, env, warns, path, "OOM victim and ALLOC_OOM did not help")
    if result == "disabled" and nofail:
        warns += _w(C.W_OOM_NOFAIL, unless=G)
        if env.reserves:
            return _mk("succeeds", PAGE_ALLOC + ": __alloc_pages_cpuset_fallback",
                       "NOFAIL: ALLOC_NO_WATERMARKS fallback", warns, path)
        return _mk("loops", PAGE_ALLOC + ": __alloc_pages_may_oom", "NOFAIL: progress reported, retry forever",
                   warns, path)
    return _nopage(G, order, env, warns, path, why)  # rows 10, 12-16


# ---------------------------------------------------------------------------------------------
# memcg (KERNEL-FACTS 4.2)

def memcg_charge(G: frozenset, nr_pages: int, env: Env) -> Outcome | None:
    """mm/memcontrol.c try_charge_memcg; None when the charge succeeds without anything to report."""
    tc = MEMCG + ": try_charge_memcg"
    if not env.has_mm or env.memcg == "none":
        return None  # current_obj_cgroup(): no objcg, or below the limit
    if env.pf_memalloc:
        return None  # PF_MEMALLOC: force
    if not blocking(G):
        why = "non-blocking charge at memory.max"
    elif NORETRY in G:
        why = "__GFP_NORETRY after memcg reclaim"
    elif MAYFAIL in G:
        why = "__GFP_RETRY_MAYFAIL: no memcg OOM"
    elif get_order(nr_pages * PAGE_SIZE) > PAGE_ALLOC_COSTLY_ORDER:
        why = "mem_cgroup_oom: costly charge, no memcg OOM"
    elif env.dying:
        why = "task_is_dying() after the memcg OOM pass"
    elif env.pm == "oom-disabled":
        why = "out_of_memory: oom_killer_disabled"
    elif env.memcg == "limit-killable":
        return _mk("succeeds", MEMCG + ": mem_cgroup_out_of_memory", "memcg OOM killer frees charges",
                   [C.W_MEMCG_OOM_KILL])
    else:
        why = "memcg OOM finds nothing killable"
    if G & {NOFAIL, HIGH}:
        return _mk("succeeds", tc, "nomem with NOFAIL/__GFP_HIGH: force charge over the limit")
    return _mk("null", tc, "memcg charge fails: " + why)


def _charged(o: Outcome, G: frozenset, nr_pages: int, env: Env, accounted: bool) -> Outcome:
    if o.kind != "succeeds" or not accounted:
        return o
    c = memcg_charge(G, nr_pages, env)
    if c is None:
        return o
    return _then(o, c.kind, c.where, c.why, c.warnings)


# ---------------------------------------------------------------------------------------------
# slab and kmalloc (KERNEL-FACTS 3.2-3.5, 7.1)

def _failslab(G: frozenset, fault: str) -> bool:
    """mm/failslab.c should_failslab: NOFAIL exempt; ignore-gfp-wait (default Y) exempts DIRECT_RECLAIM."""
    if fault not in ("failslab", "failslab-all") or NOFAIL in G:
        return False
    return not (fault == "failslab" and DR in G)


def slab_outcome(size: int, G: frozenset, env: Env, cache_dma: bool, accounted: bool) -> Outcome:
    """One object of SIZE from a SLUB cache; the model assumes a new slab page is always needed."""
    if env.atomic and blocking(G):  # slab_pre_alloc_hook -> might_alloc
        return _mk("bug", "include/linux/sched/mm.h: might_alloc", "blocking mask in atomic context")
    if _failslab(G, env.fault):
        return _mk("null", "mm/failslab.c: should_failslab", "failslab injects a failure", _w(C.W_FAULT, unless=G))
    warns = []
    if G & GFP_SLAB_BUG_MASK:  # new_slab -> kmalloc_fix_flags
        warns.append(C.W_FIX_FLAGS)
        G = G - GFP_SLAB_BUG_MASK
    # new_slab: flags & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK), allocate_slab adds s->allocflags
    page_gfp = (G & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)) | {COMP} | ({DMA} if cache_dma else set())
    oo, mn = C.slab_orders(size)
    first = (page_gfp | {NOWARN, NORETRY}) - {NOFAIL}
    if DR in first and oo > mn:
        first = (first | {NOMEMALLOC}) - {DR, KSWAPD}
    o1 = page_outcome(frozenset(first), oo, env)
    if o1.kind == "succeeds":
        o = _then(o1, "succeeds", SLUB + ": allocate_slab", "slab page at the preferred order", warns)
    else:
        o2 = page_outcome(frozenset(page_gfp), mn, env)  # fallback to s->min with the caller's flags
        ws = _join(o1, o2, warns)
        path = o1.path + o2.path
        if o2.kind == "null":
            o = Outcome("null", SLUB + ": slab_out_of_memory", "no slab page at the minimum order either",
                        _join(ws, _w(C.W_SLAB_OOM, unless=G)), path + ((SLUB + ": allocate_slab", "fallback failed"),))
        else:
            o = Outcome(o2.kind, o2.where, o2.why, ws, path)
    return _charged(o, G, C.pages_of(size), env, accounted or ACCOUNT in G)


def kmalloc_outcome(size: int, G: frozenset, env: Env, accounted: bool = False) -> Outcome:
    """mm/slub.c __do_kmalloc_node: ZERO_SIZE_PTR, slab up to 8 KiB, large kmalloc above."""
    if size == 0:
        return _mk("succeeds", SLUB + ": __do_kmalloc_node", "size 0: ZERO_SIZE_PTR (never NULL)")
    if size > KMALLOC_MAX_CACHE_SIZE:
        warns = []
        if G & GFP_SLAB_BUG_MASK:  # ___kmalloc_large_node -> kmalloc_fix_flags
            warns.append(C.W_FIX_FLAGS)
            G = G - GFP_SLAB_BUG_MASK
        o = page_outcome(G | {COMP}, get_order(size), env)
        o = Outcome(o.kind, o.where, o.why, _join(o, warns), o.path + ((SLUB + ": ___kmalloc_large_node", "large kmalloc"),))
        return _charged(o, G, 1 << get_order(size), env, ACCOUNT in G)
    return slab_outcome(size, G, env, cache_dma=DMA in G, accounted=accounted)


# ---------------------------------------------------------------------------------------------
# vmalloc, kvmalloc (KERNEL-FACTS 5.1, 5.2)

def vmalloc_outcome(size: int, G: frozenset, env: Env) -> Outcome:
    """mm/vmalloc.c __vmalloc_node_range_noprof (6.1: __vmalloc_node_range)."""
    if size == 0:  # checked first in __vmalloc_node_range
        return _mk("null", VMALLOC + ": __vmalloc_node_range", "size 0", [C.W_VMALLOC_ZERO])
    if env.atomic:  # alloc_vmap_area -> might_sleep(), whatever the mask
        return _mk("bug", VMALLOC + ": alloc_vmap_area", "vmalloc sleeps: might_sleep() in atomic context")
    inner = G & GFP_RECLAIM_MASK
    area = slab_outcome(C.VMAP_AREA_SIZE, inner, env, cache_dma=False, accounted=False)
    if area.kind == "null":
        if NOFAIL in G:  # "vm_struct allocation failed. Retrying." forever
            return _then(area, "loops", VMALLOC + ": __vmalloc_node_range", "NOFAIL: retries the vm area forever",
                         _w(C.W_VM_STRUCT, unless=G))
        return _then(area, "null", VMALLOC + ": __get_vm_area_node", "vmap_area allocation failed",
                     _w(C.W_VM_STRUCT, unless=G))
    if area.kind != "succeeds":
        return area
    env = _after(area, env)
    nr = C.pages_of(size)
    nested = inner | {ZERO}
    array_bytes = nr * 8
    arr = (kmalloc_outcome(array_bytes, nested, env) if array_bytes <= PAGE_SIZE
           else vmalloc_outcome(array_bytes, nested, env))
    if arr.kind == "null":
        return _then(arr, "null", VMALLOC + ": __vmalloc_area_node", "page array allocation failed",
                     _join(area, _w(C.W_VM_ARRAY, unless=G)))
    if arr.kind != "succeeds":
        return Outcome(arr.kind, arr.where, arr.why, _join(area, arr), arr.path)
    env = _after(arr, env)
    before = _join(area, arr)
    page_gfp = frozenset(G | ({HIGHMEM} if not G & {DMA, DMA32} else set()) | {NOWARN})

    def one_page() -> Outcome:
        return _charged(page_outcome(page_gfp, 0, env), G, 1, env, ACCOUNT in G)

    def failed(p: Outcome) -> Outcome:
        warn = () if env.dying else _w(C.W_VM_PAGES, unless=G)  # no report for a killed task
        return _then(p, "null", VMALLOC + ": __vmalloc_area_node", "a page allocation failed", _join(before, warn))

    if ACCOUNT in G:
        # alloc_pages_bulk does not do memcg accounting: it hands out one page through __alloc_pages
        p = one_page()
        if p.kind == "null":
            return failed(p)
        if p.kind != "succeeds" or nr == 1:
            return Outcome(p.kind, p.where, p.why, _join(before, p), p.path)
        before = _join(before, p)
    elif env.memory == "free":
        return _mk("succeeds", VMALLOC + ": vm_area_alloc_pages", "bulk allocator fills the area", before)
    if env.dying and NOFAIL not in G:
        return _mk("null", VMALLOC + ": vm_area_alloc_pages", "fatal_signal_pending(): stop allocating pages", before)
    p = one_page()
    if p.kind == "null":
        return failed(p)
    return Outcome(p.kind, p.where, p.why, _join(before, p), p.path)


def _after(o: Outcome, env: Env) -> Env:
    """The world after a step that OOM-killed a task: its memory (or its memcg charge) is back."""
    from dataclasses import replace
    w = env.world
    if C.W_OOM_KILL in o.warnings and w.memory != "free":
        w = replace(w, memory="free", reserves=False)
    if C.W_MEMCG_OOM_KILL in o.warnings and w.memcg != "none":
        w = replace(w, memcg="none")
    return Env(w, env.kernel, env.pf_memalloc)


def kvmalloc_outcome(size: int, G: frozenset, env: Env) -> Outcome:
    """mm/util.c __kvmalloc_node_noprof (6.1: kvmalloc_node): kmalloc, then vmalloc for blocking masks."""
    if size <= PAGE_SIZE:
        return kmalloc_outcome(size, G, env)
    kflags = G | {NOWARN}  # kmalloc_gfp_adjust
    if MAYFAIL not in G:
        kflags |= {NORETRY}
    k = kmalloc_outcome(size, frozenset(kflags - {NOFAIL}), env)
    if k.kind != "null":
        return k
    if not blocking(G):
        return _then(k, "null", "mm/util.c: __kvmalloc_node_noprof", "no vmalloc fallback for non-blocking masks")
    if size > INT_MAX:
        return _then(k, "null", "mm/util.c: __kvmalloc_node_noprof", "size > INT_MAX",
                     () if NOWARN in G else ("WARN_ON_ONCE(size > INT_MAX)",))
    v = vmalloc_outcome(size, G, env)
    return Outcome(v.kind, v.where, v.why, _join(k, v), k.path + v.path)


# ---------------------------------------------------------------------------------------------
# mempool (KERNEL-FACTS 6.1)

def mempool_outcome(size: int, G: frozenset, env: Env) -> Outcome:
    """mm/mempool.c mempool_alloc_noprof over a kmalloc pool of SIZE; the pool reserve is taken as empty."""
    if env.atomic and blocking(G):
        return _mk("bug", "include/linux/sched/mm.h: might_alloc", "blocking mask in atomic context")
    G2 = G | {NOMEMALLOC, NORETRY, NOWARN}
    first = G2 - {DR, IO}
    o1 = kmalloc_outcome(size, frozenset(first), env)
    if o1.kind == "succeeds":
        return o1
    if first != G2:  # the first try was weakened: try once more with the full mask
        o2 = kmalloc_outcome(size, frozenset(G2), env)
        if o2.kind == "succeeds":
            return Outcome(o2.kind, o2.where, o2.why, _join(o1, o2), o1.path + o2.path)
        o1 = Outcome(o2.kind, o2.where, o2.why, _join(o1, o2), o1.path + o2.path)
    if not blocking(G):
        return _then(o1, "null", "mm/mempool.c: mempool_alloc_noprof", "pool empty and no direct reclaim")
    return _then(o1, "loops", "mm/mempool.c: mempool_alloc_noprof",
                 "pool empty: sleeps on pool->wait until an element is freed")


# ---------------------------------------------------------------------------------------------

def effective_gfp(req: Request, world: World) -> frozenset:
    """current_gfp_context(G & gfp_allowed_mask): scopes and suspend strip bits."""
    return current_gfp_context(gfp_allowed(req.flags, world.pm == "suspending"), req.scopes)


def env_of(req: Request, world: World) -> Env:
    pf = world.pf_memalloc or ("noreclaim" in req.scopes and not world.atomic)
    return Env(world, req.kernel, pf)


def outcome(req: Request, world: World) -> Outcome:
    """What REQ does in WORLD."""
    if req.flags is None:
        raise ValueError("outcome() needs a resolved mask")
    G = effective_gfp(req, world)
    env = env_of(req, world)
    b = req.backend
    if b == "page":
        if req.order is None:
            raise ValueError("page request without order")
        o = page_outcome(G, req.order, env)
        return _charged(o, G, 1 << req.order, env, ACCOUNT in G)
    if req.size is None:
        raise ValueError(f"{b} request without size")
    if b in ("kmalloc", "idr", "skb"):
        return kmalloc_outcome(req.size, G, env, accounted=req.accounted)
    if b == "slab":
        return slab_outcome(req.size, G, env, cache_dma=req.lowmem_cache, accounted=req.accounted)
    if b == "vmalloc":
        return vmalloc_outcome(req.size, G, env)
    if b == "kvmalloc":
        return kvmalloc_outcome(req.size, G, env)
    if b == "mempool":
        return mempool_outcome(req.size, G, env)
    raise ValueError(f"backend {b!r} is not modelled (modelled: {', '.join(BACKENDS)})")
