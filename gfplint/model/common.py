"""Vocabulary shared by outcome.py and simulator.py: outcome kinds, warning
names, and the slab geometry.  Names only, no decisions: the two models must
reach their results independently."""
from __future__ import annotations

from dataclasses import dataclass

from .verdict import PAGE_ALLOC_COSTLY_ORDER, PAGE_SIZE, get_order

KINDS = ("succeeds", "null", "loops", "bug", "panic")
# succeeds  memory returned (possibly after reclaim, an OOM kill, or from reserves)
# null      failure returned to the caller (NULL, 0, -ENOMEM)
# loops     never returns failure; keeps retrying inside the allocator until memory appears
# bug       blocking allocation in atomic context (might_alloc -> might_sleep_if)
# panic     global OOM with nothing killable: panic("System is deadlocked on memory")

# Warnings: what lands in the kernel log (WARN splats, allocation-failure and OOM reports).
W_ORDER = "WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER)"
W_NOFAIL_ORDER = "WARN_ON_ONCE(nofail && order > 1)"  # 6.12 slowpath entry
W_NOFAIL_NORECLAIM = "WARN_ON_ONCE(nofail && !can_direct_reclaim)"  # 6.12 slowpath entry
W_NOFAIL_PF_MEMALLOC = "WARN_ON_ONCE(nofail && PF_MEMALLOC)"  # 6.12 slowpath entry
W61_NOFAIL_NORECLAIM = "WARN_ON_ONCE_GFP(nofail && !can_direct_reclaim)"  # 6.1 nopage
W61_NOFAIL_PF_MEMALLOC = "WARN_ON_ONCE_GFP(nofail && PF_MEMALLOC)"  # 6.1 nopage
W61_NOFAIL_COSTLY = "WARN_ON_ONCE_GFP(nofail && costly_order)"  # 6.1 nopage
W61_ATOMIC_RECLAIM = "WARN_ON_ONCE(__GFP_ATOMIC && __GFP_DIRECT_RECLAIM)"  # 6.1 slowpath entry
W_OOM_NOFAIL = "WARN_ON_ONCE_GFP(__GFP_NOFAIL) in __alloc_pages_may_oom"
W_WARN_ALLOC = "warn_alloc: page allocation failure"
W_OOM_KILL = "out_of_memory: Out of memory: Killed process"
W_MEMCG_OOM_KILL = "mem_cgroup_out_of_memory: Memory cgroup out of memory: Killed process"
W_FAULT = "FAULT_INJECTION: forcing a failure"
W_SLAB_OOM = "slab_out_of_memory: SLUB: Unable to allocate memory"
W_FIX_FLAGS = "kmalloc_fix_flags: Unexpected gfp"
W_VMALLOC_ZERO = "WARN_ON_ONCE(!size) in __vmalloc_node_range"
W_VM_STRUCT = "vmalloc error: vm_struct allocation failed"
W_VM_ARRAY = "vmalloc error: failed to allocated page array size"
W_VM_PAGES = "vmalloc error: failed to allocate pages"

VMAP_AREA_SIZE = 64  # sizeof(struct vmap_area) slab object, mm/vmalloc.c vmap_area_cachep
MEMCG_CHARGE_BATCH = 64


def slab_orders(object_size: int) -> tuple[int, int]:
    """(s->oo, s->min) page orders of a SLUB cache for OBJECT_SIZE (mm/slub.c calculate_order).

    s->min is get_order(object size); the preferred order packs about 16
    objects but stays <= slub_max_order (PAGE_ALLOC_COSTLY_ORDER) unless one
    object alone needs more.  An approximation of calculate_order(): only
    "oo > min or not" matters to the models.
    """
    mn = get_order(object_size)
    if mn > PAGE_ALLOC_COSTLY_ORDER:
        return mn, mn
    return max(mn, min(PAGE_ALLOC_COSTLY_ORDER, get_order(object_size * 16))), mn


def pages_of(size: int) -> int:
    return max(1, -(-size // PAGE_SIZE))


@dataclass(frozen=True)
class Outcome:
    """What one allocation does in one world.

    kind      one of KINDS
    where     "file: function" of the kernel code that decides it
    why       one line in the kernel's words
    warnings  messages logged on the way (sorted, unique)
    path      the cited branches taken, ("file: function", note) pairs
    """

    kind: str
    where: str
    why: str
    warnings: tuple = ()
    path: tuple = ()

    def key(self) -> tuple:
        """What two models must agree on."""
        return (self.kind, self.warnings)
