"""Findings: what rules report, as plain data."""
from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("note", "warning", "error")  # SARIF levels, weakest first


def level_rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass
class Finding:
    rule: str
    level: str
    file: str
    line: int
    column: int
    function: str
    message: str
    properties: dict = field(default_factory=dict)
    path: list = field(default_factory=list)  # witness steps: {file, line, function, what}
    api: str = ""
    call: str = ""

    def sort_key(self):
        return (self.file, self.line, self.column, self.rule)
