"""What-if policies from the 2024 linux-mm "too small to fail" discussion (KERNEL-FACTS 9).

  today      the allocator as it is (no change)
  tstf:N     "too small to fail guaranteed up to order N": a blocking request without
             __GFP_NORETRY/__GFP_RETRY_MAYFAIL of order <= N never returns NULL (it waits);
             fault injection still fails it
  brown      NeilBrown's classes, each with its stated semantics:
               GFP_NOFAIL    (__GFP_NOFAIL)          wait indefinitely: never NULL
               GFP_KILLABLE  (plain blocking mask)   wait indefinitely unless a fatal signal is
                                                     pending: NULL exactly for a dying task
               GFP_RETRY     (__GFP_RETRY_MAYFAIL)   bounded retries: today's outcome, and NULL
                                                     for a dying task
               GFP_NO_RETRY  (__GFP_NORETRY)         try once: today's outcome
               GFP_ATOMIC    (no direct reclaim)     do not sleep: today's outcome
A policy rewrites the outcome of today's model; it never makes a bug (sleep in
atomic context) legal and never rescues an order above MAX_PAGE_ORDER.
"""
from __future__ import annotations

from .common import Outcome
from .claims import request_order
from .flags import blocking
from .outcome import effective_gfp
from .verdict import MAX_PAGE_ORDER, Request
from .world import World

POLICIES = ("today", "tstf:N", "brown")
CLASSES = ("GFP_NOFAIL", "GFP_KILLABLE", "GFP_RETRY", "GFP_NO_RETRY", "GFP_ATOMIC")


def parse_policy(name: str) -> tuple[str, int | None]:
    name = (name or "today").strip()
    if name in ("today", "brown"):
        return name, None
    if name.startswith("tstf:") and name[5:].isdigit():
        return "tstf", int(name[5:])
    raise ValueError(f"unknown policy {name!r} (known: today, tstf:N, brown)")


def brown_class(flags: frozenset) -> str:
    """The class a mask maps to (its nearest equivalent today, KERNEL-FACTS 9.3)."""
    if not blocking(flags):
        return "GFP_ATOMIC"
    if "__GFP_NOFAIL" in flags:
        return "GFP_NOFAIL"
    if "__GFP_NORETRY" in flags:
        return "GFP_NO_RETRY"
    if "__GFP_RETRY_MAYFAIL" in flags:
        return "GFP_RETRY"
    return "GFP_KILLABLE"


def _as(o: Outcome, kind: str, why: str) -> Outcome:
    return Outcome(kind, "policy", why, o.warnings, o.path + (("policy", why),))


def apply_policy(policy: str, req: Request, world: World, today: Outcome) -> Outcome:
    """Today's outcome TODAY of REQ in WORLD, rewritten under POLICY."""
    name, n = parse_policy(policy)
    if name == "today" or today.kind == "bug":
        return today
    order = request_order(req)
    if order is not None and order > MAX_PAGE_ORDER and req.backend in ("page", "kmalloc", "slab"):
        return today
    flags = effective_gfp(req, world)
    if name == "tstf":
        guaranteed = (blocking(flags) and not flags & {"__GFP_NORETRY", "__GFP_RETRY_MAYFAIL"}
                      and order is not None and order <= n and world.fault == "none")
        if guaranteed and today.kind == "null":
            return _as(today, "loops", f"policy tstf:{n}: order {order} is guaranteed, waits")
        return today
    cls = brown_class(flags)
    if cls == "GFP_NOFAIL" and today.kind == "null" and blocking(flags):
        return _as(today, "loops", "GFP_NOFAIL: waits indefinitely")
    if cls == "GFP_KILLABLE":
        if world.dying:
            return _as(today, "null", "GFP_KILLABLE: fatal signal pending")
        if today.kind == "null" and world.fault == "none":
            return _as(today, "loops", "GFP_KILLABLE: waits until memory appears")
    if cls == "GFP_RETRY" and world.dying and today.kind != "null":
        return _as(today, "null", "GFP_RETRY: may abort on a fatal signal")
    return today
