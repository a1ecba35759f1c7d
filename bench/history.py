"""A valid payload of every event type of the catalogue, for the log the projection benchmark
writes with SQL: the projections decode each (stream type, event type) pair they handle through
the catalogue, so a payload of another type's shape would stop them, as it should.

Each payload holds the required fields of its type's schema, each the least value its schema
allows; the benchmark then gives the identifying fields (workflow, run, site, incident) values
that vary with the stream, so a batch touches as many entities as a busy ledger's would.
"""

from __future__ import annotations

from typing import Any

from events.catalogue import CATALOGUE
from events.domain import load_all

FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "editor@example.com",
    "uri": "https://shop.example.com/",
}


def _least(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _least(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _least(next(b for b in schema[key] if b.get("type") != "null"), defs)
    kind = schema.get("type")
    if kind == "string":
        return FORMATS.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        item = schema.get("items", {"type": "string"})
        return [_least(item, defs) for _ in range(schema.get("minItems", 0))]
    properties = schema.get("properties", {})
    return {name: _least(properties[name], defs) for name in schema.get("required", [])}


def payloads() -> dict[str, tuple[int, dict[str, Any]]]:
    """Each event type's schema version and a payload it validates (checked here)."""
    load_all()
    found = {}
    for cls in CATALOGUE:
        schema = cls.model_json_schema()
        payload = _least(schema, schema.get("$defs", {}))
        cls.model_validate(payload)
        found[cls.type_name()] = (cls.schema_version, payload)
    return found
