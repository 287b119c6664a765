"""too-small-to-fail: the site cannot fail in production under today's allocator."""
from gfplint.model.claims import Claim
from ._common import mask_text, site_finding, size_text

ID = "too-small-to-fail"
LEVEL = "note"
NAME = "TooSmallToFail"
PRECISION = "high"
TAGS = ("allocation", "too-small-to-fail")
SHORT = "The allocation cannot fail in production: it is a blocking request of order 3 or less."
FULL = (
    "The page allocator does not fail a request of order <= PAGE_ALLOC_COSTLY_ORDER (3, 32 KiB) that may "
    "enter direct reclaim and carries neither __GFP_NORETRY nor __GFP_RETRY_MAYFAIL (nor __GFP_THISNODE, a "
    "DMA zone or memcg accounting): it reclaims, invokes the OOM killer and retries "
    "(mm/page_alloc.c: __alloc_pages_slowpath, should_reclaim_retry, __alloc_pages_may_oom). Such a site "
    "fails only for a task that is itself being OOM-killed, inside a memalloc_noreclaim scope, during "
    "suspend, or under fault injection. This is the fact at the centre of the 'too small to fail' debate: "
    "its error handling is code that production never runs."
)
BAD = """\
buf = kmalloc(64, GFP_KERNEL);   /* loops until it succeeds */
if (!buf)
        return -ENOMEM;          /* reached only by fault injection */
"""
GOOD = """\
buf = kmalloc(64, GFP_KERNEL | __GFP_NOFAIL);   /* says what the allocator already does */
"""
SILENCE = "Add __GFP_NOFAIL (the site then says what it gets) or __GFP_RETRY_MAYFAIL/__GFP_NORETRY (it really may fail)."

CLAIM = Claim(verdict="too-small-to-fail", never=("null",), in_worlds="production",
              text="a too-small-to-fail request never returns NULL in a production world")


def check(prog, catalog):
    for r in prog.sites:
        if r.verdict != ID:
            continue
        s = r.site
        yield site_finding(
            ID, LEVEL, r,
            f"{s.api}() of {size_text(s)} with {mask_text(r, prog.kernel)} cannot fail in production: "
            "a blocking request of order 3 or less loops in the page allocator until it succeeds",
        )
