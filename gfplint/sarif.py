"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

The log is built from sarif-om's attrs classes and written by `to_plain`, a
small serializer over their fields: sarif-om has no serializer of its own, and
jschema_to_python drops every value equal to its attrs default, which loses
`level: "warning"` (a result without a level takes its rule's default level
in a viewer, so a warning of an error-level rule would show as an error).

Output is deterministic: sorted keys, no timestamps, findings in report order.
"""
from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import quote

import attrs
import sarif_om as om

from . import __version__
from .baseline import finding_keys
from .registry import all_rules
from .ruledocs import claim_text, markdown_page, text_page

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://example.invalid/gfplint"  # pyproject.toml [project.urls] Homepage
SRCROOT = "%SRCROOT%"
KEY_NAME = "gfplintKey/v1"

# GitHub code scanning rejects an upload past these (docs: "SARIF support for code scanning").
GITHUB_MAX_RESULTS = 25_000
GITHUB_MAX_GZIP_BYTES = 10_000_000  # "10 MB"; the decimal reading is the safe one

# problem.severity as CodeQL spells it; GitHub sorts alerts by it.
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
# Attrs fields written even when equal to their default (see module docstring).
ALWAYS_WRITTEN = frozenset({"level"})


class SarifLimitError(ValueError):
    """The log would be rejected by GitHub code scanning (exit code 2, nothing written)."""


# ------------------------------------------------------------------ serializer


def _is_default(a: attrs.Attribute, value) -> bool:
    if a.name in ALWAYS_WRITTEN or a.default is attrs.NOTHING:
        return False
    default = a.default.factory() if isinstance(a.default, attrs.Factory) else a.default
    return value == default


def to_plain(obj):
    """sarif-om objects, dicts, lists and scalars -> plain JSON values; unset fields and None dropped."""
    if attrs.has(type(obj)):
        out = {}
        for a in attrs.fields(type(obj)):
            value = getattr(obj, a.name)
            if value is None or _is_default(a, value):
                continue
            out[a.metadata.get("schema_property_name", a.name)] = to_plain(value)
        return out
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_plain(v) for v in obj)
    return obj


def dumps(log: om.SarifLog) -> str:
    return json.dumps(to_plain(log), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ source text


@dataclass
class Sources:
    """Source files under the root, read once: columns and line hashes need the text."""

    root: str
    _bytes: dict = field(default_factory=dict)
    _hashes: dict = field(default_factory=dict)

    def lines(self, rel: str) -> list[bytes]:
        if rel not in self._bytes:
            try:
                with open(os.path.join(self.root, rel), "rb") as f:
                    self._bytes[rel] = f.read()
            except OSError:
                self._bytes[rel] = None
        data = self._bytes[rel]
        return [] if data is None else data.split(b"\n")

    def char_column(self, rel: str, line: int, byte_column: int) -> int:
        """libclang's 1-based byte column -> SARIF's 1-based Unicode code point column."""
        lines = self.lines(rel)
        if byte_column <= 1 or not 0 < line <= len(lines):
            return max(byte_column, 1)
        prefix = lines[line - 1][: byte_column - 1]
        return len(prefix.decode("utf-8", "replace")) + 1

    def line_hash(self, rel: str, line: int) -> str | None:
        if rel not in self._hashes:
            self.lines(rel)
            data = self._bytes.get(rel)
            self._hashes[rel] = None if data is None else line_hashes(data.decode("utf-8", "replace"))
        hashes = self._hashes[rel]
        return None if hashes is None else hashes.get(line)


# ---------------------------------------------------- GitHub's primaryLocationLineHash

_MASK64 = (1 << 64) - 1
_BLOCK = 100
_MOD = 37
_FIRST_MOD = pow(_MOD, _BLOCK, 1 << 64)
_EOF = 65535


def line_hashes(text: str) -> dict[int, str]:
    """line number -> primaryLocationLineHash, as GitHub's upload computes it.

    A faithful port of hash() in github/codeql-action src/fingerprints.ts: a
    rolling hash (base 37, 64-bit wrap-around like its Long arithmetic) over the
    next 100 characters from the start of each line, spaces and tabs skipped,
    CR and CRLF read as LF, the file's end marked by 65535 and padded with
    zeros; a repeated hash gets ":2", ":3"... in order of appearance.
    Characters are UTF-16 code units, as JavaScript's charCodeAt gives them.
    Checked against the vectors of that repository's src/fingerprints.test.ts.
    Emitting it ourselves lets viewers other than the upload action track alerts.
    """
    window = [0] * _BLOCK
    starts = [-1] * _BLOCK  # line number whose first character sits at this window slot
    state = {"hash": 0, "index": 0, "line": 0, "line_start": True, "prev_cr": False}
    counts: dict[str, int] = {}
    out: dict[int, str] = {}

    def emit():
        i = state["index"]
        value = format(state["hash"] & _MASK64, "x")
        counts[value] = counts.get(value, 0) + 1
        out[starts[i]] = f"{value}:{counts[value]}"
        starts[i] = -1

    def update(c: int):
        i = state["index"]
        leaving, window[i] = window[i], c
        state["hash"] = (_MOD * state["hash"] + c - _FIRST_MOD * leaving) & _MASK64
        state["index"] = (i + 1) % _BLOCK

    def feed(c: int):
        if c in (0x20, 0x09) or (state["prev_cr"] and c == 0x0A):
            state["prev_cr"] = False
            return
        state["prev_cr"] = c == 0x0D
        if c == 0x0D:
            c = 0x0A
        if starts[state["index"]] != -1:
            emit()
        if state["line_start"]:
            state["line_start"] = False
            state["line"] += 1
            starts[state["index"]] = state["line"]
        if c == 0x0A:
            state["line_start"] = True
        update(c)

    units = text.encode("utf-16-le")
    for k in range(0, len(units), 2):
        feed(units[k] | units[k + 1] << 8)
    feed(_EOF)
    for _ in range(_BLOCK):
        if starts[state["index"]] != -1:
            emit()
        update(0)
    return out


# ------------------------------------------------------------------ pieces


def sentence(text: str) -> str:
    """Finding messages are compiler-style fragments; SARIF viewers expect sentences.

    The first word is capitalized unless it is an identifier (kmalloc(), __GFP_NOFAIL).
    """
    text = text.strip()
    if not text:
        return text
    first = re.match(r"[A-Za-z_][\w]*(\(\))?", text)
    if first and first.group(0).isalpha() and first.group(0).islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _uri(rel: str) -> str:
    return quote(rel, safe="/")


def root_uri(root: str) -> str:
    """file:// URI of the analysis root, ending in '/' as SARIF §3.14.14 requires."""
    path = PurePosixPath(os.path.abspath(root)).as_posix()
    return "file://" + quote(path.rstrip("/") + "/", safe="/")


def _artifact(file: str) -> om.ArtifactLocation:
    if os.path.isabs(file):  # outside the root (rare: a header given by absolute path)
        return om.ArtifactLocation(uri="file://" + quote(file, safe="/"))
    return om.ArtifactLocation(uri=_uri(file), uri_base_id=SRCROOT)


def physical(src: Sources, file: str, line: int, column: int | None = None) -> om.PhysicalLocation:
    region = None
    if line and line > 0:
        region = om.Region(start_line=line)
        if column and column > 0:
            region.start_column = src.char_column(file, line, column)
    return om.PhysicalLocation(artifact_location=_artifact(file), region=region)


def reporting_descriptor(mod) -> om.ReportingDescriptor:
    return om.ReportingDescriptor(
        id=mod.ID,
        name=mod.NAME,
        short_description=om.MultiformatMessageString(text=mod.SHORT),
        full_description=om.MultiformatMessageString(text=mod.FULL),
        help=om.MultiformatMessageString(text=text_page(mod), markdown=markdown_page(mod)),
        default_configuration=om.ReportingConfiguration(level=mod.LEVEL),
        properties={
            "precision": mod.PRECISION,
            "problem.severity": PROBLEM_SEVERITY[mod.LEVEL],
            "tags": list(mod.TAGS),
            "claim": claim_text(mod),
        },
    )


def _related(src: Sources, f) -> list:
    """Locations that explain the finding: the allocation behind a dead error path,
    the origin of the witness path (the lock taken, the scope entered, the entry
    registered: what put the allocation in its context), and whatever a rule
    lists in properties['related'] ({file, line, column?, what})."""
    out = []
    site_line = f.properties.get("site_line")
    if site_line and site_line != f.line:
        out.append(({"file": f.file, "line": site_line}, f"the {f.api or 'allocation'}() call"))
    if f.path and (f.path[0].get("file"), f.path[0].get("line")) != (f.file, f.line):
        out.append((f.path[0], f.path[0].get("what") or ""))
    for r in f.properties.get("related") or ():
        out.append((r, r.get("what") or r.get("message") or ""))
    return [
        om.Location(id=i, physical_location=physical(src, r["file"], r.get("line", 0), r.get("column")),
                    message=om.Message(text=what) if what else None)
        for i, (r, what) in enumerate(out)
    ]


def _code_flows(src: Sources, f) -> list | None:
    """The witness path of an interprocedural finding as one threadFlow."""
    if not f.path:
        return None
    steps = [
        om.ThreadFlowLocation(
            location=om.Location(
                physical_location=physical(src, s["file"], s.get("line", 0), s.get("column")),
                message=om.Message(text=s.get("what") or s.get("function") or ""),
                logical_locations=[om.LogicalLocation(name=s["function"], kind="function")] if s.get("function") else None,
            ),
            nesting_level=s.get("depth"),
        )
        for s in f.path
    ]
    return [om.CodeFlow(thread_flows=[om.ThreadFlow(locations=steps)])]


def _properties(f) -> dict:
    props = {k: v for k, v in f.properties.items() if k != "related" and v is not None}
    props["function"] = f.function
    return props


def result_for(f, index: int, key: str, src: Sources) -> om.Result:
    fingerprints = {KEY_NAME: key}
    line_hash = src.line_hash(f.file, f.line) if not os.path.isabs(f.file) else None
    if line_hash:
        fingerprints["primaryLocationLineHash"] = line_hash
    location = om.Location(
        physical_location=physical(src, f.file, f.line, f.column),
        logical_locations=[om.LogicalLocation(name=f.function, kind="function")] if f.function else None,
    )
    return om.Result(
        rule_id=f.rule,
        rule_index=index,
        level=f.level,
        message=om.Message(text=sentence(f.message)),
        locations=[location],
        partial_fingerprints=fingerprints,
        properties=_properties(f),
        code_flows=_code_flows(src, f),
        related_locations=_related(src, f) or None,
    )


def _notification(d, src: Sources) -> om.Notification:
    """One diagnostic (a TU that failed to parse, a skipped file) as a tool notification."""
    level = d.severity if d.severity in ("error", "warning", "note") else "warning"
    where = None
    if d.file and d.file != ".":
        where = [om.Location(physical_location=physical(src, d.file, d.line, d.column))]
    props = {"tu": d.tu} if d.tu else None
    return om.Notification(level=level, message=om.Message(text=sentence(d.message)), locations=where,
                           properties=props)


def automation_id(category: str) -> str:
    """GitHub takes the part up to the last '/' as the category: end it in '/' so all of it is."""
    return category if category.endswith("/") else category + "/"


# ------------------------------------------------------------------ the log


def build(result, category: str | None = None, keys: dict | None = None) -> om.SarifLog:
    """A SarifLog for one analysis Result.

    tool.driver.rules lists every rule, selected or not, so ruleIndex means the
    same in every run.  KEYS maps id(finding) -> baseline key when the findings
    were narrowed (baseline, diff) after keys were numbered over all of them.
    """
    prog = result.program
    src = Sources(prog.root)
    rules = list(all_rules())
    index = {m.ID: i for i, m in enumerate(rules)}
    if keys is None:
        keys = dict(zip(map(id, result.findings), finding_keys(result.findings)))
    results = [result_for(f, index[f.rule], keys[id(f)], src) for f in result.findings]
    run = om.Run(
        tool=om.Tool(driver=om.ToolComponent(
            name="gfplint", semantic_version=__version__, version=__version__,
            information_uri=INFORMATION_URI, rules=[reporting_descriptor(m) for m in rules],
        )),
        results=results,
        invocations=[om.Invocation(
            execution_successful=True,
            tool_execution_notifications=[_notification(d, src) for d in prog.diagnostics] or None,
        )],
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=root_uri(prog.root))},
        column_kind="unicodeCodePoints",
        automation_details=om.RunAutomationDetails(id=automation_id(category)) if category else None,
        properties={"kernel": prog.kernel, "translationUnits": prog.tus,
                    "translationUnitsWithParseErrors": prog.tus_with_errors, "sites": len(prog.sites)},
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def github_limits(text: str, results: int) -> None:
    """Raise SarifLimitError when GitHub code scanning would reject this upload."""
    split = ("split the run: fewer rules with --select (e.g. --select sleep-in-atomic,unchecked-may-fail), "
             "or one run per subsystem directory, each with its own --category")
    if results > GITHUB_MAX_RESULTS:
        raise SarifLimitError(f"SARIF has {results} results; GitHub code scanning accepts at most "
                              f"{GITHUB_MAX_RESULTS} per run: {split}")
    size = len(gzip.compress(text.encode("utf-8"), mtime=0))
    if size > GITHUB_MAX_GZIP_BYTES:
        raise SarifLimitError(f"SARIF is {size / 1e6:.1f} MB gzipped; GitHub code scanning accepts at most "
                              f"{GITHUB_MAX_GZIP_BYTES / 1e6:g} MB: {split}")


def to_sarif(result, category: str | None = None, keys: dict | None = None) -> str:
    """The SARIF text for a Result; raises SarifLimitError past GitHub's limits."""
    text = dumps(build(result, category, keys))
    github_limits(text, len(result.findings))
    return text
