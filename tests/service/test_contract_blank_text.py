"""Blank text, the committed document and the deciders, for every command body: each text of the
body's example made blank in every way `str.strip` knows is refused by the document's own schema
exactly when the decider refuses it, and a text the schema accepts (blank where the schema lets
it be, or only format characters such as a zero-width space) is never refused as `missing`. A
NUL is refused by the edge (its documented exception to the schema), never echoed. Against one
ledger filled with the demo agency, over HTTP, each refusal appending nothing."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import jsonschema
import pytest

from events.domain.required_text import is_blank
from service.auth.roles import MATRIX
from service.cli_demo import Demo
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.conftest import count_events
from tests.service.contract_fuzz import DOCUMENT
from tests.service.dashboard.conftest import settled
from tests.service.test_contract_schemathesis import SEEDED
from tests.support import bearer

SPEC = json.loads(DOCUMENT.read_text())
BLANKS = (" ", "\u00a0", "\t\n\r", "\u3000\u2029", "\u1680\u205f\u202f", "\x1c\x85")
INVISIBLE = ("\u200b", "\ufeff", "\u180e")
"""Format characters, not whitespace: `str.strip` keeps them, so the decider and the schema read
them as text (what a reader sees is nothing; see the test below)."""
Path = tuple[str | int, ...]


def _commands() -> Iterator[tuple[str, str, str, str]]:
    """(operationId, method, path, body schema name) of every operation with a JSON body."""
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody")
            if body:
                name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                yield operation["operationId"], method, path, name


COMMANDS = sorted(_commands())


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    return jsonschema.Draft202012Validator(schema)


def _example(name: str) -> Any:
    return copy.deepcopy(SPEC["components"]["schemas"][name]["examples"][0])


def _texts(value: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _texts(item, (*path, n))


def _with(body: Any, path: Path, text: str) -> Any:
    changed = copy.deepcopy(body)
    holder = changed
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = text
    return changed


def _named(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


@pytest.mark.parametrize(("operation", "method", "route", "name"), COMMANDS)
def test_every_blank_is_refused_by_the_schema_as_a_space_is(
    operation: str, method: str, route: str, name: str
) -> None:
    """Where the document refuses a blank text it refuses every blank, and reads format
    characters as text, as `is_blank` does."""
    validator, example = _validator(name), _example(name)
    assert validator.is_valid(example), f"{operation}'s own example"
    for path in _texts(example):
        refuses = not validator.is_valid(_with(example, path, " "))
        if refuses:
            assert not validator.is_valid(_with(example, path, "")), path
        for blank in BLANKS:
            assert is_blank(blank)
            assert validator.is_valid(_with(example, path, blank)) is not refuses, (path, blank)
        # As a visible non-ASCII letter is (ids and enumerations refuse both).
        letter = validator.is_valid(_with(example, path, "\u00e9"))
        for invisible in INVISIBLE:
            assert validator.is_valid(_with(example, path, invisible)) is letter, (path, invisible)


def _caller(token: TokenFactory, operation: str) -> dict[str, str]:
    roles = sorted(MATRIX[operation])
    role = "administrator" if "administrator" in roles else roles[0]
    sites = ("*",) if role == "administrator" else ("acme-shop",)
    return bearer(token(sub="probe", roles=(role,), sites=sites, agency="northwind-agency"))


def _url(route: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SEEDED.get(m[1], "x-" + m[1].replace("_", "-")), route)


def _names(answer: httpx.Response, path: Path) -> bool:
    """Whether a 422 names the field at `path` as missing (as `a.b[0]` or by its own name)."""
    if answer.status_code != 422:
        return False
    missing = answer.json().get("missing") or []
    full, leaf = _named(path), next(str(p) for p in reversed(path) if isinstance(p, str))
    return any(m == full or m.endswith(leaf) or m.endswith(f"{leaf}]") for m in missing)


async def test_the_decider_refuses_exactly_the_blanks_the_schema_refuses(
    client: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool, token: TokenFactory
) -> None:
    await Demo(client, settings).fill()
    await settled(pool)
    disagreements: list[str] = []
    reached = 0
    for operation, method, route, name in COMMANDS:
        validator, example, headers = _validator(name), _example(name), _caller(token, operation)
        for path in _texts(example):
            if operation == "import-playbook" and path[0] == "document":
                continue  # signed: only the document as exported is valid (its own schema)
            blank = _with(example, path, " \u00a0\u3000")
            schema_refuses = not validator.is_valid(blank)
            before = await count_events(pool)
            answer = await client.request(method, _url(route), json=blank, headers=headers)
            named = _names(answer, path)
            reached += named
            where = f"{operation} {_named(path)}"
            if schema_refuses and answer.is_success:
                disagreements.append(f"{where}: the schema refuses blank, the service took it")
            if schema_refuses and answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json", where
                assert await count_events(pool) == before, f"{where}: a refusal appended"
            if not schema_refuses and named:
                disagreements.append(f"{where}: schema-valid blank refused as missing")
            invisible = await client.request(
                method, _url(route), json=_with(example, path, "\u200b"), headers=headers
            )
            if _names(invisible, path):
                disagreements.append(f"{where}: a zero-width space refused as missing")
    print(f"\n{reached} blank texts reached the decider's refusal")
    assert reached > 40, "the demo state lets the deciders' content rules be reached"
    assert disagreements == [], "\n".join(disagreements)


@pytest.mark.parametrize(("operation", "method", "route", "name"), COMMANDS)
async def test_a_nul_in_any_text_is_refused_at_the_edge_and_not_echoed(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    token: TokenFactory,
    operation: str,
    method: str,
    route: str,
    name: str,
) -> None:
    example, headers = _example(name), _caller(token, operation)
    for path in _texts(example):
        sent = _with(example, path, "secret-\u0000-value")
        answer = await client.request(method, _url(route), json=sent, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "secret-" not in answer.text, path
    assert await count_events(pool) == 0
