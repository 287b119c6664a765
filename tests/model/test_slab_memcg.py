"""KERNEL-FACTS 3.5 (kmalloc(size, GFP_KERNEL)) and 4.2 (memcg)."""
import pytest

from gfplint.model import common as C
from gfplint.model.world import World, enumerate_worlds

PRODUCTION = [w for w in enumerate_worlds() if w.tier == "production"]


@pytest.mark.parametrize("size", [1, 8, 64, 96, 4096, 8192, 8193, 16384, 32768])
def test_small_kmalloc_never_null_in_production(run, size):
    for w in PRODUCTION:
        assert run("kmalloc", "GFP_KERNEL", w, size=size).kind != "null", w


@pytest.mark.parametrize("size", [32769, 65536, 1 << 20, 4 << 20])
def test_costly_kmalloc_fails_under_pressure(run, size):
    o = run("kmalloc", "GFP_KERNEL", World(memory="oom-killable"), size=size)
    assert o.kind == "null" and C.W_WARN_ALLOC in o.warnings


def test_kmalloc_above_4mib_always_fails(run):
    for w in enumerate_worlds():
        assert run("kmalloc", "GFP_KERNEL", w, size=(4 << 20) + 1).kind == "null"
    assert C.W_ORDER in run("kmalloc", "GFP_KERNEL", World(), size=(4 << 20) + 1).warnings


def test_kmalloc_zero_is_zero_size_ptr(run):
    assert run("kmalloc", "GFP_KERNEL", World(task="interrupt"), size=0).kind == "succeeds"


def test_small_kmalloc_failure_cases_3_5(run):
    oomk = dict(memory="oom-killable")
    assert run("kmalloc", "GFP_KERNEL", World(signal="victim", **oomk), size=64).kind == "null"  # (a)
    assert run("kmalloc", "GFP_KERNEL", World(fault="failslab-all"), size=64).kind == "null"  # (b)
    assert run("kmalloc", "GFP_KERNEL", World(fault="failslab"), size=64).kind == "succeeds"  # ignore-gfp-wait
    assert run("kmalloc", "GFP_KERNEL", World(pf_memalloc=True, memory="reclaimable"), size=64).kind == "null"  # (c)
    assert run("kmalloc", "GFP_KERNEL", World(pf_dumpcore=True, **oomk), size=64).kind == "null"  # (d)
    assert run("kmalloc", "GFP_KERNEL", World(pm="suspending", **oomk), size=64).kind == "null"  # (e)
    assert run("kmalloc", "GFP_KERNEL_ACCOUNT", World(memcg="limit-unkillable"), size=64).kind == "null"  # (f)
    assert run("kmalloc", "GFP_KERNEL|__GFP_DMA", World(**oomk), size=64).kind == "null"  # (g)


def test_kmalloc_dma32_is_dropped_with_a_warning(run):
    o = run("kmalloc", "GFP_KERNEL|__GFP_DMA32", World(memory="oom-killable"), size=64)
    assert o.kind == "succeeds" and C.W_FIX_FLAGS in o.warnings


def test_slab_account_cache_is_charged_regardless_of_gfp(run):
    assert run("slab", "GFP_KERNEL", World(memcg="limit-unkillable"), size=64, accounted=True).kind == "null"
    assert run("slab", "GFP_KERNEL", World(memcg="limit-unkillable"), size=64).kind == "succeeds"


def test_slab_dma_cache_is_lowmem(run):
    assert run("slab", "GFP_KERNEL", World(memory="oom-killable"), size=64, lowmem_cache=True).kind == "null"


def test_memcg_4_2(run):
    unk, kil = World(memcg="limit-unkillable"), World(memcg="limit-killable")
    assert run("kmalloc", "GFP_NOWAIT|__GFP_ACCOUNT", kil, size=64).kind == "null"  # non-blocking
    assert run("kmalloc", "GFP_ATOMIC|__GFP_ACCOUNT", unk, size=64).kind == "succeeds"  # __GFP_HIGH forces
    assert run("kmalloc", "GFP_KERNEL_ACCOUNT|__GFP_NOFAIL", unk, size=64).kind == "succeeds"
    assert run("kmalloc", "GFP_KERNEL_ACCOUNT", World(memcg="limit-unkillable", pf_memalloc=True),
               size=64).kind == "succeeds"
    for m in ("GFP_KERNEL_ACCOUNT|__GFP_NORETRY", "GFP_KERNEL_ACCOUNT|__GFP_RETRY_MAYFAIL"):
        assert run("kmalloc", m, kil, size=64).kind == "null"
    o = run("kmalloc", "GFP_KERNEL_ACCOUNT", kil, size=64)
    assert o.kind == "succeeds" and C.W_MEMCG_OOM_KILL in o.warnings
    assert run("kmalloc", "GFP_KERNEL_ACCOUNT", unk, size=64).kind == "null"
    # more than 8 pages: no memcg OOM
    assert run("page", "GFP_KERNEL_ACCOUNT", kil, order=4).kind == "null"
    assert run("page", "GFP_KERNEL_ACCOUNT", kil, order=3).kind == "succeeds"
    # a dying task fails after the OOM pass; kernel threads are never charged
    assert run("kmalloc", "GFP_KERNEL_ACCOUNT", World(memcg="limit-killable", signal="fatal"), size=64).kind == "null"
    assert run("kmalloc", "GFP_KERNEL_ACCOUNT", World(task="kthread"), size=64).kind == "succeeds"
    # memcg OOM runs for GFP_NOFS too (no __GFP_FS shortcut for memcg)
    assert run("kmalloc", "GFP_NOFS|__GFP_ACCOUNT", kil, size=64).kind == "succeeds"
