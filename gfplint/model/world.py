"""Worlds: the run-time state that decides whether an allocation fails.

A request (backend, mask, size/order) says what the code asks for; a World
says what the kernel is going through when it asks.  Every attribute is one
the allocator actually reads (KERNEL-FACTS 2-8):

  task        "user" (has an mm, can be OOM-killed, has an objcg),
              "kthread" (no mm: never an OOM victim, never memcg-charged),
              "interrupt" (any atomic context: irq, softirq, spinlock held;
              a blocking request is a bug there)
  signal      "none", "fatal" (SIGKILL pending: task_will_free_mem() makes the
              task an OOM victim in out_of_memory(); vmalloc stops),
              "victim" (already tsk_is_oom_victim(), SIGKILL pending)
  pf_memalloc PF_MEMALLOC (memalloc_noreclaim scope, reclaim, kswapd)
  pf_dumpcore PF_DUMPCORE (no OOM killer while dumping core)
  memcg       "none" (no limit hit, or no objcg), "limit-killable" (at
              memory.max, the memcg OOM killer finds a victim),
              "limit-unkillable" (at memory.max, nothing killable)
  pm          "none", "suspending" (pm_restrict_gfp_mask(): gfp_allowed_mask
              lacks IO|FS, pm_suspended_storage()), "oom-disabled"
              (oom_killer_disable() during freezing)
  fault       "none", "failslab", "fail_page_alloc" (default knobs:
              ignore-gfp-wait=Y, ignore-gfp-highmem=Y, min-order=1),
              "failslab-all", "fail_page_alloc-all" (those exemptions off;
              NOFAIL stays exempt), probability 100
  memory      "free" (above the low watermark: fast path succeeds),
              "reclaimable" (below min; direct reclaim frees enough),
              "oom-killable" (below min; nothing to reclaim, another task can
              be OOM-killed), "none" (below min; nothing reclaimable, nothing
              killable, not even current)
  reserves    below-min memory states only: whether the reserves under the
              min watermark still hold pages (MIN_RESERVE/ALLOC_OOM/
              NO_WATERMARKS callers succeed) or are empty too.

Tiers name the kind of world: "production" (nothing special about the task
or system), "dying" (fatal signal / OOM victim), "special" (PF_MEMALLOC,
PF_DUMPCORE, suspend, OOM killer disabled) and "injected" (fault
injection).  Claims quantify over named world sets built from tiers.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

TASKS = ("user", "kthread", "interrupt")
SIGNALS = ("none", "fatal", "victim")
MEMCGS = ("none", "limit-killable", "limit-unkillable")
PMS = ("none", "suspending", "oom-disabled")
FAULTS = ("none", "failslab", "fail_page_alloc", "failslab-all", "fail_page_alloc-all")
MEMORIES = ("free", "reclaimable", "oom-killable", "none")

WORLD_SETS = ("production", "dying", "killable", "special", "real", "injected", "atomic", "all")


@dataclass(frozen=True)
class World:
    task: str = "user"
    signal: str = "none"
    pf_memalloc: bool = False
    pf_dumpcore: bool = False
    memcg: str = "none"
    pm: str = "none"
    fault: str = "none"
    memory: str = "free"
    reserves: bool = False

    @property
    def atomic(self) -> bool:
        return self.task == "interrupt"

    @property
    def has_mm(self) -> bool:
        return self.task == "user"

    @property
    def dying(self) -> bool:
        """fatal_signal_pending(current) (an OOM victim has SIGKILL pending too)."""
        return self.signal != "none"

    @property
    def tier(self) -> str:
        if self.fault != "none":
            return "injected"
        if self.pf_memalloc or self.pf_dumpcore or self.pm != "none":
            return "special"
        if self.signal != "none":
            return "dying"
        return "production"

    def valid(self) -> bool:
        """Combinations the kernel can be in."""
        if self.task != "user" and (self.signal != "none" or self.pf_dumpcore or self.memcg != "none"):
            return False  # no mm: never an OOM victim, no objcg, no core dump
        if self.task == "interrupt" and self.pf_memalloc:
            return False  # task flags of the interrupted task are not consulted (modelled as absent)
        if self.memory == "free" and self.reserves:
            return False  # reserves only distinguish below-min states
        return True

    def label(self) -> str:
        """Short readable name, defaults left out."""
        parts = [self.task]
        if self.signal != "none":
            parts.append(self.signal)
        if self.pf_memalloc:
            parts.append("PF_MEMALLOC")
        if self.pf_dumpcore:
            parts.append("PF_DUMPCORE")
        if self.memcg != "none":
            parts.append("memcg:" + self.memcg)
        if self.pm != "none":
            parts.append(self.pm)
        if self.fault != "none":
            parts.append(self.fault)
        mem = self.memory + ("+reserves" if self.reserves else "") if self.memory != "free" else "free"
        parts.append("mem:" + mem)
        return " ".join(parts)

    def complexity(self) -> int:
        """How far from the plainest world (for picking the smallest counterexample)."""
        d = World()
        return sum(getattr(self, f) != getattr(d, f) for f in
                   ("task", "signal", "pf_memalloc", "pf_dumpcore", "memcg", "pm", "fault", "memory", "reserves"))


def in_set(world: World, name: str) -> bool:
    """Membership of WORLD in the named world set."""
    tier = world.tier
    if name == "all":
        return True
    if name == "production":
        return tier == "production"
    if name == "dying":
        return tier == "dying"
    if name == "killable":
        return tier in ("production", "dying")
    if name == "special":
        return tier == "special"
    if name == "real":
        return tier != "injected"
    if name == "injected":
        return tier == "injected"
    if name == "atomic":
        return tier != "injected" and world.atomic
    raise ValueError(f"unknown world set {name!r} (known: {', '.join(WORLD_SETS)})")


def memory_states() -> list[tuple[str, bool]]:
    return [("free", False)] + [(m, r) for m in MEMORIES[1:] for r in (False, True)]


def _with_memory(base: World) -> Iterator[World]:
    for mem, res in memory_states():
        yield replace(base, memory=mem, reserves=res)


def enumerate_worlds() -> list[World]:
    """The world list the checker and the query use.

    All production worlds (task x memcg x memory state), the dying worlds,
    one special attribute at a time, and each fault-injection mode for every
    task kind.  Duplicates and invalid combinations are dropped.
    """
    bases: list[World] = []
    for memcg in MEMCGS:
        bases.append(World(task="user", memcg=memcg))
    bases += [World(task="kthread"), World(task="interrupt")]
    for signal in ("fatal", "victim"):
        for memcg in MEMCGS:
            bases.append(World(task="user", signal=signal, memcg=memcg))
    for task in ("user", "kthread"):
        bases.append(World(task=task, pf_memalloc=True))
        bases.append(World(task=task, pm="suspending"))
        bases.append(World(task=task, pm="oom-disabled"))
    bases.append(World(task="user", pf_memalloc=True, memcg="limit-unkillable"))
    bases.append(World(task="user", pm="oom-disabled", memcg="limit-killable"))
    bases.append(World(task="user", pf_dumpcore=True))
    out, seen = [], set()
    for base in bases:
        for w in _with_memory(base):
            if w.valid() and w not in seen:
                seen.add(w)
                out.append(w)
    for fault in FAULTS[1:]:
        for task in TASKS:
            for mem, res in (("free", False), ("oom-killable", False), ("reclaimable", True)):
                w = World(task=task, fault=fault, memory=mem, reserves=res)
                if w not in seen:
                    seen.add(w)
                    out.append(w)
    return out


def worlds_for_contexts(worlds: Iterable[World], contexts: Iterable[str]) -> list[World]:
    """Worlds compatible with the calling contexts of a site.

    "atomic" keeps the interrupt/atomic worlds only, "task" (or "process")
    the sleepable ones, "kthread"/"user" one task kind, "noreclaim" the
    PF_MEMALLOC ones (the request's scopes also force PF_MEMALLOC); the
    scope contexts nofs/noio/pin change the mask, not the world.
    """
    ctx = set(contexts)
    out = []
    for w in worlds:
        if "atomic" in ctx and not w.atomic:
            continue
        if ctx & {"task", "process"} and w.atomic:
            continue
        if "kthread" in ctx and w.task != "kthread":
            continue
        if "user" in ctx and w.task != "user":
            continue
        out.append(w)
    return out
