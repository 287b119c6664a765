"""Baselines: accept today's findings, report only new ones.

A finding is keyed without its line: rule, file, function, allocation API and
the call as written (whitespace collapsed).  Code moving inside the file, or
other functions being renamed, leaves the key alone; editing the call itself
or moving it to another function makes it a new finding, which is what a
reviewer wants to see.  Identical calls in one function (two
`kmalloc(sizeof(*p), GFP_KERNEL)` in a row) are told apart by their order,
":1", ":2", like GitHub's line hashes.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

from . import __version__

FORMAT = "gfplint-baseline/v1"
_DIGITS = re.compile(r"\d+")


class BaselineError(ValueError):
    """Unusable baseline file (exit code 2)."""


def _normalized(text: str) -> str:
    return " ".join(text.split())


def base_key(f) -> str:
    """Line-independent identity of a finding, before numbering duplicates."""
    what = _normalized(f.call) if f.call else _DIGITS.sub("N", _normalized(f.message))
    parts = (f.rule, f.file, f.function, f.api, what)
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def finding_keys(findings: list) -> list[str]:
    """One key per finding, in the same order; duplicates numbered in file order."""
    order = sorted(range(len(findings)), key=lambda i: findings[i].sort_key())
    seen: Counter = Counter()
    keys = [""] * len(findings)
    for i in order:
        k = base_key(findings[i])
        seen[k] += 1
        keys[i] = f"{k}:{seen[k]}"
    return keys


def entries(findings: list) -> list[dict]:
    """Baseline entries: the key plus what a human needs to recognise the finding."""
    rows = [
        {"key": k, "rule": f.rule, "file": f.file, "function": f.function, "api": f.api,
         "call": _normalized(f.call), "line": f.line, "message": f.message}
        for f, k in zip(findings, finding_keys(findings))
    ]
    return sorted(rows, key=lambda r: (r["file"], r["line"], r["rule"], r["key"]))


def dumps(findings: list) -> str:
    doc = {"format": FORMAT, "gfplint": __version__, "findings": entries(findings)}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(path: str) -> dict:
    """key -> entry from a baseline file written by --write-baseline."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BaselineError(f"{path}: cannot read baseline: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BaselineError(f"{path}: not a gfplint baseline (malformed JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"{path}: not a gfplint baseline (expected format {FORMAT}; write one with --write-baseline)")
    out = {}
    for row in doc["findings"]:
        if not isinstance(row, dict) or not isinstance(row.get("key"), str):
            raise BaselineError(f"{path}: malformed baseline entry {row!r}")
        out[row["key"]] = row
    return out


def compare(findings: list, baseline: dict) -> tuple[list, list]:
    """(findings not in the baseline, baseline entries no finding matches any more)."""
    keys = finding_keys(findings)
    new = [f for f, k in zip(findings, keys) if k not in baseline]
    present = set(keys)
    fixed = [row for k, row in sorted(baseline.items(), key=lambda kv: (kv[1].get("file", ""), kv[1].get("line", 0)))
             if k not in present]
    return new, fixed
