"""KERNEL-FACTS 5.1-5.2 (vmalloc, kvmalloc), 6.1 (mempool), 8.1 (scopes), 1.2/1.3 (layouts)."""
from gfplint.model import common as C
from gfplint.model.flags import current_gfp_context, gfp_allowed, layout
from gfplint.model.world import World

RECL = World(memory="reclaimable")


def test_vmalloc_fails_on_fatal_signal_unless_nofail(run):
    dying = World(signal="fatal", memory="reclaimable")
    assert run("vmalloc", "GFP_KERNEL", dying, size=1 << 20).kind == "null"
    assert run("vmalloc", "GFP_KERNEL|__GFP_NOFAIL", dying, size=1 << 20).kind == "succeeds"
    assert run("vmalloc", "GFP_KERNEL", RECL, size=1 << 20).kind == "succeeds"


def test_vmalloc_zero_warns_and_fails(run):
    o = run("vmalloc", "GFP_KERNEL", World(), size=0)
    assert o.kind == "null" and C.W_VMALLOC_ZERO in o.warnings


def test_vmalloc_in_atomic_context_is_a_bug_whatever_the_mask(run):
    assert run("vmalloc", "GFP_ATOMIC", World(task="interrupt"), size=8192).kind == "bug"


def test_vmalloc_32_pages_are_lowmem(run):
    # vmalloc_32's pages come from ZONE_DMA32: no OOM killer for them (the vmap_area object, a normal
    # slab allocation, may still OOM-kill first in this model; docs/model.md)
    assert run("page", "GFP_VMALLOC32|__GFP_NOWARN", World(memory="oom-killable"), order=0).kind == "null"


def test_kvmalloc_small_is_kmalloc(run):
    assert run("kvmalloc", "GFP_ATOMIC", RECL, size=4096).kind == "null"
    assert run("kvmalloc", "GFP_KERNEL", World(memory="oom-killable"), size=4096).kind == "succeeds"


def test_kvmalloc_large_falls_back_to_vmalloc_for_blocking_masks_only(run):
    oomk = World(memory="oom-killable")
    # the kmalloc attempt is NORETRY (fails without OOM); vmalloc's order-0 pages then OOM-kill
    assert run("kvmalloc", "GFP_KERNEL", oomk, size=1 << 20).kind == "succeeds"
    assert run("kvmalloc", "GFP_NOWAIT", oomk, size=1 << 20).kind == "null"
    assert run("kvmalloc", "GFP_KERNEL|__GFP_NOFAIL", World(signal="fatal", memory="oom-killable"),
               size=1 << 20).kind != "null"
    # no warning from the kmalloc attempt (NOWARN is added)
    assert C.W_WARN_ALLOC not in run("kvmalloc", "GFP_KERNEL", oomk, size=1 << 20).warnings


def test_mempool_6_1(run):
    for w in (RECL, World(memory="none"), World(signal="victim", memory="oom-killable"), World(fault="failslab-all")):
        assert run("mempool", "GFP_NOIO", w, size=256).kind != "null"
    assert run("mempool", "GFP_ATOMIC", RECL, size=256).kind == "null"
    assert run("mempool", "GFP_NOIO", World(task="interrupt"), size=256).kind == "bug"


def test_scope_table_8_1():
    k = layout().lookup("GFP_KERNEL")
    assert current_gfp_context(k, {"nofs"}) == layout().lookup("GFP_NOFS")
    assert current_gfp_context(k, {"noio"}) == layout().lookup("GFP_NOIO")
    assert current_gfp_context(k, {"noio", "nofs"}) == layout().lookup("GFP_NOIO")
    hm = layout().lookup("GFP_HIGHUSER_MOVABLE")
    assert "__GFP_MOVABLE" not in current_gfp_context(hm, {"pin"})
    atomic = layout().lookup("GFP_ATOMIC")
    assert current_gfp_context(atomic, {"nofs", "noio", "pin", "noreclaim"}) == atomic
    assert gfp_allowed(k, suspending=True) == k - {"__GFP_IO", "__GFP_FS"}


def test_layout_values_1_2_and_1_3():
    l12, l61 = layout("6.12"), layout("6.1")
    assert l12.value(l12.lookup("GFP_KERNEL")) == 0xcc0 == l61.value(l61.lookup("GFP_KERNEL"))
    assert l12.value(l12.lookup("GFP_ATOMIC")) == 0x820
    assert l61.value(l61.lookup("GFP_ATOMIC")) == 0xa20
    assert l12.value(l12.lookup("GFP_NOWAIT")) == 0x2800
    assert l61.value(l61.lookup("GFP_NOWAIT")) == 0x800
    assert l12.value(l12.lookup("GFP_NOFS")) == 0xc40 and l12.value(l12.lookup("GFP_NOIO")) == 0xc00
    assert l12.value(l12.lookup("GFP_KERNEL_ACCOUNT")) == 0x400cc0
    assert l12.value(l12.lookup("GFP_TRANSHUGE_LIGHT")) == 0x1c20ca
    assert l12.names(0x200) == frozenset() and l61.names(0x200) == {"__GFP_ATOMIC"}


def test_6_1_atomic_with_direct_reclaim_warns(run):
    o = run("page", "GFP_ATOMIC|__GFP_DIRECT_RECLAIM", World(memory="reclaimable"), kernel="6.1", order=0)
    assert C.W61_ATOMIC_RECLAIM in o.warnings and o.kind == "succeeds"


def test_6_1_gfp_nowait_warns_on_failure_6_12_does_not(run):
    assert C.W_WARN_ALLOC in run("page", "GFP_NOWAIT", RECL, kernel="6.1", order=0).warnings
    assert C.W_WARN_ALLOC not in run("page", "GFP_NOWAIT", RECL, kernel="6.12", order=0).warnings
