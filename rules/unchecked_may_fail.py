"""unchecked-may-fail: a site that can fail whose result is used before any NULL check."""
from gfplint.model.claims import Claim
from ._common import mask_text, site_finding, size_text

ID = "unchecked-may-fail"
LEVEL = "warning"
NAME = "UncheckedMayFail"
PRECISION = "medium"
TAGS = ("allocation", "correctness", "null-dereference")
SHORT = "An allocation that can fail is dereferenced before any NULL check."
FULL = (
    "Allocations that are not too small to fail return NULL under ordinary conditions: non-blocking masks "
    "(GFP_ATOMIC, GFP_NOWAIT) whenever the watermark is not met, costly orders (above 32 KiB) after one "
    "reclaim pass, __GFP_NORETRY and __GFP_RETRY_MAYFAIL requests, memcg-accounted requests at memory.max, "
    "vmalloc with a fatal signal pending (mm/page_alloc.c, mm/memcontrol.c, mm/vmalloc.c). Using the result "
    "before checking it is a NULL dereference waiting for memory pressure."
)
BAD = """\
skb_data = kmalloc(len, GFP_ATOMIC);
memcpy(skb_data, src, len);              /* NULL under pressure */
"""
GOOD = """\
skb_data = kmalloc(len, GFP_ATOMIC);
if (!skb_data)
        return -ENOMEM;
memcpy(skb_data, src, len);
"""
SILENCE = "Check the result, or make the allocation nofail (blocking mask plus __GFP_NOFAIL)."

# NOFAIL and MEMALLOC masks are left out: the model shows vmalloc looping there (docs/model.md, limits).
CLAIM = Claim(verdict="may-fail", sometimes=("null",), in_worlds="killable", except_reasons=("overflow",),
              mask_lacks=("__GFP_NOFAIL", "__GFP_MEMALLOC"),
              text="a may-fail request returns NULL in at least one world a task can meet")


def check(prog, catalog):
    for r in prog.sites:
        s = r.site
        if r.verdict != "may-fail" or s.used_unchecked_line is None:
            continue
        yield site_finding(
            ID, LEVEL, r,
            f"{s.api}() of {size_text(s)} with {mask_text(r, prog.kernel)} can fail "
            f"({', '.join(r.reasons)}) and its result {s.stored_in} is dereferenced at line "
            f"{s.used_unchecked_line} without a NULL check",
            used_line=s.used_unchecked_line,
        )
