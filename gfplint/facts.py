"""Facts: plain, serializable data produced by the front end per translation unit.

Nothing here refers to libclang.  Later stages (program, rules, report) and
their unit tests build these by hand.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ErrorPath:
    """What happens when the site's failure is detected."""

    check: str  # how it is checked: if-not, eq-null, or-chain, is-err-or-null, bug-on, warn-on, if-errno, ...
    check_line: int
    lines: list[int] = field(default_factory=list)  # lines of the failure branch itself
    gotos: list[str] = field(default_factory=list)  # labels the failure branch jumps to
    action: str = "other"  # return-error | fallback | crash | other
    returns: str | None = None  # what the failure branch returns, as written ("": nothing, a bare return
    # or a goto in a void function; None: a goto elsewhere, whose label decides)
    check_column: int = 1


@dataclass
class Site:
    """One allocation call site, as written in the source."""

    file: str
    line: int
    column: int
    function: str
    api: str
    call: str  # normalized call text, for line-independent keys
    backend: str
    gfp: str | None  # the gfp expression as written (None: implied by the API)
    masks: list[list[str]] | None  # possible masks (sorted __GFP_ names); None = unresolved
    gfp_params: list[str] = field(default_factory=list)  # gfp_t parameters the mask depends on
    gfp_note: str = ""  # why the mask is unresolved
    size: int | None = None  # bytes, when constant
    size_text: str | None = None
    count: int | None = None
    elem_size: int | None = None
    order: int | None = None
    overflow: bool = False  # run-time n * size: NULL on overflow
    size_max: int | None = None  # upper bound from the size expression's types, when not constant
    size_min: int | None = None  # and its lower bound
    cache: str | None = None  # kmem_cache argument as written
    accounted: bool = False  # SLAB_ACCOUNT cache
    lowmem_cache: bool = False  # SLAB_CACHE_DMA/DMA32 cache
    result: str = "ignored"  # checked | unchecked | returned | passed | stored | ignored
    stored_in: str | None = None
    checked: bool = False
    used_unchecked_line: int | None = None  # first dereference before any check
    error_path: ErrorPath | None = None
    held: list = field(default_factory=list)  # atomic sections that may be open here: [class, lock, line, api]
    scopes_must: list = field(default_factory=list)  # memalloc scopes open on every path here
    scopes_may: list = field(default_factory=list)  # memalloc scopes open on some path here
    retried: bool = False  # the code loops until this allocation succeeds
    inherits: bool = True  # the caller's atomic context may still hold here (no unmatched unlock before)
    slept: bool = False  # a call that always may sleep (mutex_lock, might_sleep) runs before it on every path
    before: list = field(default_factory=list)  # functions called on every path before it (nearest last)
    guards: dict = field(default_factory=dict)  # parameter -> {"truth": bool} | {"in": [values]} for the site to run
    conds: list = field(default_factory=list)  # other conditions for it to run, as written (innermost last)
    first_use: list = field(default_factory=list)  # fields (`p->f`) it runs only while zero, and its function sets
    live: bool = True  # a path of the function's CFG reaches it (False: behind `if (!IS_ENABLED(CONFIG_X)) return`)
    via: str | None = None  # for a call to a wrapper: the wrapper's name
    inner_api: str | None = None  # for a call to a wrapper: the allocator inside it

    @property
    def key(self) -> tuple:
        return (self.file, self.line, self.column)


@dataclass
class CallFacts:
    """A call to a function (not an allocator): an edge of the call graph, with the caller's state."""

    callee: str  # function name, or ".field" for a call through a struct member pointer
    line: int
    column: int
    held: list = field(default_factory=list)  # [class, lock, line, api] open at the call (may)
    scopes_must: list = field(default_factory=list)
    scopes_may: list = field(default_factory=list)
    gfp_args: dict = field(default_factory=dict)  # parameter index (str) -> masks | {"param": name} | None
    size_args: dict = field(default_factory=dict)  # parameter index (str) -> int | None
    call: str = ""  # normalized call text
    result: Site | None = None  # how the caller handles the result (for wrapper calls)
    inherits: bool = True  # the caller's own atomic context may still hold at this call
    const_args: dict = field(default_factory=dict)  # parameter index (str) -> integer constant passed
    arg_params: dict = field(default_factory=dict)  # parameter index (str) -> caller's parameter ("p", "!p", "p->f") passed
    field_args: dict = field(default_factory=dict)  # parameter index (str) -> {field: value} of a local struct passed as &v
    arg_sets: dict = field(default_factory=dict)  # parameter index (str) -> {field or "": [values]} the enclosing branches allow
    pass_fields: dict = field(default_factory=dict)  # index (str) passing a pointer parameter on -> [callee, index] of earlier calls given it
    arg_clobbers: dict = field(default_factory=dict)  # index (str) passing `p->f` -> [callee, index] of earlier calls given p
    guards: dict = field(default_factory=dict)  # caller's parameter -> condition for this call to run
    conds: list = field(default_factory=list)  # other conditions for this call to run, as written (innermost last)
    first_use: list = field(default_factory=list)  # fields (`p->f`) it runs only while zero, and the caller sets
    struct: str = ""  # for a call through a member pointer: the struct type that owns the field
    slept: bool = False  # a call that always may sleep runs before it on every path of the caller
    before: list = field(default_factory=list)  # functions called on every path before it (nearest last)
    func_args: dict = field(default_factory=dict)  # parameter index (str) -> function named there (`&f`, `f`)
    via_param: str = ""  # a call through the caller's own function-pointer parameter (`sync(dev, addr)`): its name
    inline: str = ""  # a call a header inline makes with the caller's functions: the inline called (`__dev_uc_sync`)
    inline_body: bool = False  # a call a header inline makes every time it runs (an edge only with --through-inlines)


@dataclass
class FieldFunction:
    """FUNCTION is stored in STRUCT.FIELD (a designated initializer or an assignment): one of the
    possible targets of calls through that member pointer (`--through-fields`)."""

    struct: str
    field: str
    function: str
    file: str
    line: int


@dataclass
class Registration:
    """FUNCTION will run in CONTEXT because of API at LINE (request_irq, INIT_WORK, .ndo_start_xmit = ...)."""

    function: str
    context: str  # atomic | kthread | user
    api: str
    why: str
    file: str
    line: int
    caller: str = ""  # the function that registers it ("" at file scope)
    wrapper: str | None = None  # the registration wrapper it passed through (callgraph.wrapped_registrations())


@dataclass
class Goto:
    line: int
    label: str
    site: tuple | None = None  # key of the site whose failure branch holds this goto
    region: str | None = None  # label region holding this goto (None: before the first label)


@dataclass
class LabelRegion:
    """Statements from a label up to the next label of the function body."""

    name: str
    line: int
    lines: list[int] = field(default_factory=list)
    falls_through: bool = True  # its last statement can run into the next region
    returns: bool = False


@dataclass
class FunctionFacts:
    file: str
    name: str
    line: int
    body_falls_through: bool = True  # the code before the first label can run into it
    labels: list[LabelRegion] = field(default_factory=list)
    gotos: list[Goto] = field(default_factory=list)
    static: bool = False
    params: list = field(default_factory=list)  # parameter names, in order
    calls: list[CallFacts] = field(default_factory=list)
    drops: list = field(default_factory=list)  # locks it unlocks without locking them: its caller's
    releases: list = field(default_factory=list)  # lock classes it returns with released (an unlock wrapper)
    acquires: list = field(default_factory=list)  # lock classes it returns holding (a lock wrapper)
    sleeps_always: bool = False  # a call that always may sleep runs on every path to its return
    calls_always: list = field(default_factory=list)  # functions it calls on every path to its return
    param_writes: dict = field(default_factory=dict)  # pointer parameter -> fields it writes ("*": any)
    param_passes: dict = field(default_factory=dict)  # pointer parameter -> [callee ("*": unknown), index] it is given to
    registers: list = field(default_factory=list)  # [parameter index, context, api, why, line]: it registers what callers pass there


@dataclass
class Diagnostic:
    file: str
    line: int
    column: int
    severity: str  # error | warning | note
    message: str
    tu: str = ""


@dataclass
class CacheFacts:
    """A kmem_cache created in this TU: `name = kmem_cache_create(..., size, ..., flags, ...)`."""

    name: str  # the variable or field it is stored in, as written
    file: str
    line: int
    size: int | None
    flags: str  # slab flags as written
    accounted: bool
    lowmem: bool


@dataclass
class TUFacts:
    tu: str  # the translation unit's main file, relative to the root
    sites: list[Site] = field(default_factory=list)
    functions: list[FunctionFacts] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    caches: list[CacheFacts] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    field_functions: list[FieldFunction] = field(default_factory=list)
    # [function, file]: functions whose address the TU takes (a reference that is not a call's callee,
    # in a function or a file-scope initializer), or that a header inline it calls may call where the
    # graph records no edge (a conditional call, an inline left out): entered from places not seen
    taken: list = field(default_factory=list)
    parse_errors: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TUFacts":
        return cls(
            tu=d["tu"],
            sites=[_site(s) for s in d.get("sites", [])],
            functions=[_function(f) for f in d.get("functions", [])],
            diagnostics=[Diagnostic(**x) for x in d.get("diagnostics", [])],
            headers=list(d.get("headers", [])),
            caches=[CacheFacts(**c) for c in d.get("caches", [])],
            registrations=[Registration(**r) for r in d.get("registrations", [])],
            field_functions=[FieldFunction(**x) for x in d.get("field_functions", [])],
            taken=[list(x) for x in d.get("taken", [])],
            parse_errors=d.get("parse_errors", 0),
        )


def _site(s: dict) -> Site:
    s = dict(s)
    if s.get("error_path"):
        s["error_path"] = ErrorPath(**s["error_path"])
    return Site(**s)


def _call(c: dict) -> CallFacts:
    c = dict(c)
    if c.get("result"):
        c["result"] = _site(c["result"])
    return CallFacts(**c)


def _function(f: dict) -> FunctionFacts:
    f = dict(f)
    f["labels"] = [LabelRegion(**r) for r in f.get("labels", [])]
    f["gotos"] = [Goto(**{**g, "site": tuple(g["site"]) if g.get("site") else None}) for g in f.get("gotos", [])]
    f["calls"] = [_call(c) for c in f.get("calls", [])]
    return FunctionFacts(**f)
