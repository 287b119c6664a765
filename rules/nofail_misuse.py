"""nofail-misuse: __GFP_NOFAIL where it cannot be honoured."""
from gfplint.callgraph import first_use_steps, through_field
from gfplint.findings import Finding
from gfplint.model.claims import Claim
from gfplint.model.flags import blocking
from gfplint.model.verdict import KMALLOC_MAX_CACHE_SIZE, get_order

from ._common import at_reported_wrapper_call, first_use_hidden, reported_wrapper_calls

ID = "nofail-misuse"
LEVEL = "error"
NAME = "NofailMisuse"
PRECISION = "high"
TAGS = ("allocation", "correctness", "nofail")
SHORT = "__GFP_NOFAIL where the allocator cannot honour it (no direct reclaim, atomic context, PF_MEMALLOC, order > 1)."
FULL = (
    "__GFP_NOFAIL promises the caller never sees NULL, which the page allocator can only keep by sleeping "
    "and retrying. 6.12 documents that NOFAIL must be used with __GFP_DIRECT_RECLAIM, never in non-sleepable "
    "context, and not for buddy allocations above order 1 (include/linux/gfp_types.h). "
    "__alloc_pages_slowpath returns NULL with a warning for a NOFAIL request without direct reclaim, and "
    "warns at entry for order > 1 and for PF_MEMALLOC (memalloc_noreclaim) callers. kmalloc above 8 KiB goes "
    "to the page allocator (order >= 2); use kvmalloc(..., GFP_KERNEL | __GFP_NOFAIL) for large buffers."
)
BAD = """\
spin_lock(&lock);
p = kmalloc(64, GFP_ATOMIC | __GFP_NOFAIL);      /* cannot loop: NULL plus a warning */
spin_unlock(&lock);
"""
GOOD = """\
p = kmalloc(64, GFP_KERNEL | __GFP_NOFAIL);      /* outside the lock, blocking */
spin_lock(&lock);
"""
SILENCE = "Use a blocking mask outside atomic sections, kvmalloc for large sizes, or drop __GFP_NOFAIL and handle failure."
CLAIM = Claim(mask_has=("__GFP_NOFAIL",), mask_lacks=("__GFP_DIRECT_RECLAIM",), backends=("page", "kmalloc"),
              kernels=("6.12",), sometimes=("null",), in_worlds="production",
              text="a __GFP_NOFAIL request without direct reclaim can still return NULL (6.12)")


ATOMIC = "it runs in atomic context"


def problems(r, kernel: str, wrapper_calls: frozenset = frozenset(), hidden: bool = False) -> list:
    """What is wrong with R's __GFP_NOFAIL; WRAPPER_CALLS: the wrapper calls already reported for
    their atomic path (that path is not reported again inside the wrapper); HIDDEN: the atomic
    path goes through a lazy initialization and --first-use was not given (as sleep-in-atomic)."""
    s = r.site
    out = []
    if not s.masks or not all("__GFP_NOFAIL" in m for m in s.masks):
        return out
    if not all(blocking(m) for m in s.masks):
        out.append("the mask has no __GFP_DIRECT_RECLAIM, so the allocator returns NULL instead of looping")
    elif r.atomic is not None and not hidden and not at_reported_wrapper_call(r, wrapper_calls):
        out.append(f"{ATOMIC} ({r.atomic[0]['what']}), where it cannot sleep to retry")
    if r.noreclaim is not None:
        out.append("it runs under memalloc_noreclaim_save() (PF_MEMALLOC), where the allocator warns")
    order = _order(s)
    if order is not None and order > (1 if kernel != "6.1" else 3) and s.backend in ("page", "kmalloc"):
        out.append(f"order {order} is above what NOFAIL supports for the buddy allocator; use kvmalloc()")
    return out


def _in_atomic(why: list) -> bool:
    """The problems WHY include the site's atomic context."""
    return any(w.startswith(ATOMIC) for w in why)


def _order(s):
    if s.backend == "page":
        return s.order
    if s.backend == "kmalloc" and s.size is not None and s.size > KMALLOC_MAX_CACHE_SIZE:
        return get_order(s.size)
    return None


def check(prog, catalog):
    wrapper_calls = reported_wrapper_calls(
        prog, lambda r: _in_atomic(problems(r, prog.kernel, hidden=first_use_hidden(prog, r))))
    for r in prog.sites:
        why = problems(r, prog.kernel, wrapper_calls, first_use_hidden(prog, r))
        if not why:
            continue
        s = r.site
        path = (r.atomic if _in_atomic(why) else None) or r.noreclaim or []
        low = through_field(path)  # --through-fields: the path guesses a member pointer's target
        lazy = bool(first_use_steps(path)) and path is r.atomic  # --first-use: shown, at lower confidence
        low = low or lazy
        yield Finding(
            ID, LEVEL, s.file, s.line, s.column, s.function,
            f"{s.api}() uses __GFP_NOFAIL but {'; and '.join(why)}"
            + ("; the path goes through a struct member pointer (lower confidence)" if through_field(path) else "")
            + ("; the atomic path goes through a lazy initialization (lower confidence)" if lazy else ""),
            {"verdict": r.verdict, "flags": s.masks, "api": s.api, "problems": why,
             "confidence": "low" if low else "high"},
            path=path, api=s.api, call=s.call,
        )
