"""What a decider refuses as missing, said in the schema too: a client generated from the
document is refused by its own validation first, and a schema-valid body is never refused for
missing content. The decider still answers 422 with `missing` (every caller, forms too, meets
it, all missing parts named at once): these say it in the document, they validate nothing.

Blank is missing (events/domain/required_text.py): `RequiredText` for a text field or list item,
`RequiredJson` for free JSON, `RequiredParts` for the fields a body lets be absent so that the
decider can name them all, and its `rules` for what spans several fields ("one of two paths").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, GetJsonSchemaHandler, JsonValue, RootModel, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from pydantic_core.core_schema import definition_reference_schema

# Exactly what `str.strip()` strips (the characters `str.isspace()` is true for), spelt out:
# `\s` differs between regex dialects (ECMA adds U+FEFF, Python adds U+001C-U+001F).
WHITESPACE = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NON_BLANK: dict[str, Any] = {"minLength": 1, "pattern": f"[^{WHITESPACE}]"}
"""Not empty, not only whitespace."""

RequiredText = Annotated[str, Field(json_schema_extra=NON_BLANK)]
"""Text the decider refuses blank; a field's own `max_length` goes beside it."""


def with_one_of(names: tuple[str, ...], part: Mapping[str, Any]) -> dict[str, Any]:
    """The schema of "one of these fields at least, given as `part`" (on the model)."""
    return {"anyOf": [{"required": [name], "properties": {name: dict(part)}} for name in names]}


class RequiredParts(BaseModel):
    """A body with fields the decider requires that the body lets be absent (None), so that one
    refusal names every missing one: `required_parts` are required, never null, and non-blank
    when text, in the schema."""

    required_parts: ClassVar[tuple[str, ...]] = ()
    rules: ClassVar[tuple[dict[str, Any], ...]] = ()
    """The decider's rules over several fields, as schemas the body must match (`allOf`)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name in cls.required_parts:
            _required(schema["properties"][name])
        parts = set(cls.required_parts)
        required = {*parts, *schema.get("required", ())}
        if required:
            schema["required"] = [name for name in schema["properties"] if name in required]
        if cls.rules:
            schema["allOf"] = list(cls.rules)
        return schema


def _required(part: dict[str, Any]) -> None:
    part.pop("default", None)
    given = [branch for branch in part.pop("anyOf", []) if branch.get("type") != "null"]
    if len(given) == 1:
        part.update(given[0])
    elif given:
        part["anyOf"] = given
    if part.get("type") == "string" and not {"enum", "format", "pattern"} & part.keys():
        part.update(NON_BLANK)


# Validated as any JSON value, whose own schema is left out (`{}`): this definition is the one
# said below, not a reference to the shared JsonValue.
class NonBlankJson(RootModel[Annotated[JsonValue, WithJsonSchema({})]]):
    """Text or JSON that says something: not null, not blank text, not an empty object, and an
    array only with something in it (recursively: `[[], ""]` says nothing)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        # A reference to this very definition, for the items of an array.
        itself = handler(definition_reference_schema(str(core_schema.get("ref"))))
        schema["anyOf"] = [
            {"type": "string", **NON_BLANK},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "object", "minProperties": 1},
            {"type": "array", "contains": itself},
        ]
        return schema


class _SchemaOf:
    """Says a value's schema is `model`'s (the value is still validated as its own type)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self.model.__pydantic_core_schema__)


RequiredJson = Annotated[JsonValue, _SchemaOf(NonBlankJson)]
"""A JSON value the decider refuses blank (`is_blank`)."""
