"""Output formats: compiler-style text and one JSON document."""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import asdict

from . import __version__
from .model.verdict import VERDICTS


def site_dict(r) -> dict:
    s = r.site
    d = {
        "file": s.file, "line": s.line, "column": s.column, "function": s.function, "api": s.api,
        "call": s.call, "backend": s.backend, "gfp": s.gfp, "flags": s.masks, "gfp_params": s.gfp_params,
        "gfp_note": s.gfp_note or None, "size": s.size, "size_text": s.size_text, "count": s.count,
        "elem_size": s.elem_size, "size_min": s.size_min, "size_max": s.size_max, "order": s.order, "overflow": s.overflow,
        "cache": s.cache, "accounted": s.accounted, "verdict": r.verdict,
        "reasons": list(r.reasons), "result": s.result, "stored_in": s.stored_in, "checked": s.checked,
        "used_unchecked_line": s.used_unchecked_line,
        "error_path": asdict(s.error_path) if s.error_path else None,
        "dead_lines": len(r.dead_lines), "live_labels": r.live_labels,
        "via": s.via, "held": s.held, "scopes": r.scopes, "atomic": r.atomic, "noreclaim": r.noreclaim,
        "task_kinds": sorted(r.kinds), "kthread_only": r.kthread_only, "gfp_from": r.gfp_from,
    }
    return d


def finding_dict(f) -> dict:
    return {
        "rule": f.rule, "level": f.level, "file": f.file, "line": f.line, "column": f.column,
        "function": f.function, "message": f.message, "properties": f.properties, "path": f.path,
    }


def summary(result) -> dict:
    prog = result.program
    verdicts = Counter(r.verdict for r in prog.sites)
    return {
        "tus": prog.tus,
        "tus_with_parse_errors": prog.tus_with_errors,
        "sites": len(prog.sites),
        "verdicts": {v: verdicts.get(v, 0) for v in VERDICTS},
        "findings": dict(sorted(Counter(f.rule for f in result.findings).items())),
        # a branch shared by two sites (`if (!a || !b) goto err;`) counts once
        "dead_lines": len({(r.site.file, line) for r in prog.sites for line in r.dead_lines}),
    }


def to_json(result) -> str:
    prog = result.program
    doc = {
        "version": __version__,
        "root": prog.root,
        "kernel": prog.kernel,
        "sites": [site_dict(r) for r in prog.sites],
        "findings": [finding_dict(f) for f in result.findings],
        "diagnostics": [asdict(d) for d in prog.diagnostics],
        "summary": summary(result),
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def to_text(result) -> str:
    lines = []
    for f in result.findings:
        lines.append(f"{f.file}:{f.line}:{f.column}: {f.level}: {f.message} [{f.rule}]")
        for step in f.path:
            lines.append(f"    {step['file']}:{step['line']}: note: {step['what']} [in {step['function']}()]")
    s = summary(result)
    v = s["verdicts"]
    lines.append(
        f"gfplint: {s['sites']} allocation sites in {s['tus']} translation units: "
        + ", ".join(f"{v[k]} {k}" for k in VERDICTS)
    )
    if s["findings"]:
        lines.append("gfplint: findings: " + ", ".join(f"{n} {rule}" for rule, n in s["findings"].items())
                     + f"; {s['dead_lines']} dead error-handling lines")
    else:
        lines.append("gfplint: no findings")
    if s["tus_with_parse_errors"]:
        lines.append(f"gfplint: {s['tus_with_parse_errors']} translation units had parse errors (see diagnostics)")
    return "\n".join(lines) + "\n"


def diagnostics_text(result) -> str:
    return "".join(
        f"gfplint: {d.file}:{d.line}:{d.column}: {d.severity}: {d.message}\n" for d in result.program.diagnostics
    )


def write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside PATH, then rename: never a partial output file."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix=".gfplint-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
