"""Text a decider refuses when blank, said in the schema too: a client generated from the
document is refused by its own validation first, and a schema-valid body is never refused for
being blank. The decider still answers 422 with `missing` (every caller, forms too, meets it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

NON_BLANK: dict[str, Any] = {"minLength": 1, "pattern": r"\S"}
"""Not empty, not only whitespace."""


class RequiredReason(BaseModel):
    """A body whose `reason` the decider requires: required and non-blank in the schema."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        reason = schema["properties"]["reason"]
        reason.pop("anyOf", None)
        reason.pop("default", None)
        reason.update({"type": "string", "maxLength": 2000, **NON_BLANK})
        schema["required"] = sorted({*schema.get("required", []), "reason"})
        return schema
