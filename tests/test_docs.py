"""The documents a user reads carry no draft placeholders (a round once committed
docs/context.md with a bare LOCKHELPER_RESULTS line where its measurements belonged)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"^\s*(?:[A-Z][A-Z0-9]*_)+[A-Z0-9]+\s*$|\b(?:TODO|TBD|XXX|FIXME)\b")


def test_docs_have_no_placeholders():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(docs) > 2
    found = [f"{d.name}:{i}: {line.strip()}" for d in docs
             for i, line in enumerate(d.read_text().splitlines(), 1) if PLACEHOLDER.search(line)]
    assert found == []
