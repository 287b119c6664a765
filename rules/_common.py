"""Helpers shared by rule modules: how a site is described in messages."""
from __future__ import annotations

from gfplint.callgraph import first_use_steps
from gfplint.findings import Finding
from gfplint.model.flags import describe
from gfplint.program import wrapped


def mask_text(r, kernel: str, masks=None) -> str:
    """The site's possible masks, spelled; MASKS (when given) replaces them (the atomic path's)."""
    s = r.site
    masks = masks or s.masks
    if masks is None:
        return s.gfp or "an unresolved mask"
    return " or ".join(describe(m, kernel) for m in masks)


def size_text(s) -> str:
    if s.order is not None and s.backend == "page":
        return f"order {s.order}"
    if s.size is not None:
        return f"{s.size} bytes"
    if s.size_max is not None and s.size_min:
        return f"{s.size_min} to {s.size_max} bytes"
    if s.size_max is not None:
        return f"up to {s.size_max} bytes"
    return "unknown size"


def site_finding(rule_id: str, level: str, r, message: str, **props) -> Finding:
    s = r.site
    base = {
        "verdict": r.verdict,
        "reasons": list(r.reasons),
        "api": s.api,
        "gfp": s.gfp,
        "flags": s.masks,
        "size": s.size,
        "order": s.order,
    }
    base.update(props)
    return Finding(rule_id, level, s.file, s.line, s.column, s.function, message, base, api=s.api, call=s.call)


def first_use_hidden(prog, r) -> bool:
    """R's atomic witness goes through a lazy initialization (callgraph.first_use_steps()), and
    --first-use was not given: no rule reports that atomic context."""
    return bool(r.atomic) and not getattr(prog, "first_use", False) and bool(first_use_steps(r.atomic))


def reported_wrapper_calls(prog, reported) -> set:
    """(file, line, wrapper) of each call to a wrapper that the rule reports in atomic context
    (REPORTED(r) says whether it does)."""
    return {(r.site.file, r.site.line, r.site.via) for r in prog.sites
            if r.site.via and r.atomic is not None and reported(r)}


def at_reported_wrapper_call(r, calls: set) -> bool:
    """R's atomic path enters R's function through a call that the rule already reports as the
    wrapper's allocation site (CALLS, from reported_wrapper_calls()): the finding for that path
    lands on the call, where the caller picks the mask (one report per path)."""
    path, s = r.atomic, r.site
    if not path or len(path) < 2 or s.held or not wrapped(s):
        return False
    entry = path[-2]
    return (entry["file"], entry["line"], s.function) in calls
