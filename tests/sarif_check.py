"""SARIF checks shared by the tests: schema validation and gfplint's own invariants.

The official SARIF 2.1.0 schema lives outside the repository
(../shared/sarif/sarif-schema-2.1.0.json); when it is absent, the smaller
schema tests/sarif_min_schema.json still checks the structure gfplint relies on.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema

from fixture_expect import ROOT, SHARED

OFFICIAL_SCHEMA = SHARED / "sarif" / "sarif-schema-2.1.0.json"
FALLBACK_SCHEMA = ROOT / "tests" / "sarif_min_schema.json"


@lru_cache(maxsize=None)
def schema_path() -> Path:
    return OFFICIAL_SCHEMA if OFFICIAL_SCHEMA.is_file() else FALLBACK_SCHEMA


@lru_cache(maxsize=None)
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(schema_path().read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def validate(doc) -> dict:
    """Validate a SARIF log (text or parsed) against the schema and gfplint's invariants; returns it parsed."""
    if isinstance(doc, (str, bytes)):
        doc = json.loads(doc)
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    for run in doc["runs"]:
        assert isinstance(run["results"], list)  # present even when empty
        rules = run["tool"]["driver"]["rules"]
        for r in run["results"]:
            assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
            assert r["level"] in ("note", "warning", "error")
            assert len(r["locations"]) == 1
            assert {"primaryLocationLineHash", "gfplintKey/v1"} <= set(r["partialFingerprints"])
            assert r["message"]["text"].endswith(".")
    return doc
