"""redundant-nofs: GFP_NOFS/GFP_NOIO inside a memalloc scope that already implies it."""
import re

from gfplint import callgraph
from gfplint.findings import Finding
from gfplint.model.claims import Claim

ID = "redundant-nofs"
LEVEL = "note"
NAME = "RedundantNofs"
PRECISION = "medium"
TAGS = ("allocation", "scope-api", "cleanup")
SHORT = "An explicit GFP_NOFS/GFP_NOIO where every path already runs inside the matching memalloc scope."
FULL = (
    "current_gfp_context() (include/linux/sched/mm.h) strips __GFP_FS inside memalloc_nofs_save() and "
    "__GFP_IO|__GFP_FS inside memalloc_noio_save(). The scope API is the documented way to say 'no "
    "filesystem recursion here' (Documentation/core-api/gfp_mask-from-fs-io.rst); once every path into the "
    "site runs inside the scope, the explicit GFP_NOFS/GFP_NOIO adds nothing and can become GFP_KERNEL, "
    "which keeps the constraint in one place."
)
BAD = """\
flags = memalloc_nofs_save();
buf = kmalloc(len, GFP_NOFS);        /* the scope already strips __GFP_FS */
memalloc_nofs_restore(flags);
"""
GOOD = """\
flags = memalloc_nofs_save();
buf = kmalloc(len, GFP_KERNEL);      /* the scope decides */
memalloc_nofs_restore(flags);
"""
SILENCE = "Use GFP_KERNEL inside the scope, or drop the scope if the explicit mask is the intent."
CLAIM = Claim(verdict="too-small-to-fail", mask_lacks=("__GFP_FS",), never=("null",), in_worlds="production",
              text="a NOFS/NOIO request is as unlikely to fail as GFP_KERNEL: only the mask, not the outcome, changes")

_WRITTEN = re.compile(r"\bGFP_(NOFS|NOIO)\b")


def check(prog, catalog):
    for r in prog.sites:
        s = r.site
        m = _WRITTEN.search(s.gfp or "")
        if not m:
            continue
        kind = m.group(1)
        scopes = set(r.scopes)
        if kind == "NOFS" and not ({"nofs", "noio"} & scopes):
            continue
        if kind == "NOIO" and "noio" not in scopes:
            continue
        needed = {"nofs", "noio"} if kind == "NOFS" else {"noio"}
        local = needed & set(s.scopes_must)  # opened in the function itself: name that one
        scope = "memalloc_noio_save()" if "noio" in (local or scopes & needed) else "memalloc_nofs_save()"
        where = "in this function" if local else "on every call path into this function"
        yield Finding(
            ID, LEVEL, s.file, s.line, s.column, s.function,
            f"GFP_{kind} in {s.api}() is redundant: {scope} is open {where}, so GFP_KERNEL would behave the same",
            {"api": s.api, "gfp": s.gfp, "scopes": sorted(scopes)},
            path=[] if local else _witness(prog, s, "noio" if "noio" in scopes & needed else "nofs"),
            api=s.api, call=s.call,
        )


def _witness(prog, s, scope: str) -> list:
    """One call chain from a call made inside the scope down to the site (callgraph.must_witness())."""
    g = prog.contexts.graph if prog.contexts else None
    node = callgraph.node_for(g, s.file, s.function) if g is not None else None
    if node is None:
        return []
    steps = callgraph.must_witness(g, node, scope)
    return steps + [callgraph.step(s.file, s.line, s.function, f"{s.api}() called here with GFP_{'NOIO' if 'NOIO' in (s.gfp or '') else 'NOFS'}")] if steps else []
