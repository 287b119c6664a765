"""Claims: what a rule (or a verdict) asserts about the allocator, as data.

A rule module in rules/ declares ``CLAIM = Claim(...)`` (or a tuple of
claims); the checker evaluates every claim against the model over the worlds
it names.  Vocabulary:

  Claim(
    verdict="too-small-to-fail",   # requests classify() gives this verdict ("*": any verdict)
    never=("null",),               # outcome kinds that must occur in NO world of in_worlds
    sometimes=(),                  # kinds that must occur in AT LEAST ONE world of in_worlds
    always=(),                     # kinds that must occur in EVERY world of in_worlds
    in_worlds="production",        # world set (world.WORLD_SETS): production, dying, killable
                                   #   (= production + dying), special, real (no fault injection),
                                   #   injected, atomic (interrupt/atomic context), all
    reasons=(), except_reasons=(), # filter on the verdict's reasons (any of / none of)
    mask_has=(), mask_lacks=(),    # filter on the effective mask (__GFP_* names)
    backends=(),                   # filter on the backend (page, kmalloc, slab, vmalloc, kvmalloc, mempool)
    min_order=None, max_order=None,# filter on the page order (page order, or get_order(size))
    kernels=(),                    # filter on the kernel tree ("6.12", "6.1")
    text="",                       # the claim in one sentence, for reports
  )

Outcome kinds: succeeds, null, loops, bug, panic, plus the pseudo-kind
"warn" (the outcome logged at least one warning).  A claim with no matching
request is vacuous; the checker reports how many requests each claim
covered.

``builtin_claims()`` gives the meaning of each verdict, so the checker has
teeth before any rule declares a claim; ``claims_of_rules()`` collects the
rules' CLAIMs (lazily importing gfplint.rules).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field, replace

from .common import KINDS, Outcome
from .verdict import PAGE_SIZE, Request, Verdict, get_order
from .world import WORLD_SETS

PSEUDO_KINDS = ("warn",)


@dataclass(frozen=True)
class Claim:
    verdict: str = "*"
    never: tuple = ()
    sometimes: tuple = ()
    always: tuple = ()
    in_worlds: str = "production"
    reasons: tuple = ()
    except_reasons: tuple = ()
    mask_has: tuple = ()
    mask_lacks: tuple = ()
    backends: tuple = ()
    min_order: int | None = None
    max_order: int | None = None
    kernels: tuple = ()
    text: str = ""
    rule: str = field(default="", compare=False)

    def __post_init__(self):
        for k in self.never + self.sometimes + self.always:
            if k not in KINDS and k not in PSEUDO_KINDS:
                raise ValueError(f"unknown outcome kind {k!r} in claim")
        if self.in_worlds not in WORLD_SETS:
            raise ValueError(f"unknown world set {self.in_worlds!r}")

    @property
    def name(self) -> str:
        return self.rule or f"verdict:{self.verdict}"

    def applies(self, req: Request, verdict: Verdict, eff_mask: frozenset) -> bool:
        if self.verdict != "*" and verdict.verdict != self.verdict:
            return False
        if self.reasons and not set(self.reasons) & set(verdict.reasons):
            return False
        if set(self.except_reasons) & set(verdict.reasons):
            return False
        if not set(self.mask_has) <= eff_mask or set(self.mask_lacks) & eff_mask:
            return False
        if self.backends and req.backend not in self.backends:
            return False
        if self.kernels and req.kernel not in self.kernels:
            return False
        order = request_order(req)
        if self.min_order is not None and (order is None or order < self.min_order):
            return False
        if self.max_order is not None and (order is None or order > self.max_order):
            return False
        return True


def request_order(req: Request) -> int | None:
    if req.backend == "page":
        return req.order
    if req.size is None:
        return None
    return get_order(req.size) if req.size > 0 else 0


def kinds_of(o: Outcome) -> set:
    ks = {o.kind}
    if o.warnings:
        ks.add("warn")
    return ks


def violation(claim: Claim, results: list) -> tuple | None:
    """RESULTS: [(world, Outcome)] for the claim's world set; None if the claim holds, else (why, world)."""
    for kind in claim.never:
        for world, o in results:
            if kind in kinds_of(o):
                return f"{kind} in [{world.label()}]", world
    for kind in claim.sometimes:
        if results and not any(kind in kinds_of(o) for _, o in results):
            return f"no world of {claim.in_worlds!r} gives {kind}", None
    for kind in claim.always:
        for world, o in results:
            if kind not in kinds_of(o):
                return f"{o.kind} (not {kind}) in [{world.label()}]", world
    return None


def builtin_claims() -> tuple:
    """What each verdict means (DESIGN.md site verdicts, KERNEL-FACTS 2.6, 9.3)."""
    return (
        Claim(verdict="nofail", never=("null",), in_worlds="all",
              text="a nofail site never returns NULL, not even under fault injection"),
        Claim(verdict="too-small-to-fail", never=("null",), in_worlds="production",
              text="a too-small-to-fail site never returns NULL in a production world"),
        Claim(verdict="too-small-to-fail", sometimes=("null",), in_worlds="all",
              text="a too-small-to-fail site does fail somewhere (else it would be nofail)"),
        Claim(verdict="may-fail", sometimes=("null",), in_worlds="production", except_reasons=("vmalloc",),
              text="a may-fail site returns NULL in at least one production world"),
        Claim(verdict="may-fail", sometimes=("null",), in_worlds="killable", reasons=("vmalloc",),
              # NOFAIL / MEMALLOC vmalloc: the model's vmap_area allocation (a new slab page every
              # time) retries or loops before the pages are reached; no NULL to show (docs/model.md)
              mask_lacks=("__GFP_NOFAIL", "__GFP_MEMALLOC"),
              text="a vmalloc may-fail site returns NULL at least for a task with a fatal signal pending"),
        Claim(verdict="always-fails", never=("succeeds", "loops"), in_worlds="all",
              text="an always-fails site never gets memory"),
        Claim(verdict="*", mask_has=("__GFP_DIRECT_RECLAIM",), backends=("page", "kmalloc", "slab", "mempool", "kvmalloc", "vmalloc"),
              in_worlds="atomic", max_order=10, always=("bug",),
              text="a blocking allocation in atomic context is a bug"),
        Claim(verdict="nofail", mask_has=("__GFP_NOFAIL",), backends=("page", "kmalloc"), min_order=2,
              max_order=10, kernels=("6.12",), in_worlds="production", sometimes=("warn",),
              text="6.12: NOFAIL above order 1 warns (WARN_ON_ONCE(order > 1))"),
    )


def _claims_in(module) -> tuple:
    c = getattr(module, "CLAIM", None)
    if c is None:
        return ()
    items = c if isinstance(c, (tuple, list)) else (c,)
    rule = getattr(module, "ID", None) or getattr(module, "RULE_ID", None) or module.__name__.rsplit(".", 1)[-1]
    return tuple(replace(x, rule=str(rule)) for x in items if isinstance(x, Claim))


def claims_of_rules() -> tuple:
    """CLAIMs declared by the rule modules (gfplint.rules.*), imported lazily; () if none."""
    try:
        pkg = importlib.import_module("gfplint.rules")
    except ImportError:
        return ()
    out = list(_claims_in(pkg))
    for info in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
        if info.name.startswith("_"):
            continue
        try:
            mod = importlib.import_module(f"gfplint.rules.{info.name}")
        except Exception:  # a broken rule module is the lead's to report; the checker keeps going
            continue
        out.extend(_claims_in(mod))
    return tuple(out)


def all_claims() -> tuple:
    return builtin_claims() + claims_of_rules()


__all__ = ["Claim", "builtin_claims", "claims_of_rules", "all_claims", "violation", "kinds_of", "request_order",
           "PAGE_SIZE"]
