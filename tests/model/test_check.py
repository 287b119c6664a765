"""The checker, its mutation test, claims, hypothesis properties, policies and the query functions."""
import io
import json

from hypothesis import given, settings, strategies as st

from gfplint.model.checker import CORE_BITS, ORDERS, check_model, check_worlds, make_request, masks
from gfplint.model.claims import Claim, builtin_claims, claims_of_rules, violation
from gfplint.model.cli import parse_mask, run_check, run_query
from gfplint.model.flags import layout
from gfplint.model.outcome import outcome
from gfplint.model.policy import apply_policy, brown_class
from gfplint.model.simulator import simulate
from gfplint.model.verdict import Request, classify, weakest
from gfplint.model.world import World, enumerate_worlds, in_set

SMALL = dict(kernels=("6.12",), orders=(0, 3, 4, 11), backends=("page", "kmalloc", "slab-account", "kvmalloc"),
             mask_lists={"6.12": masks("6.12", core_bits=CORE_BITS, modifier_bits=("__GFP_NOWARN",),
                                       modifier_bases=("GFP_KERNEL", "GFP_ATOMIC"))})


def test_check_model_agrees_on_thousands_of_combinations():
    res = check_model(**SMALL)
    assert res.combinations >= 20000
    assert res.disagreements == 0, res.smallest.describe()
    for stats in res.claims:
        assert stats.violations == 0, stats.smallest.describe()
    # every built-in claim was exercised
    assert all(s.requests > 0 for s in res.claims)


def test_check_covers_6_1_and_other_backends():
    res = check_model(kernels=("6.1",), orders=(0, 2, 4), backends=("vmalloc", "mempool", "slab"),
                      mask_lists={"6.1": masks("6.1", modifier_bits=())})
    assert res.ok and res.combinations > 10000


def _mutant(mutation, **kw):
    return check_model(mutations={mutation}, **{**SMALL, **kw})


def test_mutation_nofs_shortcut_is_caught():
    res = _mutant("oom-nofs-progress")
    assert res.disagreements > 0
    assert "__GFP_FS" not in res.smallest.request.flags  # a NOFS/NOIO request shows it


def test_mutation_memcg_force_high_is_caught():
    res = _mutant("memcg-force-high", backends=("kmalloc",))
    assert res.disagreements > 0
    assert "__GFP_HIGH" in res.smallest.request.flags and res.smallest.world.memcg != "none"


def test_mutation_victim_nopage_and_vmalloc_signal_are_caught():
    assert _mutant("oom-victim-nopage", backends=("page",)).disagreements > 0
    assert _mutant("vmalloc-fatal-signal", backends=("kvmalloc",)).disagreements > 0


def test_claim_vocabulary_and_violation():
    c = Claim(verdict="too-small-to-fail", never=("null",), in_worlds="production")
    req = Request("kmalloc", layout().lookup("GFP_KERNEL"), size=64)
    bad = World(signal="victim", memory="oom-killable")
    assert violation(c, [(World(), outcome(req, World()))]) is None
    why, world = violation(Claim(never=("null",), in_worlds="all"), [(bad, outcome(req, bad))])
    assert world == bad and "null" in why
    assert {c.verdict for c in builtin_claims()} >= {"nofail", "too-small-to-fail", "may-fail", "always-fails"}
    assert isinstance(claims_of_rules(), tuple)


def test_world_sets():
    ws = enumerate_worlds()
    assert len(ws) > 100 and len(set(ws)) == len(ws) and all(w.valid() for w in ws)
    assert all(in_set(w, "production") for w in ws if w.tier == "production")
    assert not any(in_set(w, "production") for w in ws if w.fault != "none" or w.signal != "none")
    assert set(check_worlds()) <= set(ws) | set(check_worlds())


worlds_st = st.sampled_from(enumerate_worlds())
bits_st = st.sets(st.sampled_from(CORE_BITS + ("__GFP_THISNODE", "__GFP_DMA", "__GFP_DMA32", "__GFP_MEMALLOC",
                                              "__GFP_NOMEMALLOC", "__GFP_NOWARN", "__GFP_KSWAPD_RECLAIM")))
backend_st = st.sampled_from(("page", "kmalloc", "slab", "slab-account", "vmalloc", "kvmalloc", "mempool"))
scopes_st = st.sets(st.sampled_from(("nofs", "noio", "noreclaim")))


@settings(max_examples=400, deadline=None)
@given(worlds_st, bits_st, st.sampled_from(ORDERS), backend_st, st.sampled_from(("6.12", "6.1")), scopes_st)
def test_property_simulator_agrees_with_outcome(world, bits, order, backend, kernel, scopes):
    req = make_request(backend, frozenset(bits), order, kernel, frozenset(scopes))
    assert outcome(req, world).key() == simulate(req, world).key()


@settings(max_examples=300, deadline=None)
@given(worlds_st, bits_st, st.integers(1, 1 << 23), st.sampled_from(("kmalloc", "slab", "kvmalloc", "vmalloc")))
def test_property_odd_sizes_agree_and_verdicts_hold(world, bits, size, backend):
    req = Request(backend, frozenset(bits), size=size)
    o = simulate(req, world)
    assert outcome(req, world).key() == o.key()
    v = classify(req)
    if v.verdict == "nofail":
        assert o.kind != "null"
    if v.verdict == "too-small-to-fail" and world.tier == "production":
        assert o.kind != "null"
    if v.verdict == "always-fails":
        assert o.kind not in ("succeeds", "loops")


def test_parse_mask():
    lay = layout()
    assert parse_mask("GFP_KERNEL|__GFP_ACCOUNT") == lay.lookup("GFP_KERNEL_ACCOUNT")
    assert parse_mask("GFP_KERNEL & ~__GFP_DIRECT_RECLAIM") == lay.lookup("GFP_KERNEL") - {"__GFP_DIRECT_RECLAIM"}
    assert parse_mask("(GFP_NOFS | __GFP_FS) & ~(__GFP_IO|__GFP_FS)") == lay.lookup("GFP_NOIO")
    assert parse_mask("0xcc0") == lay.lookup("GFP_KERNEL")
    assert parse_mask("GFP_ATOMIC", "6.1") == layout("6.1").lookup("GFP_ATOMIC")
    for bad in ("GFP_NOPE", "GFP_KERNEL|", "(GFP_KERNEL", "~GFP_KERNEL"):
        try:
            parse_mask(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_run_query_text_and_json():
    lines = []
    assert run_query("GFP_KERNEL", size=64, out=lines.append) == 0
    text = "\n".join(lines)
    assert "mm/oom_kill.c" in text and "too-small-to-fail" in text
    buf = io.StringIO()
    assert run_query("GFP_KERNEL|__GFP_NOFAIL", order=4, api="alloc_pages", fmt="json", out=buf) == 0
    data = json.loads(buf.getvalue())
    assert data["request"]["verdict"] == "nofail"
    rows = data["worlds"]
    assert not any(r["outcome"] == "null" for r in rows)
    assert any("WARN_ON_ONCE(nofail && order > 1)" in r["warnings"] for r in rows)
    assert all(r["simulator_agrees"] for r in rows)
    assert run_query("GFP_BOGUS", size=64, out=lines.append) == 2
    assert run_query("GFP_KERNEL", size=64, contexts=("sideways",), out=lines.append) == 2


def test_run_query_contexts():
    buf = io.StringIO()
    run_query("GFP_KERNEL", size=64, contexts=("atomic",), fmt="json", out=buf)
    assert {r["outcome"] for r in json.loads(buf.getvalue())["worlds"]} == {"bug"}
    buf = io.StringIO()
    run_query("GFP_KERNEL", size=64, contexts=("nofs",), fmt="json", out=buf)
    data = json.loads(buf.getvalue())
    assert data["request"]["scopes"] == ["nofs"]
    assert any(r["outcome"] == "loops" for r in data["worlds"])


def test_policies():
    k = layout().lookup("GFP_KERNEL")
    assert brown_class(k) == "GFP_KILLABLE" and brown_class(layout().lookup("GFP_ATOMIC")) == "GFP_ATOMIC"
    assert brown_class(k | {"__GFP_NOFAIL"}) == "GFP_NOFAIL"
    req = Request("page", k, order=4)
    oomk = World(memory="oom-killable")
    today = outcome(req, oomk)
    assert today.kind == "null"
    assert apply_policy("tstf:4", req, oomk, today).kind == "loops"
    assert apply_policy("tstf:3", req, oomk, today).kind == "null"
    assert apply_policy("brown", req, oomk, today).kind == "loops"  # GFP_KILLABLE waits
    dying = World(signal="fatal", memory="free")
    assert apply_policy("brown", req, dying, outcome(req, dying)).kind == "null"
    irq = World(task="interrupt")
    assert apply_policy("brown", req, irq, outcome(req, irq)).kind == "bug"


def test_run_check_prints_ok(monkeypatch):
    import gfplint.model.cli as cli

    monkeypatch.setattr(cli, "check_model", lambda worlds: check_model(**SMALL))
    lines = []
    assert run_check(out=lines.append) == 0
    assert any(line.startswith("OK:") for line in lines)


@settings(max_examples=300, deadline=None)
@given(bits_st, st.lists(st.integers(1, 1 << 33), min_size=3, max_size=3), st.sampled_from(("kmalloc", "slab", "kvmalloc")))
def test_property_a_size_range_is_judged_by_its_weakest_size(bits, ends, backend):
    # a size known only by its range (`u16 n * sizeof(x)`: 0 to 65535 * sizeof(x)) holds any size
    # in it: its verdict is no stronger than any of theirs, and "always fails" only if every size does
    low, size, high = sorted(ends)
    whole = classify(Request(backend, frozenset(bits), size=high, size_min=low))
    exact = classify(Request(backend, frozenset(bits), size=size))
    assert weakest([whole, exact]).verdict == whole.verdict
    if whole.verdict == "always-fails":
        assert exact.verdict == "always-fails"
    if classify(Request(backend, frozenset(bits), size=low)).verdict == "always-fails":
        assert whole.verdict == "always-fails"
