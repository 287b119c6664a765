"""migrate: the explicit allocation class this site should move to."""
from gfplint.model.claims import Claim
from gfplint.model.flags import blocking

from ._common import mask_text, site_finding

ID = "migrate"
LEVEL = "note"
NAME = "MigrateToExplicitClass"
PRECISION = "medium"
TAGS = ("allocation", "migration")
SHORT = "The explicit allocation class (GFP_NOFAIL, GFP_KILLABLE, GFP_RETRY, GFP_NO_RETRY, GFP_ATOMIC) this site maps to."
FULL = (
    "The 2024 linux-mm proposal replaces implicit 'too small to fail' behaviour with explicit classes: "
    "GFP_NOFAIL (wait forever), GFP_KILLABLE (wait unless a fatal signal), GFP_RETRY (retry, bounded, may "
    "fail), GFP_NO_RETRY (try once, may sleep), GFP_ATOMIC (never sleep). This rule names the class a site "
    "maps to today: __GFP_NOFAIL sites and too-small-to-fail sites whose failure branch only returns an "
    "error -> GFP_NOFAIL; __GFP_RETRY_MAYFAIL -> GFP_RETRY; __GFP_NORETRY -> GFP_NO_RETRY; masks without "
    "__GFP_DIRECT_RECLAIM -> GFP_ATOMIC. The call graph refines the too-small-to-fail case by the task "
    "that runs the site: if every call path enters from kernel threads or work items (never OOM victims), "
    "GFP_NOFAIL with high confidence; if a user task (a system call, a file or sysfs operation) reaches it "
    "and the failure branch returns an error (not a bare return, return 0 or a jump to the end of a void "
    "function, which give up silently), "
    "GFP_KILLABLE, as it fails only for a task being killed; if the failure branch falls back to another "
    "strategy, GFP_NO_RETRY. A site also reached from probe or any caller whose task is not known stays "
    "GFP_NOFAIL with medium confidence. The target is in properties.target."
)
BAD = """\
p = kzalloc(sizeof(*p), GFP_KERNEL);
if (!p)
        return -ENOMEM;
"""
GOOD = """\
p = kzalloc(sizeof(*p), GFP_NOFAIL);     /* proposed class; today GFP_KERNEL | __GFP_NOFAIL */
"""
SILENCE = "Migrate the site, or state the intended class explicitly with a modifier."

def target(r) -> tuple | None:
    """(target class, reason, confidence) for one judged site, or None.

    Task kinds (KERNEL-FACTS 2.6 notes, 9.3): a kernel thread or work item is never an OOM victim
    (mm/oom_kill.c oom_unkillable_task(): PF_KTHREAD, and the global init), so a
    too-small-to-fail site that every call path enters from such entries (callgraph.kthread_only())
    cannot fail at all (GFP_NOFAIL, high); one
    reached from a user task fails only for a task being killed (GFP_KILLABLE when its failure branch
    returns an error towards user space, not after a bare `return;`, `return 0;` or a goto in a void
    function)."""
    s = r.site
    if s.masks is None or len(s.masks) != 1:
        return None
    m = set(s.masks[0])
    if r.atomic is not None and blocking(m):
        return None  # a bug first (sleep-in-atomic, nofail-misuse): fixing it decides the class
    if "__GFP_NOFAIL" in m and blocking(m):
        return "GFP_NOFAIL", "already __GFP_NOFAIL", "high"
    if not blocking(m):
        return "GFP_ATOMIC", "mask cannot enter direct reclaim", "high"
    if "__GFP_RETRY_MAYFAIL" in m:
        return "GFP_RETRY", "__GFP_RETRY_MAYFAIL", "high"
    if "__GFP_NORETRY" in m:
        return "GFP_NO_RETRY", "__GFP_NORETRY", "high"
    ep = s.error_path
    if r.verdict != "too-small-to-fail" or ep is None:
        return None
    if ep.action == "fallback":
        return "GFP_NO_RETRY", "the failure branch falls back to another strategy: try once, then fall back", "medium"
    if ep.action != "return-error":
        return None
    kinds = set(r.kinds)
    if kinds == {"kthread"} and r.kthread_only:
        return "GFP_NOFAIL", "too small to fail and reached only from kernel threads/work items (never OOM victims)", "high"
    # a bare `return;`, a goto in a void function (both "") or `return 0;` gives up without telling
    # the caller, so no error reaches user space: GFP_KILLABLE would drop the work silently for a dying task
    # (`return 0` as NULL in a pointer function is read as success too; sparse warns on it)
    if "user" in kinds and ep.returns not in ("", "0"):
        return "GFP_KILLABLE", "too small to fail; reached from a user task, where it fails only if the task is being killed", "medium"
    if "user" in kinds:
        return "GFP_NOFAIL", ("too small to fail; reached from a user task, but the failure branch gives up without "
                              "returning an error, so GFP_KILLABLE would drop the work silently"), "medium"
    if kinds == {"kthread"}:  # also entered where the task is not known (probe may run in modprobe)
        return "GFP_NOFAIL", ("too small to fail and the failure branch only returns an error; reached from kernel "
                              "threads/work items, but also from callers whose task is not known"), "medium"
    return "GFP_NOFAIL", "too small to fail and the failure branch only returns an error", "medium"

CLAIM = Claim(mask_lacks=("__GFP_DIRECT_RECLAIM", "__GFP_NOFAIL"), backends=("page", "kmalloc", "slab"),
              sometimes=("null",), in_worlds="production",
              text="a site without direct reclaim (target GFP_ATOMIC) can return NULL")


def check(prog, catalog):
    for r in prog.sites:
        t = target(r)
        if t is None:
            continue
        cls, why, confidence = t
        f = site_finding(
            ID, LEVEL, r,
            f"{r.site.api}() with {mask_text(r, prog.kernel)} maps to {cls} ({why})",
            target=cls, reason=why, confidence=confidence,
        )
        kind = "kthread" if cls == "GFP_NOFAIL" and set(r.kinds) == {"kthread"} else "user" if cls == "GFP_KILLABLE" else None
        if kind:
            f.path = r.kinds[kind] + [{"file": r.site.file, "line": r.site.line, "function": r.site.function,
                                       "what": f"{r.site.api}() called here"}]
        yield f
