"""dead-error-path: NULL-check error handling behind a site that cannot fail."""
from gfplint.model.claims import Claim
from gfplint.findings import Finding

ID = "dead-error-path"
LEVEL = "note"
NAME = "DeadErrorPath"
PRECISION = "high"
TAGS = ("allocation", "too-small-to-fail", "dead-code", "fault-injection")
SHORT = "Error handling behind a too-small-to-fail or nofail allocation runs only under fault injection."
FULL = (
    "The failure branch of an allocation that cannot fail in production (verdict too-small-to-fail or "
    "nofail) is reached only by fault injection (failslab, fail_page_alloc with ignore-gfp-wait=N) or by a "
    "task that is being OOM-killed. The finding counts the lines only that branch reaches: the branch "
    "itself and the goto-label blocks it jumps to, except labels also reached from a live path (another "
    "error check, or a site that really can fail), which stay live. APIs whose failure value also means "
    "something else (kstrdup of a NULL string, -ENOSPC from idr_alloc, -EFAULT from memdup_user) are "
    "never reported."
)
BAD = """\
ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
if (!ctx) {                      /* dead in production */
        pr_err("no memory\\n");
        return -ENOMEM;
}
"""
GOOD = """\
ctx = kzalloc(sizeof(*ctx), GFP_KERNEL | __GFP_NOFAIL);   /* no error path to rot */
"""
SILENCE = "Make the failure real (__GFP_RETRY_MAYFAIL, __GFP_NORETRY) or drop the branch with __GFP_NOFAIL."

CLAIM = (
    Claim(verdict="too-small-to-fail", never=("null",), in_worlds="production",
          text="behind a too-small-to-fail site the failure branch never runs in production"),
    Claim(verdict="nofail", never=("null",), in_worlds="all",
          text="behind a nofail site the failure branch never runs, not even under fault injection"),
)


def check(prog, catalog):
    for r in prog.sites:
        if not r.dead_lines:
            continue
        s = r.site
        ep = s.error_path
        shared = ""
        if r.live_labels:
            many = len(r.live_labels) > 1
            shared = (f"; label{'s' if many else ''} {', '.join(r.live_labels)} "
                      f"stay{'' if many else 's'} live (also reached from other paths)")
        n = len(r.dead_lines)
        yield Finding(
            ID, LEVEL, s.file, ep.check_line, ep.check_column, s.function,
            f"error handling for {s.api}() at line {s.line} is dead in production: {n} line{'s' if n != 1 else ''} "
            f"{_who(r, n)}{shared}",
            {
                "verdict": r.verdict, "site_line": s.line, "dead_lines": n, "lines": r.dead_lines,
                "check": ep.check, "action": ep.action, "live_labels": r.live_labels, "api": s.api,
            },
            api=s.api, call=s.call,
        )



def _who(r, n: int) -> str:
    verb = "run" if n != 1 else "runs"
    if r.verdict == "nofail":
        return "never run: the allocation cannot return failure (nofail site)"
    return f"{verb} only under fault injection or for an OOM-killed task (too-small-to-fail site)"
