"""Diff-only runs: keep the findings a patch touches.

The whole program is still analysed (contexts and gfp values flow across
functions); only the report is narrowed.  A finding is kept when its line,
the allocation it is about (properties.site_line), a related location or any
step of its witness path lies on a line the change added or modified.
Paths are relative to the analysis root, like findings.
"""
from __future__ import annotations

import re
import subprocess
from collections import defaultdict

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

class DiffError(ValueError):
    """Unusable diff input (exit code 2)."""


def _path(word: str) -> str | None:
    word = word.split("\t", 1)[0].strip()
    if word == "/dev/null":
        return None
    if word.startswith('"') and word.endswith('"'):
        word = word[1:-1]
    return word


def changed_lines(diff_text: str) -> dict[str, set[int]]:
    """New-side lines added or modified, per file, from a unified diff (git or diff -u).

    Hunk bodies are consumed by their line counts, so a removed line that reads
    "-- x" or an added "++i;" is never taken for a file header.  A hunk that
    only deletes marks the lines on both sides of the cut: removing a NULL
    check or an unlock changes what the neighbouring code means.
    """
    changed: dict[str, set[int]] = defaultdict(set)
    old_prefixed = False
    current = None
    line = old_left = new_left = 0
    for text in diff_text.splitlines():
        if old_left > 0 or new_left > 0:
            tag = text[:1]
            if tag in ("+", " ", ""):
                if tag == "+" and current is not None:
                    changed[current].add(line)
                new_left -= 1
                line += 1
            if tag in ("-", " ", ""):
                old_left -= 1
            continue  # "\\ No newline at end of file" and the like count for neither side
        if text.startswith("--- "):
            old = _path(text[4:])
            old_prefixed = old is None or old.startswith("a/")
        elif text.startswith("+++ "):
            new = _path(text[4:])
            if new is not None and old_prefixed and new.startswith("b/"):
                new = new[2:]  # git's a/ b/ prefixes (patch -p1)
            current = new
        elif (m := _HUNK.match(text)) is not None:
            old_left = 1 if m.group(1) is None else int(m.group(1))
            line = int(m.group(2))
            new_left = 1 if m.group(3) is None else int(m.group(3))
            if new_left == 0 and current is not None:  # pure deletion after line `line`
                changed[current].update({line, line + 1} - {0})
    return {f: lines for f, lines in changed.items() if lines}


def git_changes(root: str, rev: str) -> dict[str, set[int]]:
    """Lines changed between REV and the working tree under ROOT, plus untracked files whole.

    git runs without a shell, in the analysis root, with --relative so paths are
    relative to it even when the repository starts higher up.
    """
    if rev.startswith("-"):
        raise DiffError(f"--diff-base {rev}: not a revision")
    diff = _git(root, ["diff", "--no-color", "--no-ext-diff", "--relative", "-U0", rev, "--"])
    changed = changed_lines(diff)
    for name in _git(root, ["ls-files", "--others", "--exclude-standard", "--", "."]).splitlines():
        if name.endswith((".c", ".h")):
            changed.setdefault(name, set()).add(ALL_LINES)
    return changed


ALL_LINES = 0  # marker: every line of a new, untracked file


def _git(root: str, args: list[str]) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError as e:
        raise DiffError(f"cannot run git: {e.strerror}") from None
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
        raise DiffError(f"git {' '.join(args[:1])} in {root}: {msg}")
    return proc.stdout


def read_diff(path: str) -> dict[str, set[int]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise DiffError(f"{path}: cannot read diff: {e.strerror}") from None
    changed = changed_lines(text)
    if not changed and "@@" not in text:
        raise DiffError(f"{path}: not a unified diff (no '+++' file header and '@@' hunk)")
    return changed


def _touches(changed: dict, file: str, line) -> bool:
    lines = changed.get(file)
    return bool(lines) and (line in lines or ALL_LINES in lines)


def touched(f, changed: dict) -> bool:
    """Does the change touch this finding: its line, its site, a related location or a path step?"""
    places = [(f.file, f.line)]
    if f.properties.get("site_line"):
        places.append((f.file, f.properties["site_line"]))
    places += [(r.get("file"), r.get("line")) for r in f.properties.get("related") or ()]
    places += [(s.get("file"), s.get("line")) for s in f.path]
    return any(_touches(changed, file, line) for file, line in places)


def restrict(findings: list, changed: dict) -> list:
    return [f for f in findings if touched(f, changed)]
