"""sleep-in-atomic: an allocation that may enter direct reclaim, reachable in atomic context."""
from gfplint.callgraph import first_use_steps, through_field, witness_cost
from gfplint.findings import Finding
from gfplint.model.claims import Claim
from gfplint.model.flags import blocking

from ._common import at_reported_wrapper_call, first_use_hidden, mask_text, reported_wrapper_calls, size_text

ID = "sleep-in-atomic"
LEVEL = "error"
NAME = "SleepInAtomic"
PRECISION = "high"
TAGS = ("allocation", "correctness", "atomic-context", "concurrency")
SHORT = "A sleeping allocation (its mask allows direct reclaim) runs in atomic context."
FULL = (
    "An allocation whose mask carries __GFP_DIRECT_RECLAIM (GFP_KERNEL, GFP_NOFS, GFP_NOIO, ...) may sleep in "
    "reclaim (mm/page_alloc.c: __alloc_pages_slowpath; might_alloc() -> might_sleep_if()). Under a spinlock, "
    "rwlock, rcu_read_lock(), with preemption, interrupts or bottom halves disabled, or in a callback that "
    "runs in interrupt or softirq context (timers, tasklets, NAPI poll, hard irq handlers, RCU callbacks), "
    "sleeping is a bug: 'BUG: sleeping function called from invalid context' with CONFIG_DEBUG_ATOMIC_SLEEP, "
    "a deadlock or scheduling while atomic without it. The witness path shows where the atomic section "
    "was entered and the calls down to the allocation, each step with the conditions, as written, under "
    "which it runs (of the paths, the one with the fewest conditions left to check; the `conditions` "
    "property counts them). Below the atomic section, each path is reported once, at its first blocking "
    "allocation, as the kernel reports it: the allocations after that one on every path are the same bug. "
    "A path that enters a wrapper through a call reported as the wrapper's allocation is reported at that "
    "call only, not again at the allocation inside the wrapper. "
    "Sites whose mask is chosen at run time with an atomic "
    "alternative (in_interrupt() ? GFP_ATOMIC : GFP_KERNEL) are not reported. "
    "Nor, unless --first-use is given, are witness paths that go through a lazy initialization (the "
    "witness avoids one where it can): a step that runs only while a field of its function's "
    "parameter is zero, a field that function only ever sets (`if (!dev->stats) dev->stats = "
    "dma_alloc_coherent(...)`), below the function the atomic context starts in. Such code "
    "allocates on the first call for an object only, and whether that call can come in atomic "
    "context depends on the order of calls (probe before the interrupt handler), which the "
    "analysis does not see; with --first-use they are reported with lower confidence."
)
BAD = """\
spin_lock(&dev->lock);
entry = kmalloc(sizeof(*entry), GFP_KERNEL);   /* may sleep with a spinlock held */
spin_unlock(&dev->lock);
"""
GOOD = """\
entry = kmalloc(sizeof(*entry), GFP_KERNEL);   /* allocate before taking the lock */
spin_lock(&dev->lock);
list_add(&entry->list, &dev->list);
spin_unlock(&dev->lock);
"""
SILENCE = "Allocate before entering the atomic section, or use GFP_ATOMIC/GFP_NOWAIT and handle failure."
CLAIM = Claim(mask_has=("__GFP_DIRECT_RECLAIM",), backends=("page", "kmalloc", "slab", "mempool", "kvmalloc", "vmalloc"),
              in_worlds="atomic", max_order=10, always=("bug",),
              text="a blocking allocation in atomic context is a bug in every atomic world")


def sleeping(r) -> bool:
    """Every possible mask may block (a run-time choice with a non-blocking arm is not reported).
    A gfp_t-parameter site is judged by the masks its atomic path passes, not by every caller's."""
    masks = r.atomic_masks if r.atomic_masks is not None else r.site.masks
    return bool(masks) and all(blocking(m) for m in masks)


def check(prog, catalog):
    wrapper_calls = reported_wrapper_calls(prog, lambda r: sleeping(r) and not first_use_hidden(prog, r))
    for r in prog.sites:
        if r.atomic is None or not sleeping(r) or at_reported_wrapper_call(r, wrapper_calls) \
                or first_use_hidden(prog, r):
            continue
        s = r.site
        where = r.atomic[0]
        local = bool(s.held)
        how = (f"{where['what'].replace(' acquired here', '')} is held (line {where['line']})" if local
               else f"it is reached in atomic context from {where['function']}() ({where['file']}:{where['line']})")
        low = through_field(r.atomic)
        if low:  # --through-fields: the path guesses which function a member pointer holds
            how += "; the path goes through a struct member pointer (lower confidence)"
        once = first_use_steps(r.atomic)
        if once:
            how += "; " + _first_use_text(once)
            low = True
        yield Finding(
            ID, LEVEL, s.file, s.line, s.column, s.function,
            f"{s.api}() of {size_text(s)} with {mask_text(r, prog.kernel, r.atomic_masks)} may sleep in direct "
            f"reclaim, but {how}",
            {"verdict": r.verdict, "flags": s.masks, "api": s.api, "local": local, "hops": _hops(r.atomic),
             "conditions": _conditions(r.atomic),
             "confidence": "low" if low else "high",
             **({"first_use": sorted({f for st in once for f in st["first_use"]})} if once else {})},
            path=r.atomic, api=s.api, call=s.call,
        )


def _conditions(path: list) -> int:
    """Conditions, as written, the reader must check for the witness path to run (on Debian the
    count does not separate true findings from false ones: docs/context.md)."""
    return witness_cost(path)[1]


def _first_use_text(steps: list) -> str:
    """Why a --first-use finding is of lower confidence: the first step that runs only on an
    object's first use, in the words of the function that caches the result."""
    st = steps[0]
    fields = " and ".join(st["first_use"])
    return (f"it runs only before {st['function']}() sets {fields}: a lazy initialization, a bug only if "
            f"the object's first call comes in atomic context (lower confidence)")


def _hops(path: list) -> int:
    """Function boundaries between the atomic entry and the allocation (calls and callback registrations)."""
    return sum(1 for st in path if st["what"].startswith("calls ") or " registered with " in st["what"])
