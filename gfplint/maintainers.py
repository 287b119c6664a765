"""The kernel's MAINTAINERS file: sections, and which sections own a file.

Matching follows scripts/get_maintainer.pl:

- ``F:`` is a glob relative to the tree root.  A pattern ending in ``/`` (or
  naming an existing directory) covers everything below it; otherwise ``*``
  and ``?`` do not cross ``/`` (get_maintainer.pl enforces this by requiring
  pattern and file to have the same number of slashes).
- ``X:`` has the same syntax and is tested first: a file a section excludes is
  never that section's, whatever its ``F:`` lines say.
- ``N:`` is a Perl extended regex searched anywhere in the path.
- A file gets every section that matches, most specific first: the depth of
  the matching ``F:`` pattern (its slashes, +1 when it names files rather than
  a directory; a leading ``*`` counts -1; an ``N:`` match counts 0).  Ties keep
  file order.  Unlike get_maintainer.pl (which takes the last matching pattern
  of a section), a section's depth is its best pattern.
- ``THE REST`` (``F: *`` and ``F: */``) is returned only when nothing else
  matches, so a worklist or census row is never diluted by the catch-all.

``K:`` (content keywords) is read but not used to match files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

THE_REST = "THE REST"
_TAG = re.compile(r"^([A-Z]):\s*(.*?)\s*$")


class MaintainersError(ValueError):
    pass


@dataclass
class Section:
    title: str
    line: int  # of the title in MAINTAINERS
    index: int  # position in the file: breaks specificity ties
    status: str = ""  # S: Maintained, Supported, Odd Fixes, Orphan, Obsolete, ...
    maintainers: list = field(default_factory=list)  # M:
    reviewers: list = field(default_factory=list)  # R:
    lists: list = field(default_factory=list)  # L:
    files: list = field(default_factory=list)  # F: as written
    excludes: list = field(default_factory=list)  # X: as written
    regexes: list = field(default_factory=list)  # N: as written
    keywords: list = field(default_factory=list)  # K: as written
    other: dict = field(default_factory=dict)  # T:, W:, Q:, B:, C:, P: ...

    @property
    def orphan(self) -> bool:
        return self.status.lower().startswith("orphan")

    @property
    def obsolete(self) -> bool:
        return self.status.lower().startswith("obsolete")

    @property
    def flag(self) -> str:
        """What a worklist reader must know before mailing anyone."""
        if self.orphan:
            return "orphan: nobody maintains this code"
        if self.obsolete:
            return "obsolete: scheduled for removal, migrations are wasted work"
        return ""


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern
    depth: int
    directory: bool


def glob_regex(pattern: str) -> str:
    """An F:/X: glob as a regex anchored at the start: `*` and `?` stay within one path component."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _compile(pattern: str, root: Path | None) -> _Pattern | None:
    p = pattern.strip()
    if not p:
        return None
    if not p.endswith("/") and root is not None and "*" not in p and "?" not in p and (root / p).is_dir():
        p += "/"  # get_maintainer.pl: a directory named without its slash still means everything below
    directory = p.endswith("/")
    body = glob_regex(p)
    regex = re.compile("^" + body if directory else "^" + body + "$")
    depth = p.count("/") + (0 if directory else 1)
    if p.startswith("*"):
        depth = -1
    return _Pattern(regex, depth, directory)


class Maintainers:
    def __init__(self, sections: list[Section], root: Path | None = None):
        self.sections = sections
        self.root = root
        self._f = [[c for c in (_compile(x, root) for x in s.files) if c] for s in sections]
        self._x = [[c for c in (_compile(x, root) for x in s.excludes) if c] for s in sections]
        self._n = [[_regex(x) for x in s.regexes] for s in sections]
        self._index = self._first_component_index(sections)
        self.match = lru_cache(maxsize=None)(self._match)

    def _first_component_index(self, sections) -> dict:
        """First path component -> sections that may match there.

        The real file has ~3,000 sections and ~20,000 patterns; trying them all
        for each of thousands of files costs seconds.  A pattern whose first
        component is literal can only match paths starting with it; the others
        (wildcards, N: regexes) sit under the key None and are always tried.
        """
        index: dict = {}
        for i, s in enumerate(sections):
            keys = set()
            for f in s.files:
                head = f.strip().split("/", 1)[0]
                keys.add(None if (not head or "*" in head or "?" in head) else head)
            if s.regexes:
                keys.add(None)
            for k in keys:
                index.setdefault(k, []).append(i)
        return index

    def by_title(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)

    def _depth(self, i: int, path: str) -> int | None:
        if any(x.regex.search(path) for x in self._x[i]):
            return None
        depths = [f.depth for f in self._f[i] if f.regex.search(path)]
        depths += [0 for n in self._n[i] if n is not None and n.search(path)]
        return max(depths) if depths else None

    def _match(self, path: str) -> tuple:
        """Sections owning PATH (relative to the tree root, `/` separators), most specific first."""
        while path.startswith("./"):
            path = path[2:]
        candidates = sorted(set(self._index.get(path.split("/", 1)[0], ())) | set(self._index.get(None, ())))
        hits = []
        for i in candidates:
            s = self.sections[i]
            d = self._depth(i, path)
            if d is not None:
                hits.append((-d, s.index, s))
        hits.sort(key=lambda h: (h[0], h[1]))
        found = [s for _, _, s in hits]
        specific = [s for s in found if s.title != THE_REST]
        return tuple(specific or found)

    def primary(self, path: str) -> Section | None:
        found = self.match(path)
        return found[0] if found else None


def _regex(text: str) -> re.Pattern | None:
    """An N: pattern (Perl /x): whitespace is insignificant.  Unusable ones are ignored."""
    try:
        return re.compile(re.sub(r"\s+", "", text))
    except re.error:
        return None


_FIELDS = {"M": "maintainers", "R": "reviewers", "L": "lists", "F": "files", "X": "excludes",
           "N": "regexes", "K": "keywords"}


def parse(text: str, root: Path | None = None) -> Maintainers:
    """Sections of a MAINTAINERS text.  A section is a title line directly followed by tag lines.

    The preamble (indented examples such as "\\tM: Mail patches to") never starts
    a section: tags must start in column one, as get_maintainer.pl requires.
    """
    sections: list[Section] = []
    current: Section | None = None
    previous: tuple | None = None  # (line number, text) of the last untagged line
    for no, raw in enumerate(text.splitlines(), 1):
        m = _TAG.match(raw)
        if m is None:
            current = None
            previous = (no, raw.strip()) if raw.strip() else None
            continue
        if current is None:
            if previous is None:
                continue  # tag lines without a title: not a section
            current = Section(previous[1], previous[0], len(sections))
            sections.append(current)
            previous = None
        _add(current, m.group(1), m.group(2))
    return Maintainers(sections, root)


def _add(s: Section, tag: str, value: str) -> None:
    if tag == "S":
        s.status = value
    elif tag in _FIELDS:
        getattr(s, _FIELDS[tag]).append(value)
    else:
        s.other.setdefault(tag, []).append(value)


def load(path: str | Path, root: Path | None = None) -> Maintainers:
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8", "replace")
    except OSError as e:
        raise MaintainersError(f"{p}: cannot read MAINTAINERS: {e.strerror}") from None
    m = parse(text, root if root is not None else p.parent)
    if not m.sections:
        raise MaintainersError(f"{p}: no MAINTAINERS sections found (a title line followed by F:/M:/S: lines)")
    return m
