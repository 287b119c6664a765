"""always-fails: a request larger than the allocator can ever satisfy."""
from gfplint.model.claims import Claim
from ._common import mask_text, site_finding, size_text

ID = "always-fails"
LEVEL = "error"
NAME = "AlwaysFails"
PRECISION = "high"
TAGS = ("allocation", "correctness")
SHORT = "The request is larger than the allocator can ever satisfy."
FULL = (
    "kmalloc and the page allocator refuse any request above order MAX_PAGE_ORDER (10): "
    "__alloc_pages_noprof returns NULL with WARN_ON_ONCE_GFP (mm/page_alloc.c), so kmalloc of more than "
    "KMALLOC_MAX_SIZE (4 MiB on x86-64) and alloc_pages() of order 11 or more always fail. kvmalloc refuses "
    "sizes above INT_MAX (mm/util.c: __kvmalloc_node_noprof). The site is dead on arrival; its success path "
    "is the unreachable one."
)
BAD = """\
table = kmalloc(8 << 20, GFP_KERNEL);     /* 8 MiB: always NULL plus a warning */
"""
GOOD = """\
table = kvmalloc(8 << 20, GFP_KERNEL);    /* falls back to vmalloc */
"""
SILENCE = "Use kvmalloc()/vmalloc() for large buffers, or shrink the request."

CLAIM = Claim(verdict="always-fails", never=("succeeds", "loops"), in_worlds="all",
              text="an always-fails request never succeeds in any world")


def check(prog, catalog):
    for r in prog.sites:
        if r.verdict != "always-fails":
            continue
        s = r.site
        yield site_finding(
            ID, LEVEL, r,
            f"{s.api}() of {size_text(s)} with {mask_text(r, prog.kernel)} always fails: "
            "the request is above the largest order the page allocator serves (MAX_PAGE_ORDER 10, 4 MiB)",
        )
