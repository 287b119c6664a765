"""GFP flag algebra for the kernel trees gfplint knows (6.12 and 6.1, x86-64).

A mask is a frozenset of ``__GFP_*`` names, not an integer: names are what a
maintainer reads, they survive layout differences between kernel versions,
and ``value()`` turns them into the numeric mask of a given layout when
needed.  Bit values mirror ``include/linux/gfp_types.h`` of each tree with
Debian's amd64 config (KERNEL-FACTS 1.1-1.3); flags that the config compiles
to 0 are kept in ``Layout.zero_flags`` so that naming them is not an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

KERNELS = ("6.12", "6.1")
DEFAULT_KERNEL = "6.12"

Flags = frozenset  # frozenset[str] of __GFP_* names

# Bits 0..23 as in 6.12 include/linux/gfp_types.h (enum ___GFP_*_BIT).
_COMMON_BITS = {
    "__GFP_DMA": 0x1,
    "__GFP_HIGHMEM": 0x2,
    "__GFP_DMA32": 0x4,
    "__GFP_MOVABLE": 0x8,
    "__GFP_RECLAIMABLE": 0x10,
    "__GFP_HIGH": 0x20,
    "__GFP_IO": 0x40,
    "__GFP_FS": 0x80,
    "__GFP_ZERO": 0x100,
    "__GFP_DIRECT_RECLAIM": 0x400,
    "__GFP_KSWAPD_RECLAIM": 0x800,
    "__GFP_WRITE": 0x1000,
    "__GFP_NOWARN": 0x2000,
    "__GFP_RETRY_MAYFAIL": 0x4000,
    "__GFP_NOFAIL": 0x8000,
    "__GFP_NORETRY": 0x10000,
    "__GFP_MEMALLOC": 0x20000,
    "__GFP_COMP": 0x40000,
    "__GFP_NOMEMALLOC": 0x80000,
    "__GFP_HARDWALL": 0x100000,
    "__GFP_THISNODE": 0x200000,
    "__GFP_ACCOUNT": 0x400000,
    "__GFP_ZEROTAGS": 0x800000,
}

_RECLAIM = ("__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM")


def _f(*names: str) -> frozenset:
    return frozenset(names)


def _composites(atomic_extra: tuple, nowait_nowarn: bool, skip_kasan: tuple) -> dict:
    """Composite masks at the end of gfp_types.h (KERNEL-FACTS 1.2/1.3)."""
    kernel = _f(*_RECLAIM, "__GFP_IO", "__GFP_FS")
    user = kernel | {"__GFP_HARDWALL"}
    highuser = user | {"__GFP_HIGHMEM"}
    highuser_movable = highuser | {"__GFP_MOVABLE", *skip_kasan}
    transhuge_light = (highuser_movable | {"__GFP_COMP", "__GFP_NOMEMALLOC", "__GFP_NOWARN"}) - set(_RECLAIM)
    nowait = _f("__GFP_KSWAPD_RECLAIM", *(("__GFP_NOWARN",) if nowait_nowarn else ()))
    return {
        "GFP_ATOMIC": _f("__GFP_HIGH", "__GFP_KSWAPD_RECLAIM", *atomic_extra),
        "GFP_KERNEL": kernel,
        "GFP_KERNEL_ACCOUNT": kernel | {"__GFP_ACCOUNT"},
        "GFP_NOWAIT": nowait,
        "GFP_NOIO": _f(*_RECLAIM),
        "GFP_NOFS": _f(*_RECLAIM, "__GFP_IO"),
        "GFP_USER": user,
        "GFP_DMA": _f("__GFP_DMA"),
        "GFP_DMA32": _f("__GFP_DMA32"),
        "GFP_HIGHUSER": highuser,
        "GFP_HIGHUSER_MOVABLE": highuser_movable,
        "GFP_TRANSHUGE_LIGHT": transhuge_light,
        "GFP_TRANSHUGE": transhuge_light | {"__GFP_DIRECT_RECLAIM"},
        "__GFP_RECLAIM": _f(*_RECLAIM),
        # mm/vmalloc.c on 64-bit with ZONE_DMA32
        "GFP_VMALLOC32": kernel | {"__GFP_DMA32"},
        # include/asm-generic/pgalloc.h
        "GFP_PGTABLE_KERNEL": kernel | {"__GFP_ZERO"},
        "GFP_PGTABLE_USER": kernel | {"__GFP_ZERO", "__GFP_ACCOUNT"},
    }


@dataclass(frozen=True)
class Layout:
    """The GFP flag layout of one kernel tree."""

    kernel: str
    bits: Mapping[str, int]
    zero_flags: frozenset
    composites: Mapping[str, frozenset] = field(repr=False)

    def lookup(self, name: str) -> frozenset | None:
        """Flags named by NAME (``__GFP_X``, raw ``___GFP_X``, ``GFP_X``); None if unknown."""
        if name.startswith("___GFP_"):
            name = name[1:]
        if name in self.bits:
            return frozenset((name,))
        if name in self.zero_flags:
            return frozenset()
        return self.composites.get(name)

    def value(self, flags: Iterable[str]) -> int:
        return sum(self.bits[f] for f in set(flags) if f in self.bits)

    def names(self, value: int) -> frozenset:
        return frozenset(n for n, v in self.bits.items() if value & v)


def _layout_6_12() -> Layout:
    bits = dict(_COMMON_BITS)
    # Debian amd64 6.12: SLAB_OBJ_EXT=y, no KASAN_HW_TAGS, no LOCKDEP -> NO_OBJ_EXT is bit 24.
    bits["__GFP_NO_OBJ_EXT"] = 0x1000000
    composites = _composites((), nowait_nowarn=True, skip_kasan=())
    return Layout("6.12", bits, _f("__GFP_SKIP_ZERO", "__GFP_SKIP_KASAN", "__GFP_NOLOCKDEP"), composites)


def _layout_6_1() -> Layout:
    bits = dict(_COMMON_BITS)
    bits["__GFP_ATOMIC"] = 0x200  # removed upstream in 6.3
    composites = _composites(("__GFP_ATOMIC",), nowait_nowarn=False, skip_kasan=())
    zero = _f("__GFP_SKIP_ZERO", "__GFP_SKIP_KASAN_UNPOISON", "__GFP_SKIP_KASAN_POISON", "__GFP_NOLOCKDEP")
    return Layout("6.1", bits, zero, composites)


_LAYOUTS = {"6.12": _layout_6_12(), "6.1": _layout_6_1()}


def layout(kernel: str = DEFAULT_KERNEL) -> Layout:
    try:
        return _LAYOUTS[kernel]
    except KeyError:
        raise ValueError(f"unknown kernel layout {kernel!r} (known: {', '.join(KERNELS)})") from None


def blocking(flags: Iterable[str]) -> bool:
    """gfpflags_allow_blocking() (include/linux/gfp.h): only __GFP_DIRECT_RECLAIM counts."""
    return "__GFP_DIRECT_RECLAIM" in flags


def lowmem(flags: Iterable[str]) -> bool:
    """Highest zone below ZONE_NORMAL on x86-64: no OOM killer (__alloc_pages_may_oom)."""
    return "__GFP_DMA" in flags or "__GFP_DMA32" in flags


SCOPES = ("nofs", "noio", "pin", "noreclaim")


def current_gfp_context(flags: Iterable[str], scopes: Iterable[str]) -> frozenset:
    """Mask after the memalloc scopes (include/linux/sched/mm.h: current_gfp_context).

    NOIO strips IO and FS and takes precedence over NOFS; PIN strips MOVABLE.
    It never adds bits and never touches the reclaim bits; "noreclaim"
    (PF_MEMALLOC) changes the outcome, not the mask, so it is ignored here.
    """
    scopes = set(scopes)
    out = set(flags)
    if "noio" in scopes:
        out -= {"__GFP_IO", "__GFP_FS"}
    elif "nofs" in scopes:
        out -= {"__GFP_FS"}
    if "pin" in scopes:
        out -= {"__GFP_MOVABLE"}
    return frozenset(out)


# Composites worth naming in messages, most familiar first.
_DESCRIBE_ORDER = ("GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_USER", "GFP_NOFS", "GFP_NOIO",
                   "GFP_ATOMIC", "GFP_NOWAIT")


def describe(flags: Iterable[str] | None, kernel: str = DEFAULT_KERNEL) -> str:
    """Shortest readable spelling: a composite plus extra bits, e.g. GFP_KERNEL|__GFP_ZERO."""
    if flags is None:
        return "?"
    flags = frozenset(flags)
    lay = layout(kernel)
    best, best_extra = None, flags
    for name in _DESCRIBE_ORDER:
        comp = lay.composites[name]
        if not comp <= flags:
            continue
        extra = flags - comp
        if best is None or len(extra) < len(best_extra):
            best, best_extra = name, extra
    parts = ([best] if best else []) + sorted(best_extra)
    return "|".join(parts) if parts else "0"


# mm/internal.h: the bits reclaim-related paths pass on (GFP_RECLAIM_MASK) and
# the placement constraints (GFP_CONSTRAINT_MASK); slab's new_slab() and
# vmalloc's internal allocations keep only these.
GFP_RECLAIM_MASK = frozenset((
    "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_HIGH", "__GFP_IO", "__GFP_FS",
    "__GFP_NOWARN", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_MEMALLOC",
    "__GFP_NOMEMALLOC", "__GFP_NOLOCKDEP",
))
GFP_CONSTRAINT_MASK = frozenset(("__GFP_HARDWALL", "__GFP_THISNODE"))
# mm/internal.h GFP_SLAB_BUG_MASK (bits a slab allocation must not carry); kmalloc_fix_flags() drops them.
GFP_SLAB_BUG_MASK = frozenset(("__GFP_DMA32", "__GFP_HIGHMEM"))
# kernel/power/main.c pm_restrict_gfp_mask(): gfp_allowed_mask loses these during suspend/hibernate.
PM_RESTRICTED = frozenset(("__GFP_IO", "__GFP_FS"))


def gfp_allowed(flags: Iterable[str], suspending: bool = False) -> frozenset:
    """FLAGS & gfp_allowed_mask (include/linux/gfp.h); during suspend IO and FS are cleared."""
    flags = frozenset(flags)
    return flags - PM_RESTRICTED if suspending else flags


def gfp_has_io_fs(flags: Iterable[str]) -> bool:
    """include/linux/gfp.h gfp_has_io_fs(): both IO and FS present."""
    flags = frozenset(flags)
    return "__GFP_IO" in flags and "__GFP_FS" in flags
