"""Source text helpers: a small C tokenizer, argument splitting, and the gfp
expression evaluator that resolves a mask as written to its possible masks.

Working on the text as written (not on the macro expansion) lets gfplint
report `GFP_KERNEL` where the programmer wrote `GFP_KERNEL`, and resolve the
mask with the flag layout of the tree's version.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..model.flags import Layout

_TOKEN = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/
    |(?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
    |(?P<id>[A-Za-z_]\w*)
    |(?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
    |(?P<op>->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!?:;,.()\[\]{}<>=#])
    |(?P<other>.)""",
    re.S | re.X,
)


def tokens(text: str) -> list[str]:
    return [m.group(0) for m in _TOKEN.finditer(text) if m.lastgroup]


def normalize(text: str) -> str:
    """Whitespace- and comment-insensitive spelling of an expression."""
    out = []
    for t in tokens(text):
        if out and re.match(r"\w", t[0]) and re.match(r"\w", out[-1][-1]):
            out.append(" ")
        out.append(t)
    return "".join(out)


def and_operand(cond: str) -> str:
    """COND as an operand of `&&`: parenthesized when it has a lower-precedence operator outside
    parentheses (`a || b`, `c ? x : y`; not `!(a || b)` nor `(a || b)`)."""
    top = _top_level(cond)
    return f"({cond})" if "||" in top or "?" in top else cond


def or_operand(cond: str) -> str:
    """COND as an operand of `||`: parenthesized when it has `&&` or `?:` outside parentheses
    (gcc's -Wparentheses asks for `(a && b) || c`)."""
    top = _top_level(cond)
    return f"({cond})" if "&&" in top or "?" in top else cond


def _top_level(cond: str) -> str:
    """COND with what is inside parentheses or brackets blanked out."""
    depth, outside = 0, []
    for ch in cond:
        depth += (ch in "([") - (ch in ")]")
        outside.append(ch if depth == 0 and ch not in ")]" else " ")
    return "".join(outside)


def split_call(text: str) -> tuple[str, list[str]] | None:
    """'kmalloc(a, f(b, c))' -> ('kmalloc', ['a', 'f(b, c)']); None if not a call."""
    m = re.match(r"\s*([A-Za-z_]\w*)\s*\(", text)
    if not m:
        return None
    args, depth, start, i = [], 0, m.end(), m.end()
    in_str = None
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == in_str:
                in_str = None
        elif c in "\"'":
            in_str = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                last = text[start:i].strip()
                if last or args:
                    args.append(last)
                return m.group(1), args
            depth -= 1
        elif c == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    return None


# ------------------------------------------------------------- gfp evaluation

MAX_MASKS = 16


class Unresolved(Exception):
    def __init__(self, why: str, params: tuple = ()):
        super().__init__(why)
        self.why = why
        self.params = params


@dataclass(frozen=True)
class _V:
    """A mask value: POS, or the complement of POS when NEG."""

    pos: frozenset
    neg: bool = False


def _or(a: _V, b: _V) -> _V:
    if not a.neg and not b.neg:
        return _V(a.pos | b.pos)
    if a.neg and b.neg:
        return _V(a.pos & b.pos, True)
    n, p = (a, b) if a.neg else (b, a)
    return _V(n.pos - p.pos, True)


def _and(a: _V, b: _V) -> _V:
    if not a.neg and not b.neg:
        return _V(a.pos & b.pos)
    if a.neg and b.neg:
        return _V(a.pos | b.pos, True)
    n, p = (a, b) if a.neg else (b, a)
    return _V(p.pos - n.pos)


def _combine(xs: set, ys: set, op) -> set:
    out = {op(x, y) for x in xs for y in ys}
    if len(out) > MAX_MASKS:
        raise Unresolved("too many possible masks")
    return out


_CAST = re.compile(r"^\(\s*(?:__force\s+)?(?:const\s+)?(?:gfp_t|unsigned(?:\s+int)?|int|u32|unsigned\s+long)\s*\)$")


@dataclass
class GfpEnv:
    """What a gfp expression can refer to inside one function."""

    layout: Layout
    locals: dict = field(default_factory=dict)  # variable -> list of RHS texts (op, text)
    params: frozenset = frozenset()  # gfp_t parameters: symbolic
    depth: int = 0


class _Parser:
    def __init__(self, toks: list[str], env: GfpEnv):
        self.t = toks
        self.i = 0
        self.env = env

    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise Unresolved(f"unexpected {'end' if tok is None else repr(tok)} in gfp expression")
        self.i += 1
        return tok

    def _ternary_at(self) -> int | None:
        """Index of this expression's top-level '?', if any (the condition is not a mask)."""
        depth = 0
        for j in range(self.i, len(self.t)):
            tok = self.t[j]
            if tok in "([":
                depth += 1
            elif tok in ")]":
                if depth == 0:
                    return None
                depth -= 1
            elif depth == 0 and tok == ":":
                return None
            elif depth == 0 and tok == "?":
                return j
        return None

    def expr(self) -> set:
        q = self._ternary_at()
        if q is not None:
            self.i = q + 1
            a = self.expr()
            self.take(":")
            b = self.expr()
            out = a | b  # both arms are possible: the weakest verdict decides
            if len(out) > MAX_MASKS:
                raise Unresolved("too many possible masks")
            return out
        return self.binary(0)

    _PREC = {"|": 1, "^": 2, "&": 3}

    def binary(self, min_prec: int) -> set:
        left = self.unary()
        while self.peek() in self._PREC and self._PREC[self.peek()] >= min_prec and self.peek(1) != self.peek():
            op = self.take()
            right = self.binary(self._PREC[op] + 1)
            if op == "^":
                raise Unresolved("'^' in gfp expression")
            left = _combine(left, right, _or if op == "|" else _and)
        return left

    def unary(self) -> set:
        tok = self.peek()
        if tok == "~":
            self.take()
            return {_V(v.pos, not v.neg) for v in self.unary()}
        if tok == "(":
            # a cast such as (__force gfp_t), or a parenthesized expression
            j = self.i
            depth = 0
            while j < len(self.t):
                depth += self.t[j] == "("
                depth -= self.t[j] == ")"
                if depth == 0:
                    break
                j += 1
            inner = " ".join(self.t[self.i : j + 1])
            if _CAST.match(inner):
                self.i = j + 1
                return self.unary()
            self.take("(")
            v = self.expr()
            self.take(")")
            return v
        if tok is None:
            raise Unresolved("empty gfp expression")
        self.take()
        if re.match(r"\d", tok):
            n = int(re.sub(r"[uUlL]+$", "", tok), 0)
            names = self.env.layout.names(n)
            if self.env.layout.value(names) != n:
                raise Unresolved(f"number {tok} has bits outside the {self.env.layout.kernel} layout")
            return {_V(names)}
        if not re.match(r"[A-Za-z_]", tok):
            raise Unresolved(f"unexpected {tok!r} in gfp expression")
        if self.peek() == "(":
            raise Unresolved(f"call {tok}() in gfp expression")
        return self.name(tok)

    def name(self, tok: str) -> set:
        env = self.env
        known = env.layout.lookup(tok)
        if known is not None:
            return {_V(known)}
        if tok in env.params:
            raise Unresolved(f"gfp_t parameter '{tok}'", (tok,))
        if tok in env.locals and env.depth < 4:
            return _local_masks(tok, env)
        raise Unresolved(f"unknown name '{tok}'")


def _local_masks(var: str, env: GfpEnv) -> set:
    """All masks the local VAR may hold: every assignment reaches (flow-insensitive)."""
    sub = GfpEnv(env.layout, env.locals, env.params, env.depth + 1)
    values: set = set()
    for op, text in env.locals[var]:
        rhs = _eval(text, sub)
        if op == "=":
            values |= rhs
        elif op in ("|=", "&="):
            f = _or if op == "|=" else _and
            values |= _combine(values, rhs, f)  # the compound assignment may or may not run
        else:
            raise Unresolved(f"'{op}' on gfp variable '{var}'")
        if len(values) > MAX_MASKS:
            raise Unresolved("too many possible masks")
    if not values:
        raise Unresolved(f"variable '{var}' is never assigned")
    return values


def _eval(text: str, env: GfpEnv) -> set:
    p = _Parser(tokens(text), env)
    v = p.expr()
    if p.peek() is not None:
        raise Unresolved(f"unexpected {p.peek()!r} in gfp expression")
    return v


def eval_gfp(text: str, env: GfpEnv) -> list[frozenset]:
    """Possible masks of TEXT, sorted; raises Unresolved with the reason."""
    values = _eval(text, env)
    if any(v.neg for v in values):
        raise Unresolved("mask is a complement")
    return sorted({v.pos for v in values}, key=lambda m: sorted(m))


# ------------------------------------------------------------ size from text

_SIZE_TOKEN = re.compile(r"^[\s\d()+\-*/<>xXa-fA-FuUlL]*$")


def eval_int_text(text: str) -> int | None:
    """Integer constant spelled with literals and + - * / << >> only; None otherwise.

    Evaluated by walking Python's AST of the arithmetic (no eval), with every
    intermediate value bounded, so `1 << 4000000000` cannot exhaust memory."""
    if not text or not _SIZE_TOKEN.match(text):
        return None
    toks = tokens(text)
    py = []
    for t in toks:
        if re.match(r"\d", t):
            py.append(str(int(re.sub(r"[uUlL]+$", "", t), 0)))
        elif t in ("(", ")", "+", "-", "*", "/", "<<", ">>"):
            py.append(t)
        else:
            return None
    try:
        tree = ast.parse("".join(py), mode="eval")
        return _arith(tree.body)
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
        return None


_LIMIT = 1 << 64
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a // b, ast.LShift: lambda a, b: a << b if b < 64 else _LIMIT,
        ast.RShift: lambda a, b: a >> b}


def _arith(node) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        v = node.value
    elif isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        v = _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = -_arith(node.operand) if isinstance(node.op, ast.USub) else _arith(node.operand)
    else:
        raise ValueError("not arithmetic")
    if abs(v) >= _LIMIT:
        raise ValueError("out of range")
    return v
