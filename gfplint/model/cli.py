"""Plain functions behind `gfplint model` (the click command lives in gfplint/cli.py).

  run_check(out, full=False) -> exit code
  run_query(mask_expr, size, order, api, kernel, contexts, policy, fmt, out) -> exit code

OUT is a click-like echo callable or a file object with write().
"""
from __future__ import annotations

import io
import json
import re

from .checker import check_model, check_worlds
from .claims import request_order
from .flags import DEFAULT_KERNEL, SCOPES, describe, layout
from .outcome import BACKENDS, outcome
from .policy import apply_policy, brown_class, parse_policy
from .simulator import simulate
from .verdict import Request, classify
from .world import enumerate_worlds, worlds_for_contexts

# API name -> backend (size in bytes unless the backend is "page")
APIS = {
    "kmalloc": "kmalloc", "kzalloc": "kmalloc", "kcalloc": "kmalloc", "kmalloc_array": "kmalloc",
    "kmalloc_node": "kmalloc", "kzalloc_node": "kmalloc", "krealloc": "kmalloc", "kstrdup": "kmalloc",
    "kmemdup": "kmalloc", "kasprintf": "kmalloc", "devm_kmalloc": "kmalloc", "devm_kzalloc": "kmalloc",
    "kmem_cache_alloc": "slab", "kmem_cache_zalloc": "slab", "kmem_cache_alloc_node": "slab",
    "alloc_pages": "page", "alloc_page": "page", "__get_free_pages": "page", "__get_free_page": "page",
    "get_zeroed_page": "page", "alloc_pages_node": "page", "folio_alloc": "page", "page": "page",
    "vmalloc": "vmalloc", "vzalloc": "vmalloc", "__vmalloc": "vmalloc",
    "kvmalloc": "kvmalloc", "kvzalloc": "kvmalloc", "kvcalloc": "kvmalloc", "kvmalloc_array": "kvmalloc",
    "mempool_alloc": "mempool", "mempool": "mempool", "slab": "slab",
}
WORLD_CONTEXTS = ("atomic", "task", "process", "kthread", "user")


def _emit(out, text: str) -> None:
    if out is None:
        print(text)
    elif callable(out):
        out(text)
    else:
        out.write(text + "\n")


def _render(renderable) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=160, force_terminal=False, color_system=None).print(renderable)
    return buf.getvalue().rstrip("\n")


# --- mask expressions -------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<name>_*[A-Za-z][A-Za-z0-9_]*)|(?P<num>0x[0-9a-fA-F]+|\d+)|(?P<op>[|&~()]))")


def parse_mask(expr: str, kernel: str = DEFAULT_KERNEL) -> frozenset:
    """Parse "GFP_KERNEL|__GFP_ACCOUNT", "GFP_KERNEL & ~__GFP_DIRECT_RECLAIM", "(A|B) & ~C", hex values."""
    lay = layout(kernel)
    toks, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot parse mask at {expr[pos:]!r}")
        toks.append(m.group("name") or m.group("num") or m.group("op"))
        pos = m.end()
    i = 0

    def peek():
        return toks[i] if i < len(toks) else None

    def take(t=None):
        nonlocal i
        tok = peek()
        if tok is None or (t is not None and tok != t):
            raise ValueError(f"expected {t or 'a term'} in mask {expr!r}")
        i += 1
        return tok

    def atom():
        tok = take()
        if tok == "(":
            v = or_expr()
            take(")")
            return v
        if tok == "~":
            raise ValueError("'~' is only supported after '&' (mask & ~BITS)")
        if tok[0].isdigit():
            return lay.names(int(tok, 0))
        v = lay.lookup(tok)
        if v is None:
            raise ValueError(f"unknown gfp name {tok!r} for kernel {kernel}")
        return v

    def and_expr():
        v = atom()
        while peek() == "&":
            take("&")
            if peek() == "~":
                take("~")
                v = v - atom()
            else:
                v = v & atom()
        return v

    def or_expr():
        v = and_expr()
        while peek() == "|":
            take("|")
            v = v | and_expr()
        return v

    result = or_expr()
    if i != len(toks):
        raise ValueError(f"trailing input in mask {expr!r}")
    return frozenset(result)


# --- query ------------------------------------------------------------------------------------

def build_request(mask_expr: str, size=None, order=None, api=None, kernel=DEFAULT_KERNEL, contexts=()) -> Request:
    flags = parse_mask(mask_expr, kernel)
    backend = APIS.get(api, api) if api else ("page" if order is not None and size is None else "kmalloc")
    if backend not in BACKENDS:
        raise ValueError(f"unknown api/backend {api!r} (known: {', '.join(sorted(APIS))})")
    scopes = frozenset(c for c in contexts if c in SCOPES)
    if backend == "page":
        if order is None:
            from .verdict import get_order
            order = get_order(size) if size else 0
        return Request("page", flags, order=order, kernel=kernel, scopes=scopes)
    if size is None:
        from .verdict import PAGE_SIZE
        size = PAGE_SIZE << order if order else 64
    return Request(backend, flags, size=size, kernel=kernel, scopes=scopes)


def query_rows(req: Request, contexts=(), policy="today") -> list:
    unknown = set(contexts) - set(SCOPES) - set(WORLD_CONTEXTS)
    if unknown:
        raise ValueError(f"unknown context(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(SCOPES + WORLD_CONTEXTS)})")
    rows = []
    for w in worlds_for_contexts(enumerate_worlds(), contexts):
        if "noreclaim" in contexts and w.atomic:
            continue
        o = apply_policy(policy, req, w, outcome(req, w))
        s = simulate(req, w)
        rows.append({"world": w.label(), "tier": w.tier, "outcome": o.kind, "warnings": list(o.warnings),
                     "decided_by": o.where, "why": o.why,
                     "simulator_agrees": (o.kind, o.warnings) == s.key() if policy == "today" else None})
    return rows


def _summary(rows) -> list:
    """Rows folded by (tier, outcome, warnings, decided_by): one line per distinct behaviour."""
    groups = {}
    for r in rows:
        key = (r["tier"], r["outcome"], tuple(r["warnings"]), r["decided_by"], r["why"])
        groups.setdefault(key, []).append(r["world"])
    return [dict(zip(("tier", "outcome", "warnings", "decided_by", "why"), k), worlds=v) for k, v in groups.items()]


def run_query(mask_expr: str, size=None, order=None, api=None, kernel=DEFAULT_KERNEL, contexts=(),
              policy="today", fmt="text", out=None) -> int:
    """Print, per world, what the request does and the kernel function that decides it."""
    try:
        contexts = tuple(c.strip() for c in (contexts or ()) if c.strip())
        parse_policy(policy)
        req = build_request(mask_expr, size, order, api, kernel, contexts)
        rows = query_rows(req, contexts, policy)
    except ValueError as e:
        _emit(out, f"error: {e}")
        return 2
    v = classify(req)
    head = {"mask": describe(req.flags, kernel), "value": hex(layout(kernel).value(req.flags)), "kernel": kernel,
            "backend": req.backend, "size": req.size, "order": request_order(req), "scopes": sorted(req.scopes),
            "policy": policy, "class": brown_class(req.flags), "verdict": v.verdict, "reasons": list(v.reasons)}
    if fmt == "json":
        _emit(out, json.dumps({"request": head, "worlds": rows}, indent=2))
        return 0
    from rich.table import Table

    title = (f"{head['mask']} ({head['value']}) {req.backend} "
             + (f"order {head['order']}" if req.backend == "page" else f"size {req.size} (order {head['order']})")
             + f", kernel {kernel}" + (f", scopes {','.join(head['scopes'])}" if head["scopes"] else "")
             + (f", policy {policy}" if policy != "today" else ""))
    t = Table(title=title, show_lines=False)
    for col in ("tier", "outcome", "decided by", "why", "warnings", "worlds"):
        t.add_column(col, overflow="fold")
    for g in _summary(rows):
        ws = g["worlds"]
        t.add_row(g["tier"], g["outcome"], g["decided_by"], g["why"], "\n".join(g["warnings"]),
                  f"{len(ws)}: " + "; ".join(ws[:3]) + (" ..." if len(ws) > 3 else ""))
    _emit(out, _render(t))
    _emit(out, f"verdict: {v.verdict}" + (f" ({', '.join(v.reasons)})" if v.reasons else "")
          + f"; class under Brown's proposal: {head['class']}")
    return 0


# --- check ------------------------------------------------------------------------------------

def run_check(out=None, full: bool = False) -> int:
    """Run check_model() and print agreements, claims and counterexamples; 0 if all agree."""
    from rich.table import Table

    worlds = enumerate_worlds() if full else check_worlds()
    res = check_model(worlds=worlds)
    t = Table(title=f"gfplint model --check: {res.combinations} (request, world) combinations, "
                    f"{res.requests} requests x {res.worlds} worlds, {res.seconds:.1f} s")
    for col in ("check", "requests", "result", "smallest counterexample"):
        t.add_column(col, overflow="fold")
    t.add_row("simulator vs outcome()", str(res.requests),
              f"{res.agreements} agree, {res.disagreements} disagree",
              res.smallest.describe() if res.smallest else "")
    for st in res.claims:
        label = (st.claim.rule + ": " if st.claim.rule else "") + (st.claim.text or st.claim.name)
        t.add_row(label, str(st.requests), "holds" if not st.violations else f"{st.violations} violations",
                  st.smallest.describe() if st.smallest else "")
    _emit(out, _render(t))
    _emit(out, ("OK: " if res.ok else "FAIL: ") + f"{res.combinations} combinations checked, "
          f"{res.disagreements} disagreements, {sum(c.violations for c in res.claims)} claim violations")
    return 0 if res.ok else 1
