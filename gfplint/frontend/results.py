"""What the code does with an allocation's result: NULL checks and error paths.

The site's value is followed to where it is stored (a variable, a field),
then through the statements after it in the same block (and enclosing
blocks) to the first one that mentions it: a check, a dereference, a
return, or an escape.  This is line order within the function's blocks;
control-flow dataflow is the context stage's job.
"""
from __future__ import annotations

import re

import clang.cindex as ci

from ..facts import ErrorPath, Site
from . import clangutil as cu
from .clangutil import children
from .ctext import normalize

K = ci.CursorKind
TRANSPARENT = (K.PAREN_EXPR, K.CSTYLE_CAST_EXPR, K.UNEXPOSED_EXPR)
MAX_LEVELS = 3

# Calls a failure branch may make while still "only returning an error".
_CLEANUP = re.compile(
    r"^_*(k[v]?free|vfree|kfree_\w+|\w*_free\w*|\w*_put\w*|put_\w+|\w*_release\w*|\w*unlock\w*|\w*_destroy\w*|"
    r"pr_\w+|printk\w*|dev_\w+|netdev_\w+|\w*_err|\w*_warn\w*|\w*_msg|\w*_error|WARN\w*|"
    r"brelse|iput|dput|fput|mutex_unlock|up_\w+|\w*_exit\w*|\w*_cleanup\w*|\w*_remove\w*|\w*_del\w*|trace_\w+|"
    r"ERR_PTR|builtin_expect|builtin_constant_p)$"
)


def analyse_result(site: Site, api, call, anc: list, written, ctx):
    """Fill SITE's result fields; return the failure branch's offset range, if any.  ANC starts
    at the function: a failure branch that only jumps to a label of a void function hands
    nothing back, like a bare `return;` (ErrorPath.returns "")."""
    branch = _analyse_result(site, api, call, anc, written, ctx)
    ep = site.error_path
    if ep is not None and ep.returns is None and ep.gotos and anc and anc[0].kind == K.FUNCTION_DECL \
            and anc[0].result_type.kind == ci.TypeKind.VOID:
        ep.returns = ""
    return branch


def _analyse_result(site: Site, api, call, anc: list, written, ctx):
    file = ctx.where(call.location)[0]
    expr, parent, chain = _site_expression(call, anc, written, ctx, file)
    if parent is None:
        site.result = "other"
        return None
    k = parent.kind
    if k == K.RETURN_STMT:
        site.result = "returned"
        return None
    if k == K.CALL_EXPR:
        site.result = "passed"
        return None
    if k == K.VAR_DECL:
        site.stored_in = parent.spelling
        if _retried(chain, site, api, ctx):
            return None
        return _follow(site, api, chain, ctx, file)
    if k in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
        kids = children(parent)
        lhs = ctx.text(kids[0]) if len(kids) == 2 else None
        from .parse import operator

        if kids and kids[-1] == expr and operator(parent, ctx) == "=" and lhs:
            site.stored_in = normalize(lhs)
            if _retried(chain, site, api, ctx):
                return None
            inline = _inline_check(chain, site, api, ctx)
            if inline is not None:
                return inline
            return _follow(site, api, chain, ctx, file)
        site.result = "other"
        return None
    if k in (K.UNARY_OPERATOR, K.IF_STMT):
        site.result = "checked"
        site.checked = True
        return None
    if k == K.COMPOUND_STMT:
        site.result = "ignored"
        return None
    site.result = "other"
    return None


def _site_expression(call, anc: list, written, ctx, file):
    """Climb from the allocation call to the expression the programmer wrote.

    Returns (outermost node of the site, its parent, the ancestor chain above the parent).
    """
    expr = call
    i = len(anc) - 1
    while i >= 0:
        a = anc[i]
        ext = ctx.extent(a)
        inside = ext is not None and ext[0] == file and written.start <= ext[1] and ext[2] <= written.end
        if inside or (a.kind in TRANSPARENT and _wraps(ext, expr, ctx)):
            expr = a
            i -= 1
            continue
        break
    if i < 0:
        return expr, None, []
    return expr, anc[i], anc[: i + 1]


def _wraps(ext, expr, ctx) -> bool:
    inner = ctx.extent(expr)
    return ext is not None and inner is not None and ext[1] <= inner[1] and inner[2] <= ext[2]


# ------------------------------------------------------------- check patterns


def _neg_patterns(v: str, failure: str) -> list[str]:
    if failure == "errno":
        return [rf"{v}", rf"{v}<0", rf"{v}!=0", rf"{v}==-ENOMEM", rf"{v}==-ENOSPC", rf"IS_ERR_VALUE\({v}\)"]
    if failure == "errptr":
        return [rf"IS_ERR\({v}\)", rf"IS_ERR_OR_NULL\({v}\)", rf"xa_is_err\({v}\)", rf"xa_err\({v}\)",
                rf"PTR_ERR_OR_ZERO\({v}\)"]
    return [rf"!{v}", rf"{v}==NULL", rf"NULL=={v}", rf"{v}==0", rf"IS_ERR_OR_NULL\({v}\)",
            rf"ZERO_OR_NULL_PTR\({v}\)", rf"!\({v}\)"]


def _pos_patterns(v: str, failure: str) -> list[str]:
    if failure == "errno":
        return [rf"!{v}", rf"{v}==0", rf"{v}>=0"]
    if failure == "errptr":
        return [rf"!IS_ERR\({v}\)", rf"!IS_ERR_OR_NULL\({v}\)"]
    return [rf"{v}", rf"{v}!=NULL", rf"NULL!={v}", rf"!IS_ERR_OR_NULL\({v}\)"]


_WRAPPERS = re.compile(r"^(unlikely|likely|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE)\((.*)\)$")


def _unwrap(cond: str) -> str:
    cond = cond.replace(" ", "")
    while True:
        m = _WRAPPERS.match(cond)
        if m and _balanced(m.group(2)):
            cond = m.group(2)
            continue
        if cond.startswith("(") and cond.endswith(")") and _balanced(cond[1:-1]):
            cond = cond[1:-1]
            continue
        return cond


def _balanced(s: str) -> bool:
    d = 0
    for ch in s:
        d += ch == "("
        d -= ch == ")"
        if d < 0:
            return False
    return d == 0


def _top_split(cond: str, op: str) -> list[str]:
    parts, d, start, i = [], 0, 0, 0
    while i < len(cond):
        ch = cond[i]
        d += ch == "("
        d -= ch == ")"
        if d == 0 and cond.startswith(op, i):
            parts.append(cond[start:i])
            i += len(op)
            start = i
            continue
        i += 1
    parts.append(cond[start:])
    return parts


def classify_check(cond: str, var: str, failure: str) -> tuple[str, str] | None:
    """('neg', form) when the failure runs the then-branch, ('pos', form) for the else-branch."""
    v = re.escape(var.replace(" ", ""))
    c = _unwrap(cond)
    if c.startswith("!") and not c.startswith("!="):
        inner = c[1:]
        wrapped = _WRAPPERS.match(inner) or (inner.startswith("(") and inner.endswith(")"))
        if wrapped and _balanced(inner):
            flipped = classify_check(inner, var, failure)  # !WARN_ON_ONCE(!p) is a success test
            if flipped is not None:  # the form names the test as a whole: `!likely(p)` is if-not
                return ("pos" if flipped[0] == "neg" else "neg"), _FLIPPED.get(flipped[1], flipped[1])
    for p in _neg_patterns(v, failure):
        if re.fullmatch(p, c):
            return "neg", _form(c, failure)
    for p in _pos_patterns(v, failure):
        if re.fullmatch(p, c):
            return "pos", "if-ok"
    ors = _top_split(c, "||")
    if len(ors) > 1 and any(re.fullmatch(p, _unwrap(o)) for o in ors for p in _neg_patterns(v, failure)):
        return "neg", "or-chain"
    ands = _top_split(c, "&&")
    if len(ands) > 1 and any(re.fullmatch(p, _unwrap(a)) for a in ands for p in _pos_patterns(v, failure)):
        return "pos", "and-chain"
    return None


# the form of `!(test)`: a failure test turns into a success test (if-ok) and back
_FLIPPED = {"if-not": "if-ok", "eq-null": "if-ok", "is-err": "if-ok", "is-err-or-null": "if-ok", "if-errno": "if-ok",
            "if-ok": "if-not", "and-chain": "or-chain", "or-chain": "and-chain"}


def _form(c: str, failure: str) -> str:
    if failure == "errno":
        return "if-errno"
    if c.startswith("IS_ERR_OR_NULL"):
        return "is-err-or-null"
    if c.startswith("IS_ERR"):
        return "is-err"
    if "==NULL" in c or "NULL==" in c:
        return "eq-null"
    return "if-not"


# ------------------------------------------------------------------ following


def _retried(chain: list, site: Site, api, ctx) -> bool:
    """`do { p = kmalloc(...); } while (!p);` or `while (!(p = ...))`: the code loops until success."""
    for a in reversed(chain):
        if a.kind in (K.DO_STMT, K.WHILE_STMT):
            kids = children(a)
            cond = kids[-1] if a.kind == K.DO_STMT else kids[0]
            text = ctx.text(cond)
            res = classify_check(normalize(text or ""), site.stored_in, api.failure)
            if res is not None and res[0] == "neg":
                site.retried, site.checked, site.result = True, True, "checked"
                return True
        if a.kind == K.FUNCTION_DECL:
            break
    return False


def _inline_check(chain: list, site: Site, api, ctx):
    """if (!(p = kmalloc(...))) ... : the assignment sits in the condition."""
    for j in range(len(chain) - 1, max(-1, len(chain) - 5), -1):
        a = chain[j]
        if a.kind == K.IF_STMT:
            kids = children(a)
            cond = ctx.text(kids[0]) if kids else None
            if cond and re.search(r"!\s*\(", cond):
                return _record_if(site, a, "neg", "if-not", ctx)
            return None
        if a.kind not in TRANSPARENT + (K.UNARY_OPERATOR, K.BINARY_OPERATOR):
            return None
    return None


def _stmt_after(chain: list):
    """(block, statement of it holding the site), innermost block first."""
    return [(chain[j], chain[j + 1] if j + 1 < len(chain) else None)
            for j in range(len(chain) - 1, -1, -1) if chain[j].kind == K.COMPOUND_STMT]


def _follow(site: Site, api, chain: list, ctx, file: str):
    var = site.stored_in
    word = re.compile(r"(?<![\w.>])" + re.escape(var).replace(r"\ ", r"\s*") + r"(?!\w)")
    levels = _stmt_after(chain)
    for compound, holder in levels[:MAX_LEVELS]:
        kids = children(compound)
        try:
            idx = next(i for i, k in enumerate(kids) if holder is not None and k == holder)
        except StopIteration:
            idx = -1
        if holder is None:
            continue
        for stmt in kids[idx + 1 :]:
            text = ctx.text(stmt)
            if text is None or not word.search(normalize(text)):
                if stmt.kind == K.RETURN_STMT:
                    site.result = "stored"
                    return None
                continue
            return _use(site, api, stmt, text, var, ctx)
    site.result = "stored"
    return None


_DEREF_CALLS = r"(memset|memcpy|memmove|strcpy|strscpy|strncpy|strcat|sprintf|snprintf|scnprintf|copy_from_user|list_add\w*|INIT_LIST_HEAD|spin_lock_init|mutex_init|init_waitqueue_head|atomic_set|refcount_set|kref_init)"


def _use(site: Site, api, stmt, text: str, var: str, ctx):
    n = normalize(text)
    v = re.escape(var)
    _, line, col, _ = ctx.where(stmt.extent.start)
    if stmt.kind == K.IF_STMT:
        kids = children(stmt)
        cond = ctx.text(kids[0]) if kids else None
        res = classify_check(normalize(cond or ""), var, api.failure)
        if res is not None:
            return _record_if(site, stmt, res[0], res[1], ctx)
    if re.match(rf"^(BUG_ON|WARN_ON|WARN_ON_ONCE)\(\s*!\s*{v}\s*\)", n):
        site.result, site.checked = "checked", True
        site.error_path = ErrorPath("bug-on" if n.startswith("BUG") else "warn-on", line, [line], action="crash",
                                    check_column=col)
        return None
    if re.match(rf"^return\s*{v}\s*;?$", n):
        site.result = "returned"
        return None
    if re.search(rf"(?<![\w.>]){v}\s*(->|\[)|\*\s*{v}(?!\w)|{_DEREF_CALLS}\(\s*&?\s*{v}\s*[,)]", n):
        site.result = "unchecked"
        site.used_unchecked_line = line
        return None
    site.result = "stored"
    return None


def _record_if(site: Site, if_stmt, polarity: str, form: str, ctx):
    kids = children(if_stmt)
    branch = None
    if polarity == "neg" and len(kids) >= 2:
        branch = kids[1]
    elif polarity == "pos" and len(kids) >= 3:
        branch = kids[2]
    _, line, col, _ = ctx.where(if_stmt.extent.start)
    site.result, site.checked = "checked", True
    if branch is None:
        site.error_path = ErrorPath(form, line, [], action="fallback", check_column=col)
        return None
    path = ErrorPath(form, line, _branch_lines(branch, ctx), check_column=col)
    _branch_effects(branch, path, ctx)
    site.error_path = path
    ext = ctx.extent(branch)
    return (ext[1], ext[2]) if ext else None


def _branch_lines(branch, ctx) -> list[int]:
    stmts = children(branch) if branch.kind == K.COMPOUND_STMT else [branch]
    lines = set()
    for s in stmts:
        ext = ctx.extent(s)
        if ext:
            lines.update(range(ext[3], ext[4] + 1))
    return sorted(lines)


def _branch_effects(branch, path: ErrorPath, ctx) -> None:
    returns, gotos, other_calls = [], [], []
    stack = [branch]
    while stack:
        c = stack.pop()
        if c.kind == K.RETURN_STMT:
            kids = children(c)
            returns.append(normalize(ctx.text(kids[0]) or "") if kids else "")
        elif c.kind == K.GOTO_STMT:
            gotos += [ch.spelling for ch in children(c) if ch.kind == K.LABEL_REF]
        elif c.kind == K.CALL_EXPR and c.spelling and not _CLEANUP.match(c.spelling):
            other_calls.append(c.spelling)
        stack.extend(cu.evaluated_children(c))
    path.gotos = sorted(set(gotos))
    path.returns = returns[0] if returns else None
    if any(n in ("BUG", "panic") for n in other_calls):
        path.action = "crash"
    elif (returns or gotos) and not other_calls:
        path.action = "return-error"
    elif not returns and not gotos:
        path.action = "fallback"
    else:
        path.action = "other"
