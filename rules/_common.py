"""Helpers shared by rule modules: how a site is described in messages."""
from __future__ import annotations

from gfplint.findings import Finding
from gfplint.model.flags import describe


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
