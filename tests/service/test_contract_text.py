"""The schema's words for "not blank" mean what the deciders' `is_blank` means."""

from __future__ import annotations

import re
import sys

import jsonschema
import pytest
from pydantic import BaseModel, JsonValue

from events.domain.required_text import is_blank
from service.contract.text import NON_BLANK, RequiredJson


def test_the_non_blank_pattern_refuses_exactly_what_strip_strips() -> None:
    pattern = re.compile(NON_BLANK["pattern"])
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(pattern.search(char)) is not is_blank(char), hex(code)


@pytest.mark.parametrize(
    "value",
    [None, "", " \u3000", {}, [], [[], "", {}, None], 0, False, "x", {"a": None}, [[" ", [1]]]],
)
def test_free_json_is_refused_blank_by_the_schema_as_by_the_decider(value: JsonValue) -> None:
    class Evidence(BaseModel):
        content: RequiredJson

    schema = Evidence.model_json_schema()
    valid = jsonschema.Draft202012Validator(schema).is_valid({"content": value})
    assert valid is not is_blank(value)
