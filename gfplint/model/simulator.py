"""Simulator: a step machine over the allocator's decision sequence.

Unlike outcome.py (a rule table), this walks the kernel's steps with state
that changes as it goes: free pages against numeric watermarks, pages that
direct reclaim moves to the free lists, tasks the OOM killer kills (their
memory comes back), the current task becoming an OOM victim, memcg usage
against memory.max, retry counters bounded by MAX_RECLAIM_RETRIES.  A loop
is detected when the machine comes back to a retry point in a state it has
already been in: a deterministic machine that does so never returns.

Every step names the kernel function it mirrors (``_step``), and that trace
is the ``path`` of the Outcome it returns.

``mutations`` switches branches off, to show that the checker notices:
  oom-nofs-progress     out_of_memory(): the !__GFP_FS "progress without a kill" shortcut
  memcg-force-high      try_charge_memcg(): force charge for __GFP_HIGH (NOFAIL still forces)
  oom-victim-nopage     __alloc_pages_slowpath(): an OOM victim gives up after ALLOC_OOM failed
  vmalloc-fatal-signal  vm_area_alloc_pages(): stop on fatal_signal_pending()
  slab-order-fallback   allocate_slab(): retry at s->min after the preferred order failed
"""
from __future__ import annotations

from . import common as C
from .common import Outcome
from .flags import GFP_CONSTRAINT_MASK, GFP_RECLAIM_MASK, GFP_SLAB_BUG_MASK, current_gfp_context, gfp_has_io_fs
from .verdict import KMALLOC_MAX_CACHE_SIZE, PAGE_ALLOC_COSTLY_ORDER, PAGE_SIZE, INT_MAX, Request, get_order
from .world import World

MUTATIONS = ("oom-nofs-progress", "memcg-force-high", "oom-victim-nopage", "vmalloc-fatal-signal",
             "slab-order-fallback")

MAX_RECLAIM_RETRIES = 16  # mm/internal.h
# zone watermarks in pages (one zone; lowmem requests see the same numbers)
WMARK_MIN, WMARK_LOW, WMARK_HIGH = 1 << 14, 5 << 12, 6 << 12
RECLAIM_SLACK = 32  # SWAP_CLUSTER_MAX: reclaim frees what the request needs plus a little, no more
BIG_TASK = 1 << 17  # pages held by a task the OOM killer may choose
VMALLOC_SIM_PAGES = 4  # pages of a vmalloc area walked one by one; the rest repeat the same steps
MEMCG_MAX = 1 << 20
MAX_STEPS = 20000

# alloc_flags (mm/internal.h ALLOC_*), as names
A_MIN, A_LOW, A_HIGH, A_NO_WMARK = "WMARK_MIN", "WMARK_LOW", "WMARK_HIGH", "NO_WATERMARKS"
A_OOM, A_MIN_RESERVE, A_NON_BLOCK, A_HIGHATOMIC, A_CPUSET, A_KSWAPD = (
    "OOM", "MIN_RESERVE", "NON_BLOCK", "HIGHATOMIC", "CPUSET", "KSWAPD")
A_RESERVES = {A_OOM, A_MIN_RESERVE, A_NON_BLOCK, A_HIGHATOMIC}

DR, KSWAPD, IO, FS, HIGH = "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO", "__GFP_FS", "__GFP_HIGH"
NOWARN, NOFAIL, NORETRY, MAYFAIL = "__GFP_NOWARN", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_RETRY_MAYFAIL"
MEMALLOC, NOMEMALLOC, THISNODE, ACCOUNT = "__GFP_MEMALLOC", "__GFP_NOMEMALLOC", "__GFP_THISNODE", "__GFP_ACCOUNT"
COMP, ZERO, HIGHMEM, DMA, DMA32 = "__GFP_COMP", "__GFP_ZERO", "__GFP_HIGHMEM", "__GFP_DMA", "__GFP_DMA32"


class Stop(Exception):
    """The allocation does not return normally (bug, panic, loops forever)."""

    def __init__(self, kind: str, where: str, why: str):
        super().__init__(why)
        self.kind, self.where, self.why = kind, where, why


class Machine:
    """Kernel state for one allocation request, and the steps that change it."""

    def __init__(self, world: World, kernel: str, scopes=frozenset(), mutations=frozenset()):
        self.kernel = kernel
        self.mut = frozenset(mutations)
        self.scopes = frozenset(scopes)
        # current
        self.in_interrupt = world.atomic
        self.has_mm = world.has_mm
        self.fatal = world.signal in ("fatal", "victim")
        self.memdie = world.signal == "victim"
        self.pf_memalloc = world.pf_memalloc or ("noreclaim" in self.scopes and not world.atomic)
        self.pf_dumpcore = world.pf_dumpcore
        # system
        self.gfp_allowed_strip = frozenset((IO, FS)) if world.pm == "suspending" else frozenset()
        self.oom_killer_disabled = world.pm == "oom-disabled"
        self.fault = world.fault
        if world.memory == "free":
            self.free = 1 << 17
        else:
            self.free = WMARK_MIN - 1 if world.reserves else 0
        self.reclaimable = 1 << 20 if world.memory == "reclaimable" else 0
        self.others = [BIG_TASK] if world.memory == "oom-killable" else []
        # memcg of current (None: no objcg)
        self.objcg = world.has_mm and world.memcg != "none"
        self.memcg_usage = MEMCG_MAX if self.objcg else 0
        self.memcg_tasks = [BIG_TASK] if world.memcg == "limit-killable" else []
        self.warnings: list = []
        self.trace: list = []
        self.steps = 0

    # --- bookkeeping ------------------------------------------------------------------------
    def _step(self, where: str, note: str = "") -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Stop("loops", where, "step budget exhausted")
        self.trace.append((where, note))

    def _warn(self, name: str, gfp: frozenset = frozenset(), gfp_aware: bool = True) -> None:
        if gfp_aware and NOWARN in gfp:
            return
        self.warnings.append(name)

    def snapshot(self) -> tuple:
        return (self.free, self.reclaimable, tuple(self.others), self.memdie, self.memcg_usage,
                tuple(self.memcg_tasks))

    # --- page allocator: mm/page_alloc.c ------------------------------------------------------
    def alloc_pages(self, gfp: frozenset, order: int) -> bool:
        """__alloc_pages_noprof (6.1: __alloc_pages)."""
        self._step("mm/page_alloc.c: __alloc_pages_noprof", f"order {order}")
        if order > 10:  # 6.12 MAX_PAGE_ORDER; 6.1 order >= MAX_ORDER (11)
            self._warn(C.W_ORDER, gfp)
            return False
        gfp = current_gfp_context(gfp - self.gfp_allowed_strip, self.scopes)
        self._might_alloc(gfp)  # prepare_alloc_pages
        if self._should_fail_alloc_page(gfp, order):
            return False
        if self._get_page_from_freelist(order, {A_LOW, A_CPUSET}):
            page = True
        else:
            page = self._slowpath(gfp, order)
        if page and ACCOUNT in gfp:  # __memcg_kmem_charge_page
            self._step("mm/memcontrol.c: __memcg_kmem_charge_page")
            if not self.try_charge_memcg(gfp, 1 << order):
                self.free += 1 << order
                return False
        return page

    def _might_alloc(self, gfp) -> None:
        if DR in gfp and self.in_interrupt:
            raise Stop("bug", "include/linux/sched/mm.h: might_alloc", "might_sleep_if() in atomic context")

    def _should_fail_alloc_page(self, gfp, order) -> bool:
        if self.fault not in ("fail_page_alloc", "fail_page_alloc-all"):
            return False
        self._step("mm/fail_page_alloc.c: should_fail_alloc_page")
        if NOFAIL in gfp:
            return False
        if self.fault == "fail_page_alloc":
            if order < 1 or HIGHMEM in gfp or DR in gfp:  # min-order, ignore-gfp-highmem, ignore-gfp-wait
                return False
        self._warn(C.W_FAULT, gfp)
        return True

    def _watermark_ok(self, order: int, mark: int, alloc_flags: set, free: int) -> bool:
        """__zone_watermark_ok."""
        free_pages = free - (1 << order) + 1
        m = mark
        if alloc_flags & A_RESERVES:
            if A_MIN_RESERVE in alloc_flags:
                m -= m // 2
                if A_NON_BLOCK in alloc_flags:
                    m -= m // 4
            if A_OOM in alloc_flags:
                m -= m // 2
        return free_pages > m

    def _get_page_from_freelist(self, order: int, alloc_flags: set) -> bool:
        self._step("mm/page_alloc.c: get_page_from_freelist", ",".join(sorted(alloc_flags)))
        if A_NO_WMARK not in alloc_flags:
            mark = WMARK_HIGH if A_HIGH in alloc_flags else WMARK_LOW if A_LOW in alloc_flags else WMARK_MIN
            if not self._watermark_ok(order, mark, alloc_flags, self.free):
                return False
        if self.free < (1 << order):
            return False
        self.free -= 1 << order
        return True

    def _gfp_to_alloc_flags(self, gfp, order) -> set:
        flags = {A_MIN, A_CPUSET}
        if HIGH in gfp:
            flags.add(A_MIN_RESERVE)
        if KSWAPD in gfp:
            flags.add(A_KSWAPD)
        if DR not in gfp:
            if NOMEMALLOC not in gfp:
                flags.add(A_NON_BLOCK)
                if order > 0 and A_MIN_RESERVE in flags:
                    flags.add(A_HIGHATOMIC)
            if A_MIN_RESERVE in flags:
                flags.discard(A_CPUSET)
        return flags

    def _gfp_pfmemalloc_flags(self, gfp) -> set:
        if NOMEMALLOC in gfp:
            return set()
        if MEMALLOC in gfp:
            return {A_NO_WMARK}
        if not self.in_interrupt:
            if self.pf_memalloc:
                return {A_NO_WMARK}
            if self.memdie:
                return {A_OOM}
        return set()

    def _direct_reclaim(self, order, alloc_flags) -> tuple[bool, int]:
        """__alloc_pages_direct_reclaim -> __perform_reclaim -> try_to_free_pages."""
        self._step("mm/page_alloc.c: __alloc_pages_direct_reclaim")
        need = max(0, WMARK_MIN + (1 << order) - self.free) + RECLAIM_SLACK
        freed = min(self.reclaimable, need)
        self.reclaimable -= freed
        self.free += freed
        page = self._get_page_from_freelist(order, alloc_flags)
        return page, freed

    def _compaction_skipped(self, order) -> bool:
        """compaction_suitable(): too few free pages to migrate into -> COMPACT_SKIPPED."""
        return self.free < WMARK_LOW + (2 << order)

    def _slowpath(self, gfp: frozenset, order: int) -> bool:
        slow = "mm/page_alloc.c: __alloc_pages_slowpath"
        self._step(slow, "entry")
        can_direct_reclaim = DR in gfp
        costly = order > PAGE_ALLOC_COSTLY_ORDER
        nofail = NOFAIL in gfp
        can_compact = IO in gfp  # gfp_compaction_allowed (CONFIG_COMPACTION=y)
        if nofail and self.kernel != "6.1":
            if order > 1:
                self._warn(C.W_NOFAIL_ORDER, gfp_aware=False)
            if not can_direct_reclaim:
                self._warn(C.W_NOFAIL_NORECLAIM, gfp_aware=False)
            if self.pf_memalloc:
                self._warn(C.W_NOFAIL_PF_MEMALLOC, gfp_aware=False)
        if self.kernel == "6.1" and "__GFP_ATOMIC" in gfp and can_direct_reclaim:
            self._warn(C.W61_ATOMIC_RECLAIM, gfp_aware=False)
            gfp = gfp - {"__GFP_ATOMIC"}
        alloc_flags = self._gfp_to_alloc_flags(gfp, order)
        if self._get_page_from_freelist(order, alloc_flags):
            return True
        pfmemalloc_allowed = A_NO_WMARK in self._gfp_pfmemalloc_flags(gfp)
        if can_direct_reclaim and can_compact and order > 0 and not pfmemalloc_allowed:
            self._step("mm/page_alloc.c: __alloc_pages_direct_compact", "initial async compaction")
            skipped = self._compaction_skipped(order)
            if costly and NORETRY in gfp and skipped:
                return self._nopage(gfp, order, can_direct_reclaim)
        no_progress_loops = 0
        seen = set()
        while True:  # retry:
            key = (self.snapshot(), no_progress_loops, frozenset(alloc_flags))
            if key in seen:
                raise Stop("loops", slow, "back at retry: in the same state as before")
            seen.add(key)
            self._step(slow, "retry")
            reserve_flags = self._gfp_pfmemalloc_flags(gfp)
            if reserve_flags:
                alloc_flags = set(reserve_flags) | ({A_KSWAPD} & alloc_flags)
            if self._get_page_from_freelist(order, alloc_flags):
                return True
            if not can_direct_reclaim:
                return self._nopage(gfp, order, can_direct_reclaim)
            if self.pf_memalloc:
                return self._nopage(gfp, order, can_direct_reclaim)
            page, did_some_progress = self._direct_reclaim(order, alloc_flags)
            if page:
                return True
            if can_compact and order > 0:
                self._step("mm/page_alloc.c: __alloc_pages_direct_compact")
            if NORETRY in gfp:
                return self._nopage(gfp, order, can_direct_reclaim)
            if costly and (not can_compact or MAYFAIL not in gfp):
                return self._nopage(gfp, order, can_direct_reclaim)
            # should_reclaim_retry
            if did_some_progress and not costly:
                no_progress_loops = 0
            else:
                no_progress_loops += 1
            if no_progress_loops <= MAX_RECLAIM_RETRIES and self._watermark_ok(
                    order, WMARK_MIN, alloc_flags, self.free + self.reclaimable):
                continue
            # should_compact_retry: only after reclaim progress, never for a pending fatal signal
            if did_some_progress and order > 0 and not self.fatal:
                continue
            page, did_some_progress = self._may_oom(gfp, order)
            if page:
                return True
            if self.memdie and (A_OOM in alloc_flags or NOMEMALLOC in gfp) and "oom-victim-nopage" not in self.mut:
                return self._nopage(gfp, order, can_direct_reclaim)
            if did_some_progress:
                no_progress_loops = 0
                continue
            return self._nopage_or_retry(gfp, order, can_direct_reclaim, seen)

    def _nopage_or_retry(self, gfp, order, can_direct_reclaim, seen) -> bool:
        return self._nopage(gfp, order, can_direct_reclaim)

    def _nopage(self, gfp, order, can_direct_reclaim) -> bool:
        """label nopage (and fail): NOFAIL retries, everything else fails with warn_alloc."""
        self._step("mm/page_alloc.c: __alloc_pages_slowpath", "nopage")
        if NOFAIL in gfp:
            if not can_direct_reclaim:
                if self.kernel == "6.1":
                    self._warn(C.W61_NOFAIL_NORECLAIM, gfp)
                return self._fail(gfp)
            if self.kernel == "6.1":
                if self.pf_memalloc:
                    self._warn(C.W61_NOFAIL_PF_MEMALLOC, gfp)
                if order > PAGE_ALLOC_COSTLY_ORDER:
                    self._warn(C.W61_NOFAIL_COSTLY, gfp)
            self._step("mm/page_alloc.c: __alloc_pages_cpuset_fallback", "ALLOC_MIN_RESERVE")
            if self._get_page_from_freelist(order, {A_MIN, A_MIN_RESERVE}):
                return True
            # cond_resched(); goto retry: the retry loop starts over from the same state
            return self._nofail_retry(gfp, order)
        return self._fail(gfp)

    def _nofail_retry(self, gfp, order) -> bool:
        key = ("nofail", self.snapshot(), gfp, order)
        if key in self._nofail_seen:
            raise Stop("loops", "mm/page_alloc.c: __alloc_pages_slowpath", "NOFAIL: goto retry, forever")
        self._nofail_seen.add(key)
        return self._slowpath_retry_again(gfp, order)

    def _slowpath_retry_again(self, gfp, order) -> bool:
        # Re-entering the slowpath is what "goto retry" amounts to in this model (the entry
        # sanity warnings are WARN_ON_ONCE: already printed).
        return self._slowpath(gfp, order)

    _nofail_seen: set

    def _fail(self, gfp) -> bool:
        self._warn(C.W_WARN_ALLOC, gfp)
        return False

    def _may_oom(self, gfp, order) -> tuple[bool, int]:
        """__alloc_pages_may_oom."""
        self._step("mm/page_alloc.c: __alloc_pages_may_oom")
        if self._get_page_from_freelist(order, {A_HIGH, A_CPUSET}):
            return True, 0
        if self.pf_dumpcore or order > PAGE_ALLOC_COSTLY_ORDER or gfp & {MAYFAIL, THISNODE}:
            return False, 0
        if gfp & {DMA, DMA32}:  # ac->highest_zoneidx < ZONE_NORMAL
            return False, 0
        if not gfp_has_io_fs({IO, FS} - self.gfp_allowed_strip):  # pm_suspended_storage()
            return False, 0
        if self.out_of_memory(gfp, memcg=False) or self._warn_nofail_oom(gfp):
            if NOFAIL in gfp and self._get_page_from_freelist(order, {A_NO_WMARK}):
                return True, 1
            return False, 1
        return False, 0

    def _warn_nofail_oom(self, gfp) -> bool:
        if NOFAIL in gfp:
            self._warn(C.W_OOM_NOFAIL, gfp)
            return True
        return False

    def _task_will_free_mem(self) -> bool:
        """mm/oom_kill.c task_will_free_mem(current): needs an mm, group exit, no core dump."""
        return self.has_mm and self.fatal and not self.pf_dumpcore

    def out_of_memory(self, gfp, memcg: bool) -> bool:
        """mm/oom_kill.c out_of_memory."""
        self._step("mm/oom_kill.c: out_of_memory", "memcg" if memcg else "global")
        if self.oom_killer_disabled:
            return False
        if self._task_will_free_mem():
            self.memdie = True  # mark_oom_victim(current)
            return True
        if not memcg and FS not in gfp and "oom-nofs-progress" not in self.mut:
            return True  # "The OOM killer does not compensate for IO-less reclaim"
        tasks = self.memcg_tasks if memcg else self.others
        if not tasks:
            if not memcg:
                raise Stop("panic", "mm/oom_kill.c: out_of_memory", "no killable process: panic")
            return False
        rss = tasks.pop(0)  # select_bad_process, oom_kill_process; the reaper frees its memory
        self._step("mm/oom_kill.c: oom_kill_process")
        if memcg:
            self.memcg_usage -= rss
            self.warnings.append(C.W_MEMCG_OOM_KILL)
        else:
            self.free += rss
            self.warnings.append(C.W_OOM_KILL)
        return True

    # --- memcg: mm/memcontrol.c ---------------------------------------------------------------
    def try_charge_memcg(self, gfp, nr_pages: int) -> bool:
        if not self.objcg:
            return True
        self._step("mm/memcontrol.c: try_charge_memcg", f"{nr_pages} pages")
        nr_retries = MAX_RECLAIM_RETRIES
        passed_oom = drained = False
        batch = max(C.MEMCG_CHARGE_BATCH, nr_pages)
        if self.memcg_usage + batch <= MEMCG_MAX:
            self.memcg_usage += nr_pages
            return True
        while True:  # retry:
            self._step("mm/memcontrol.c: try_charge_memcg", "retry")
            if self.memcg_usage + nr_pages <= MEMCG_MAX:
                self.memcg_usage += nr_pages
                return True
            if self.pf_memalloc:
                break  # force
            if DR not in gfp:
                return self._memcg_nomem(gfp, nr_pages)
            reclaimed = 0  # try_to_free_mem_cgroup_pages: the memcg has nothing reclaimable
            if not drained:
                drained = True
                continue
            if NORETRY in gfp:
                return self._memcg_nomem(gfp, nr_pages)
            if reclaimed and nr_pages <= (1 << PAGE_ALLOC_COSTLY_ORDER):
                continue
            if nr_retries:
                nr_retries -= 1
                continue
            if MAYFAIL in gfp:
                return self._memcg_nomem(gfp, nr_pages)
            if passed_oom and self.fatal:  # task_is_dying()
                return self._memcg_nomem(gfp, nr_pages)
            if self._mem_cgroup_oom(gfp, get_order(nr_pages * PAGE_SIZE)):
                passed_oom = True
                nr_retries = MAX_RECLAIM_RETRIES
                continue
            return self._memcg_nomem(gfp, nr_pages)
        self.memcg_usage += nr_pages
        return True

    def _memcg_nomem(self, gfp, nr_pages) -> bool:
        forcing = {NOFAIL} if "memcg-force-high" in self.mut else {NOFAIL, HIGH}
        if gfp & forcing:
            self.memcg_usage += nr_pages
            return True
        self._step("mm/memcontrol.c: try_charge_memcg", "nomem: -ENOMEM")
        return False

    def _mem_cgroup_oom(self, gfp, order) -> bool:
        self._step("mm/memcontrol.c: mem_cgroup_oom")
        if order > PAGE_ALLOC_COSTLY_ORDER:
            return False
        # mem_cgroup_out_of_memory: task_is_dying() || out_of_memory(&oc)
        return self.fatal or self.out_of_memory(gfp, memcg=True)

    # --- slab: mm/slub.c ----------------------------------------------------------------------
    def kmem_cache_alloc(self, object_size: int, gfp: frozenset, dma_cache: bool, account_cache: bool) -> bool:
        self._step("mm/slub.c: slab_alloc_node", f"object {object_size}")
        gfp = gfp - self.gfp_allowed_strip  # slab_pre_alloc_hook
        self._might_alloc(gfp)
        if self._should_failslab(gfp):
            return False
        # no object on the per-cpu or node partial lists in this model: ___slab_alloc -> new_slab
        if not self._new_slab(object_size, gfp, dma_cache):
            self._warn(C.W_SLAB_OOM, gfp)
            return False
        if account_cache or ACCOUNT in gfp:  # memcg_slab_post_alloc_hook -> obj_cgroup_charge
            if not self.try_charge_memcg(gfp, C.pages_of(object_size)):
                return False
        return True

    def _should_failslab(self, gfp) -> bool:
        if self.fault not in ("failslab", "failslab-all"):
            return False
        self._step("mm/failslab.c: should_failslab")
        if NOFAIL in gfp or (self.fault == "failslab" and DR in gfp):
            return False
        self._warn(C.W_FAULT, gfp)
        return True

    def _new_slab(self, object_size, flags, dma_cache) -> bool:
        self._step("mm/slub.c: new_slab")
        if flags & GFP_SLAB_BUG_MASK:
            self.warnings.append(C.W_FIX_FLAGS)  # kmalloc_fix_flags
            flags = flags - GFP_SLAB_BUG_MASK
        flags = flags & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)
        # allocate_slab
        flags = flags | {COMP} | ({DMA} if dma_cache else set())
        oo, mn = C.slab_orders(object_size)
        alloc_gfp = (flags | {NOWARN, NORETRY}) - {NOFAIL}
        if DR in alloc_gfp and oo > mn:
            alloc_gfp = (alloc_gfp | {NOMEMALLOC}) - {DR, KSWAPD}
        if self.alloc_pages(frozenset(alloc_gfp), oo):
            return True
        if "slab-order-fallback" in self.mut:
            return False
        return self.alloc_pages(frozenset(flags), mn)

    def kmalloc(self, size: int, gfp: frozenset, account_cache: bool = False) -> bool:
        self._step("mm/slub.c: __do_kmalloc_node", f"size {size}")
        if size > KMALLOC_MAX_CACHE_SIZE:
            self._step("mm/slub.c: ___kmalloc_large_node")
            if gfp & GFP_SLAB_BUG_MASK:
                self.warnings.append(C.W_FIX_FLAGS)
                gfp = gfp - GFP_SLAB_BUG_MASK
            return self.alloc_pages(gfp | {COMP}, get_order(size))
        if size == 0:
            return True  # ZERO_SIZE_PTR
        # kmalloc_type(): __GFP_DMA selects a dma-kmalloc cache (SLAB_CACHE_DMA)
        return self.kmem_cache_alloc(_kmalloc_class(size), gfp, DMA in gfp, account_cache)

    # --- vmalloc: mm/vmalloc.c, mm/util.c -----------------------------------------------------
    def vmalloc(self, size: int, gfp: frozenset) -> bool:
        self._step("mm/vmalloc.c: __vmalloc_node_range", f"size {size}")
        if size == 0:
            self.warnings.append(C.W_VMALLOC_ZERO)
            return False
        # __get_vm_area_node -> alloc_vmap_area
        if self.in_interrupt:
            raise Stop("bug", "mm/vmalloc.c: alloc_vmap_area", "might_sleep() in atomic context")
        seen = set()
        while not self.kmem_cache_alloc(C.VMAP_AREA_SIZE, gfp & GFP_RECLAIM_MASK, False, False):
            self._warn(C.W_VM_STRUCT, gfp)
            if NOFAIL not in gfp:
                return False
            if self.snapshot() in seen:
                raise Stop("loops", "mm/vmalloc.c: __vmalloc_node_range", "NOFAIL: retry vm area forever")
            seen.add(self.snapshot())
        return self._vmalloc_area_node(size, gfp)

    def _vmalloc_area_node(self, size, gfp) -> bool:
        self._step("mm/vmalloc.c: __vmalloc_area_node")
        nested_gfp = (gfp & GFP_RECLAIM_MASK) | {ZERO}
        nr_pages = C.pages_of(size)
        array_size = nr_pages * 8
        if not gfp & {DMA, DMA32}:
            gfp = gfp | {HIGHMEM}
        if array_size > PAGE_SIZE:
            ok = self.vmalloc(array_size, nested_gfp)
        else:
            ok = self.kmalloc(array_size, nested_gfp)
        if not ok:
            self._warn(C.W_VM_ARRAY, gfp)
            return False
        got = self._vm_area_alloc_pages(gfp | {NOWARN}, nr_pages)
        if got < min(nr_pages, VMALLOC_SIM_PAGES):
            if not self.fatal:
                self._warn(C.W_VM_PAGES, gfp)
            return False
        return True

    def _vm_area_alloc_pages(self, gfp, nr_pages) -> int:
        self._step("mm/vmalloc.c: vm_area_alloc_pages")
        nr_pages = min(nr_pages, VMALLOC_SIM_PAGES)
        allocated = 0
        while allocated < nr_pages:  # alloc_pages_bulk in chunks of 100
            want = min(100, nr_pages - allocated)
            if ACCOUNT in gfp:  # the bulk allocator does not account: one page via __alloc_pages
                got = 1 if self.alloc_pages(gfp, 0) else 0
            else:  # fast path only: pages above the low watermark
                got = max(0, min(want, self.free - WMARK_LOW))
                self.free -= got
            allocated += got
            if got < want:
                break
        while allocated < nr_pages:
            if NOFAIL not in gfp and self.fatal and "vmalloc-fatal-signal" not in self.mut:
                break
            if not self.alloc_pages(gfp, 0):
                break
            allocated += 1
        return allocated

    def kvmalloc(self, size: int, flags: frozenset) -> bool:
        self._step("mm/util.c: __kvmalloc_node_noprof", f"size {size}")
        kmalloc_flags = flags
        if size > PAGE_SIZE:
            kmalloc_flags = kmalloc_flags | {NOWARN}
            if MAYFAIL not in flags:
                kmalloc_flags = kmalloc_flags | {NORETRY}
            kmalloc_flags = kmalloc_flags - {NOFAIL}
        if self.kmalloc(size, frozenset(kmalloc_flags)):
            return True
        if size <= PAGE_SIZE:
            return False
        if DR not in flags:
            return False
        if size > INT_MAX:
            self._warn("WARN_ON_ONCE(size > INT_MAX)", flags)
            return False
        return self.vmalloc(size, flags)

    # --- mempool: mm/mempool.c ----------------------------------------------------------------
    def mempool_alloc(self, size: int, gfp: frozenset) -> bool:
        self._step("mm/mempool.c: mempool_alloc_noprof")
        self._might_alloc(gfp)
        gfp_mask = gfp | {NOMEMALLOC, NORETRY, NOWARN}
        gfp_temp = gfp_mask - {DR, IO}
        seen = set()
        while True:  # repeat_alloc:
            if self.kmalloc(size, frozenset(gfp_temp)):  # pool->alloc = mempool_kmalloc
                return True
            # pool->curr_nr == 0: no reserved element in this model
            if gfp_temp != gfp_mask:
                gfp_temp = gfp_mask
                continue
            if DR not in gfp_mask:
                return False
            # io_schedule_timeout(5*HZ) on pool->wait, then repeat_alloc
            if self.snapshot() in seen:
                raise Stop("loops", "mm/mempool.c: mempool_alloc_noprof",
                           "sleeps on pool->wait until an element is freed")
            seen.add(self.snapshot())


def _kmalloc_class(size: int) -> int:
    """kmalloc_size_roundup(): 8, 16, 32, 64, 96, 128, 192, 256, ... 8192."""
    for c in (8, 16, 32, 64, 96, 128, 192):
        if size <= c:
            return c
    return 1 << (size - 1).bit_length()


def simulate(req: Request, world: World, mutations=frozenset()) -> Outcome:
    """Run REQ in WORLD on a fresh Machine; the Outcome's path is the step trace."""
    if req.flags is None:
        raise ValueError("simulate() needs a resolved mask")
    m = Machine(world, req.kernel, req.scopes, mutations)
    m._nofail_seen = set()
    gfp = frozenset(req.flags)
    b = req.backend
    try:
        if b == "page":
            ok = m.alloc_pages(gfp, req.order)
        elif b in ("kmalloc", "idr", "skb"):
            ok = m.kmalloc(req.size, gfp, account_cache=req.accounted)
        elif b == "slab":
            ok = m.kmem_cache_alloc(req.size, gfp, req.lowmem_cache, req.accounted)
        elif b == "vmalloc":
            ok = m.vmalloc(req.size, gfp)
        elif b == "kvmalloc":
            ok = m.kvmalloc(req.size, gfp)
        elif b == "mempool":
            ok = m.mempool_alloc(req.size, gfp)
        else:
            raise ValueError(f"backend {b!r} is not simulated")
        kind = "succeeds" if ok else "null"
        where, why = m.trace[-1] if m.trace else ("", "")
    except Stop as stop:
        kind, where, why = stop.kind, stop.where, stop.why
    return Outcome(kind, where, why, tuple(sorted(set(m.warnings))), tuple(m.trace))
