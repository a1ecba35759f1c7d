"""openapi/openapi.json is what the app generates, and keeps the conventions of the API."""

from __future__ import annotations

import json
from pathlib import Path

from service.auth.roles import MATRIX, PUBLIC_OPERATIONS
from service.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_app() -> None:
    generated = json.dumps(openapi_document(), indent=2) + "\n"
    assert COMMITTED.read_text() == generated, "run `make openapi` and commit the result"


def test_operation_ids_are_kebab_case_and_in_the_role_matrix() -> None:
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            op_id = operation["operationId"]
            assert op_id == op_id.lower(), (path, method)
            assert "_" not in op_id, (path, method)
            assert op_id in MATRIX or op_id in PUBLIC_OPERATIONS, f"{op_id} has no matrix entry"


def test_every_request_body_has_a_complete_example() -> None:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    for methods in doc["paths"].values():
        for operation in methods.values():
            body = operation.get("requestBody")
            if body is None:
                continue
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            schema = schemas[ref]
            (example,) = schema["examples"]
            assert set(schema["properties"]) <= set(example), f"{ref} example is incomplete"


def test_every_event_type_is_published_with_its_json_schema() -> None:
    from events.catalogue import CATALOGUE
    from events.domain import load_all

    load_all()
    schemas = openapi_document()["components"]["schemas"]
    for cls in CATALOGUE:
        schema = schemas[f"Event.{cls.type_name()}"]
        assert set(schema["properties"]) == set(cls.model_fields), cls.type_name()
        assert f"severity {cls.severity.value}" in schema["description"]
    served = [name for name in schemas if name.startswith("Event.")]
    assert len(served) >= len(list(CATALOGUE))
