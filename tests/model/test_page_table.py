"""KERNEL-FACTS 2.6 decision table, row by row (both models must agree; see conftest.run)."""
from gfplint.model import common as C
from gfplint.model.world import World

OOMK = World(memory="oom-killable")
RECL = World(memory="reclaimable")
NONE = World(memory="none")


def test_row1_order_above_max_fails_with_warning_unless_nowarn(run):
    o = run("page", "GFP_KERNEL", order=11)
    assert o.kind == "null" and C.W_ORDER in o.warnings
    assert run("page", "GFP_KERNEL|__GFP_NOWARN", order=11).warnings == ()
    assert run("page", "GFP_KERNEL|__GFP_NOFAIL", order=11).kind == "null"


def test_row2_fault_injection_default_exemptions(run):
    fpa = World(fault="fail_page_alloc")
    assert run("page", "GFP_KERNEL", fpa, order=2).kind == "succeeds"  # ignore-gfp-wait
    assert run("page", "GFP_ATOMIC", fpa, order=0).kind == "succeeds"  # min-order 1
    assert run("page", "GFP_ATOMIC", fpa, order=1).kind == "null"
    assert run("page", "GFP_ATOMIC|__GFP_HIGHMEM", fpa, order=1).kind == "succeeds"  # ignore-gfp-highmem
    allw = World(fault="fail_page_alloc-all")
    assert run("page", "GFP_KERNEL", allw, order=0).kind == "null"
    assert run("page", "GFP_KERNEL|__GFP_NOFAIL", allw, order=0).kind == "succeeds"


def test_row3_fast_path(run):
    for m in ("GFP_KERNEL", "GFP_ATOMIC", "GFP_NOWAIT", "GFP_NOFS|__GFP_NORETRY"):
        assert run("page", m, World(), order=3).kind == "succeeds"


def test_row4_nofail_without_reclaim_6_12_warns_and_fails(run):
    o = run("page", "GFP_NOWAIT|__GFP_NOFAIL", RECL, order=0)
    assert o.kind == "null" and C.W_NOFAIL_NORECLAIM in o.warnings


def test_row4_nofail_without_reclaim_6_1(run):
    o = run("page", "GFP_NOWAIT|__GFP_NOFAIL", RECL, kernel="6.1", order=0)
    assert o.kind == "null" and C.W61_NOFAIL_NORECLAIM in o.warnings and C.W_NOFAIL_NORECLAIM not in o.warnings


def test_row5_nofail_never_null_and_order_warnings(run):
    for w in (RECL, OOMK, NONE, World(pf_memalloc=True, memory="none"), World(signal="victim", memory="none"),
              World(pm="oom-disabled", memory="oom-killable")):
        for order in (0, 1, 2, 4, 10):
            assert run("page", "GFP_KERNEL|__GFP_NOFAIL", w, order=order).kind != "null"
            assert run("page", "GFP_KERNEL|__GFP_NOFAIL", w, kernel="6.1", order=order).kind != "null"
    assert C.W_NOFAIL_ORDER in run("page", "GFP_KERNEL|__GFP_NOFAIL", OOMK, order=2).warnings
    assert C.W_NOFAIL_ORDER not in run("page", "GFP_KERNEL|__GFP_NOFAIL", OOMK, order=1).warnings
    # the 6.12 check fires only when the fast path failed
    assert run("page", "GFP_KERNEL|__GFP_NOFAIL", World(), order=4).warnings == ()
    # 6.1: only costly orders, only at nopage, and WARN_ON_ONCE_GFP honours NOWARN
    assert C.W61_NOFAIL_COSTLY in run("page", "GFP_KERNEL|__GFP_NOFAIL", OOMK, kernel="6.1", order=4).warnings
    w61 = run("page", "GFP_KERNEL|__GFP_NOFAIL", OOMK, kernel="6.1", order=2).warnings
    assert not {C.W61_NOFAIL_COSTLY, C.W_NOFAIL_ORDER} & set(w61)
    assert not run("page", "GFP_KERNEL|__GFP_NOFAIL|__GFP_NOWARN", OOMK, kernel="6.1", order=4).warnings
    assert C.W_NOFAIL_PF_MEMALLOC in run("page", "GFP_KERNEL|__GFP_NOFAIL", World(pf_memalloc=True, memory="none"),
                                         order=0).warnings


def test_row6_nonblocking_fails_below_watermark_reserves_help_gfp_atomic_only(run):
    assert run("page", "GFP_ATOMIC", RECL, order=0).kind == "null"
    assert run("page", "GFP_NOWAIT", RECL, order=0).kind == "null"
    res = World(memory="reclaimable", reserves=True)
    assert run("page", "GFP_ATOMIC", res, order=0).kind == "succeeds"  # ALLOC_MIN_RESERVE
    assert run("page", "GFP_NOWAIT", res, order=0).kind == "null"  # NON_BLOCK alone: no reduction


def test_row7_pf_memalloc_fails_without_reserves_succeeds_with(run):
    assert run("page", "GFP_KERNEL", World(pf_memalloc=True, memory="reclaimable"), order=0).kind == "null"
    assert run("page", "GFP_KERNEL", World(pf_memalloc=True, memory="none", reserves=True), order=0).kind == "succeeds"
    # __GFP_NOMEMALLOC beats PF_MEMALLOC
    assert run("page", "GFP_KERNEL|__GFP_NOMEMALLOC", World(pf_memalloc=True, memory="none", reserves=True),
               order=0).kind == "null"
    # the noreclaim scope is PF_MEMALLOC
    assert run("page", "GFP_KERNEL", RECL, order=0, scopes=frozenset({"noreclaim"})).kind == "null"


def test_row8_noretry_one_round_no_oom(run):
    assert run("page", "GFP_KERNEL|__GFP_NORETRY", RECL, order=0).kind == "succeeds"
    o = run("page", "GFP_KERNEL|__GFP_NORETRY", OOMK, order=0)
    assert o.kind == "null" and C.W_OOM_KILL not in o.warnings
    # costly NORETRY with compaction allowed gives up when compaction is skipped (below the watermarks)
    assert run("page", "GFP_KERNEL|__GFP_NORETRY", RECL, order=4).kind == "null"


def test_rows9_to_11_costly(run):
    assert run("page", "GFP_KERNEL", RECL, order=4).kind == "succeeds"
    o = run("page", "GFP_KERNEL", OOMK, order=4)
    assert o.kind == "null" and C.W_WARN_ALLOC in o.warnings and C.W_OOM_KILL not in o.warnings
    assert run("page", "GFP_KERNEL|__GFP_RETRY_MAYFAIL", OOMK, order=4).kind == "null"
    assert run("page", "GFP_NOIO|__GFP_RETRY_MAYFAIL", OOMK, order=4).kind == "null"


def test_rows12_to_16_no_oom_killer(run):
    for m, w in (("GFP_KERNEL|__GFP_RETRY_MAYFAIL", OOMK), ("GFP_KERNEL|__GFP_THISNODE", OOMK),
                 ("GFP_KERNEL|__GFP_DMA", OOMK), ("GFP_KERNEL|__GFP_DMA32", OOMK),
                 ("GFP_KERNEL", World(pf_dumpcore=True, memory="oom-killable")),
                 ("GFP_KERNEL", World(pm="suspending", memory="oom-killable")),
                 ("GFP_KERNEL", World(pm="oom-disabled", memory="oom-killable"))):
        o = run("page", m, w, order=0)
        assert o.kind == "null" and C.W_OOM_KILL not in o.warnings, (m, w)


def test_row17_oom_victims_fail_once_reserves_do_not_help(run):
    assert run("page", "GFP_KERNEL", World(signal="victim", memory="oom-killable"), order=0).kind == "null"
    assert run("page", "GFP_KERNEL", World(signal="fatal", memory="oom-killable"), order=0).kind == "null"
    assert run("page", "GFP_NOFS", World(signal="fatal", memory="oom-killable"), order=0).kind == "null"
    assert run("page", "GFP_KERNEL", World(signal="victim", memory="oom-killable", reserves=True),
               order=0).kind == "succeeds"
    assert run("page", "GFP_KERNEL|__GFP_NOMEMALLOC", World(signal="victim", memory="oom-killable", reserves=True),
               order=0).kind == "null"
    # reclaim still works for a dying task: a fatal signal alone does not fail order 0
    assert run("page", "GFP_KERNEL", World(signal="fatal", memory="reclaimable"), order=0).kind == "succeeds"


def test_row18_nofs_loops_without_killing(run):
    for m in ("GFP_NOFS", "GFP_NOIO"):
        o = run("page", m, OOMK, order=0)
        assert o.kind == "loops" and C.W_OOM_KILL not in o.warnings
        assert run("page", m, NONE, order=3).kind == "loops"
    assert run("page", "GFP_KERNEL", OOMK, order=0, scopes=frozenset({"nofs"})).kind == "loops"


def test_row19_gfp_kernel_kills_and_succeeds_or_panics(run):
    o = run("page", "GFP_KERNEL", OOMK, order=3)
    assert o.kind == "succeeds" and C.W_OOM_KILL in o.warnings
    assert run("page", "GFP_KERNEL", NONE, order=0).kind == "panic"
    # kernel threads: never victims, so never NULL here
    for mem in ("reclaimable", "oom-killable", "none"):
        assert run("page", "GFP_KERNEL", World(task="kthread", memory=mem), order=0).kind != "null"


def test_blocking_in_atomic_context_is_a_bug(run):
    irq = World(task="interrupt", memory="free")
    assert run("page", "GFP_KERNEL", irq, order=0).kind == "bug"
    assert run("page", "GFP_ATOMIC", irq, order=0).kind == "succeeds"
