"""The published event catalogue in the OpenAPI document: one JSON Schema per event type, named
`Event.<Type>`, for webhook consumers and auditors who read the log without this code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from events.catalogue import CATALOGUE
from events.domain import load_all
from service.webhooks.docs import webhooks_section

PREFIX = "Event."


def event_schemas() -> dict[str, Any]:
    load_all()
    schemas: dict[str, Any] = {}
    for cls in CATALOGUE:
        schema = cls.model_json_schema(ref_template=f"#/components/schemas/{PREFIX}{{model}}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas[f"{PREFIX}{name}"] = definition
        schema["description"] = (
            f"{(cls.__doc__ or '').strip()}\n\nschema version {cls.schema_version}, "
            f"severity {cls.severity.value}"
        ).strip()
        schemas[f"{PREFIX}{cls.type_name()}"] = schema
    return dict(sorted(schemas.items()))


def install_event_schemas(app: FastAPI) -> None:
    """Adds the catalogue to the generated document, once, the first time it is asked for."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(event_schemas())
            # What webhook consumers receive, beside the paths: one entry per event type.
            section, delivery_schemas = webhooks_section(PREFIX)
            schemas.update(delivery_schemas)
            document["webhooks"] = section
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
