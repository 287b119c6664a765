"""The model check: simulator vs outcome() vs claims vs verdict.classify().

check_model() enumerates kernels x masks (every combination of the
behaviour-relevant bits, plus the modifier bits over the common masks) x
orders 0..11 x backends x worlds, runs the simulator and the outcome
function on each, and evaluates every claim (the verdicts' built-in
meanings and the rules' CLAIMs) over the worlds it names.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Iterable

from .claims import Claim, all_claims, violation
from .flags import layout
from .outcome import effective_gfp, outcome
from .simulator import simulate
from .verdict import PAGE_SIZE, Request, classify
from .world import World, in_set

CORE_BITS = ("__GFP_DIRECT_RECLAIM", "__GFP_FS", "__GFP_IO", "__GFP_HIGH", "__GFP_NOFAIL", "__GFP_NORETRY",
             "__GFP_RETRY_MAYFAIL", "__GFP_ACCOUNT")
MODIFIER_BITS = ("__GFP_THISNODE", "__GFP_DMA", "__GFP_DMA32", "__GFP_MEMALLOC", "__GFP_NOMEMALLOC", "__GFP_NOWARN")
MODIFIER_BASES = ("GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOWAIT")
ORDERS = tuple(range(12))
CHECK_BACKENDS = ("page", "kmalloc", "slab", "slab-account", "vmalloc", "kvmalloc", "mempool")


def size_of_order(order: int) -> int:
    """A byte size whose get_order() is ORDER (64 bytes for order 0: a typical small object)."""
    return 64 if order == 0 else PAGE_SIZE << order


def masks(kernel: str, core_bits=CORE_BITS, modifier_bits=MODIFIER_BITS, modifier_bases=MODIFIER_BASES) -> list:
    """Every combination of CORE_BITS (each with KSWAPD_RECLAIM), then every combination of
    MODIFIER_BITS added to each of MODIFIER_BASES."""
    out, seen = [], set()
    for n in range(1 << len(core_bits)):
        m = frozenset({"__GFP_KSWAPD_RECLAIM"} | {b for i, b in enumerate(core_bits) if n >> i & 1})
        if m not in seen:
            seen.add(m)
            out.append(m)
    lay = layout(kernel)
    for base in modifier_bases:
        for n in range(1 << len(modifier_bits)):
            m = lay.lookup(base) | {b for i, b in enumerate(modifier_bits) if n >> i & 1}
            if m not in seen:
                seen.add(m)
                out.append(m)
    return out


def make_request(backend: str, flags: frozenset, order: int, kernel: str, scopes=frozenset()) -> Request:
    if backend == "page":
        return Request("page", flags, order=order, kernel=kernel, scopes=scopes)
    if backend == "slab-account":
        return Request("slab", flags, size=size_of_order(order), accounted=True, kernel=kernel, scopes=scopes)
    return Request(backend, flags, size=size_of_order(order), kernel=kernel, scopes=scopes)


@dataclass
class Counterexample:
    check: str  # "simulator-vs-outcome" or a claim name
    request: Request
    world: World | None
    detail: str

    def size(self) -> tuple:
        order = self.request.order if self.request.backend == "page" else self.request.size
        return (order or 0, len(self.request.flags or ()), self.world.complexity() if self.world else 0)

    def describe(self) -> str:
        r = self.request
        amount = f"order {r.order}" if r.backend == "page" else f"size {r.size}"
        extra = " SLAB_ACCOUNT" if r.accounted else ""
        scopes = f" scopes {','.join(sorted(r.scopes))}" if r.scopes else ""
        w = f" in [{self.world.label()}]" if self.world else ""
        from .flags import describe
        return f"{r.backend}{extra} {describe(r.flags, r.kernel)} {amount} ({r.kernel}){scopes}{w}: {self.detail}"


@dataclass
class ClaimStats:
    claim: Claim
    requests: int = 0
    violations: int = 0
    smallest: Counterexample | None = None


@dataclass
class CheckResult:
    combinations: int = 0  # (request, world) pairs run through both models
    requests: int = 0
    worlds: int = 0
    agreements: int = 0
    disagreements: int = 0
    smallest: Counterexample | None = None  # smallest simulator-vs-outcome disagreement
    claims: list = field(default_factory=list)  # [ClaimStats]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.disagreements == 0 and all(c.violations == 0 for c in self.claims)

    def counterexamples(self) -> list:
        out = [self.smallest] if self.smallest else []
        out += [c.smallest for c in self.claims if c.smallest]
        return out


def _keep_smaller(old: Counterexample | None, new: Counterexample) -> Counterexample:
    return new if old is None or new.size() < old.size() else old


def requests_of(kernels: Iterable[str], orders: Iterable[int], backends: Iterable[str], mask_lists=None) -> list:
    out = []
    for kernel in kernels:
        ms = mask_lists[kernel] if mask_lists else masks(kernel)
        for backend, order, m in itertools.product(backends, orders, ms):
            out.append(make_request(backend, m, order, kernel))
    return out


def check_requests(reqs: Iterable[Request], worlds: list, claims: Iterable[Claim] = (),
                   mutations=frozenset()) -> CheckResult:
    res = CheckResult(worlds=len(worlds))
    stats = [ClaimStats(c) for c in claims]
    sets = {c.in_worlds for c in stats_claims(stats)}
    members = {name: [in_set(w, name) for w in worlds] for name in sets}
    t0 = time.monotonic()
    for req in reqs:
        res.requests += 1
        results = []
        for w in worlds:
            a = outcome(req, w)
            b = simulate(req, w, mutations)
            res.combinations += 1
            if a.key() == b.key():
                res.agreements += 1
            else:
                res.disagreements += 1
                res.smallest = _keep_smaller(res.smallest, Counterexample(
                    "simulator-vs-outcome", req, w,
                    f"outcome() says {a.kind} {list(a.warnings)} ({a.where}), "
                    f"simulator says {b.kind} {list(b.warnings)} ({b.where})"))
            results.append(b)  # claims are judged on the simulator: the independent formulation
        if not stats:
            continue
        verdict = classify(req)
        eff = effective_gfp(req, World())
        for st in stats:
            if not st.claim.applies(req, verdict, eff):
                continue
            st.requests += 1
            mask = members[st.claim.in_worlds]
            pairs = [(w, o) for w, o, m in zip(worlds, results, mask) if m]
            v = violation(st.claim, pairs)
            if v:
                why, world = v
                st.violations += 1
                st.smallest = _keep_smaller(st.smallest, Counterexample(
                    st.claim.name, req, world, f"{verdict.verdict} {list(verdict.reasons)}: {why}"))
    res.claims = stats
    res.seconds = time.monotonic() - t0
    return res


def stats_claims(stats):
    return [s.claim for s in stats]


def check_worlds() -> list:
    """The standard check's worlds: each world attribute exercised at least once, every memory state
    in production.  check_model(worlds=enumerate_worlds()) runs all of them (slower)."""
    W = World
    return [
        W(), W(memory="reclaimable"), W(memory="oom-killable"), W(memory="none"),
        W(memory="reclaimable", reserves=True), W(memory="oom-killable", reserves=True),
        W(memcg="limit-unkillable"), W(memcg="limit-killable", memory="oom-killable"),
        W(task="kthread", memory="oom-killable", reserves=True), W(task="kthread", memory="none"),
        W(task="interrupt", memory="reclaimable"), W(task="interrupt", memory="reclaimable", reserves=True),
        W(signal="fatal", memory="reclaimable"), W(signal="victim", memory="oom-killable"),
        W(signal="fatal", memcg="limit-killable"), W(pf_memalloc=True, memory="reclaimable"),
        W(pf_dumpcore=True, memory="oom-killable"), W(pm="suspending", memory="oom-killable"),
        W(pm="oom-disabled", memory="oom-killable", reserves=True),
        W(fault="failslab-all"), W(task="interrupt", fault="failslab"), W(fault="fail_page_alloc-all"),
        W(task="kthread", fault="fail_page_alloc", memory="oom-killable"),
    ]


STANDARD_MASKS = {"6.12": dict(modifier_bases=("GFP_KERNEL",)), "6.1": dict(modifier_bits=())}


def standard_masks(kernels) -> dict:
    """6.12: every combination of CORE_BITS plus every combination of MODIFIER_BITS on GFP_KERNEL;
    6.1: every combination of CORE_BITS."""
    return {k: masks(k, **STANDARD_MASKS.get(k, {})) for k in kernels}


def check_model(kernels=("6.12", "6.1"), orders=ORDERS, backends=CHECK_BACKENDS, worlds=None, claims=None,
                mutations=frozenset(), mask_lists=None) -> CheckResult:
    """Run the whole check and return counts and the smallest counterexamples.

    Defaults: both kernels, standard_masks(), orders 0..11, every modelled backend, check_worlds(),
    the built-in claims plus the rules' CLAIMs.
    """
    worlds = list(worlds) if worlds is not None else check_worlds()
    claims = tuple(claims) if claims is not None else all_claims()
    mask_lists = mask_lists if mask_lists is not None else standard_masks(kernels)
    reqs = requests_of(kernels, orders, backends, mask_lists)
    return check_requests(reqs, worlds, claims, mutations)
