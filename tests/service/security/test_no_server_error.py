"""Issue 13 item 10, as a property: whatever NUL, lone surrogate, invalid UTF-8 or integer
beyond the database's ranges lands in whichever path, query, header or body field of whichever
operation, the service answers a 4xx problem+json that does not echo it, and appends nothing.

Every operation of the OpenAPI document is walked, against the real app and a real Postgres
seeded with the demo agency, so path parameters name objects that exist and the poisoned field
is the only thing wrong with a request. Hypothesis draws the field and the poison; derandomized,
with a few examples per operation, so the run is the same every time and stays short.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.cli_demo import Demo
from service.openapi import openapi_document
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.conftest import count_events

SEEDED = {
    "site_id": "acme-shop",
    "agency_id": "northwind-agency",
    "log": "northwind-agency",
    "workflow_id": "nightly-meta-descriptions",
    "run_id": "2026-11-24-0200",
    "incident_id": "checkout-500s",
    "action_id": "alert-checkout-errors",
    "playbook_id": "cart-followup",
    "subscription_id": "northwind-on-call",
    "category": "marketing",
    "name": "incident_board",
    "check": "provider_setup",
    "stream_id": "site-acme-shop",
    "event_id": "00000000-0000-4000-8000-000000000000",
    "delivery_id": "1",
    "tile_path": "0/000",
    "kid": "k1",
    "change_id": "c1",
    "handoff_id": "h1",
}
EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "5"))
"""Per operation; the suite's default keeps the run short, a longer run sets more."""
MARK = "pZq"
"""Around every poison: an answer that holds it has echoed the poisoned input."""

TEXT_POISONS = ["\x00", "\ud800", "\udfff", "a\x00b", "\ud83d"]
INT_POISONS = [2**31, 2**63, -(2**63) - 1, 10**30, -(2**31) - 1, 2**64]
BYTE_POISONS = [b"\xff\xfe", b"\x00", b"\xed\xa0\x80", b"\xc3"]
"""Raw bytes, not JSON escapes: invalid UTF-8 (a surrogate's own encoding too) and a raw NUL."""
_RAW = "\x01RAW\x01"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    params: list[dict[str, Any]]
    example: Any
    fields: list[tuple[str, ...]] = field(default_factory=list)
    """Where a poison can go: ("path"|"query"|"header", name) or ("body", *json pointer)."""


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        found = [(*at, ("key", name)) for name in value]
        for name, inner in value.items():
            found += _leaves(inner, (*at, name))
        return found
    if isinstance(value, list):
        return [leaf for i, inner in enumerate(value) for leaf in _leaves(inner, (*at, i))]
    return [at]


def operations() -> list[Operation]:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    found = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            example = None
            body = op.get("requestBody")
            if body is not None:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                example = schemas[ref]["examples"][0]
            params = op.get("parameters", [])
            fields = [(p["in"], p["name"]) for p in params] + [("header", "authorization")]
            if example is not None:
                fields += [("body", *leaf) for leaf in _leaves(example) if leaf]
            found.append(
                Operation(method.upper(), path, op["operationId"], params, example, fields)
            )
    return found


OPERATIONS = operations()


def _poisoned_text(original: str, poison: str, at: int) -> str:
    at = min(at, len(original))
    return original[:at] + MARK + poison + MARK + original[at:]


@dataclass
class Case:
    method: str
    url: str
    headers: dict[str, bytes]
    content: bytes | None
    must_refuse: bool
    """Text poison anywhere, or an integer beyond range where an integer belongs."""


def _replace(value: Any, pointer: tuple[Any, ...], new: Callable[[Any], Any]) -> Any:
    if not pointer:
        return new(value)
    head, rest = pointer[0], pointer[1:]
    if isinstance(head, tuple):  # ("key", name): the poison goes into the key itself
        return {(new(k) if k == head[1] else k): v for k, v in value.items()}
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


def _at(value: Any, pointer: tuple[Any, ...]) -> Any:
    for part in pointer:
        if isinstance(part, tuple):
            return part[1]
        value = value[part]
    return value


def build(op: Operation, target: tuple[Any, ...], poison: Any, at: int, token: str) -> Case:
    """The request of `op` with valid values everywhere but `target`, which gets `poison`."""
    where, name = target[0], target[1] if len(target) > 1 else None
    is_int = isinstance(poison, int)
    raw_bytes = poison if isinstance(poison, bytes) else b""

    def text(original: Any) -> Any:
        if is_int:
            return poison
        return _poisoned_text(str(original), _RAW if raw_bytes else poison, at)

    def encoded(value: str) -> bytes:
        return value.encode("utf-8", "surrogatepass").replace(_RAW.encode(), raw_bytes)

    path = op.path
    query: list[str] = []
    integer_field = False
    for p in op.params:
        value = SEEDED.get(p["name"], "1") if p["in"] == "path" else None
        if (p["in"], p["name"]) == (where, name):
            integer_field = "integer" in json.dumps(p["schema"])
            raw = text(value or "x")
            value = str(raw) if is_int else quote(encoded(raw), safe="")
        elif p["in"] == "path":
            value = quote(value, safe="")
        if value is None:
            continue
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", value)
        elif p["in"] == "query":
            query.append(f"{p['name']}={value}")
    headers = {"authorization": f"Bearer {token}".encode()}
    if where == "header":
        original = headers.get(name, b"1").decode()
        headers[name] = encoded(str(text(original)))
    content = None
    if op.example is not None:
        body = op.example
        if where == "body":
            integer_field = isinstance(_at(body, target[1:]), int)
            body = _replace(body, target[1:], text)
        # ensure_ascii: a lone surrogate travels as a \ud800 escape, a NUL as \u0000.
        content = json.dumps(body).encode().replace(json.dumps(_RAW)[1:-1].encode(), raw_bytes)
        headers["content-type"] = b"application/json"
    url = path + ("?" + "&".join(query) if query else "")
    # A header may carry any Latin-1 byte; only a NUL (or an unreadable credential) is refused.
    text_refused = where != "header" or poison == b"\x00" or "\x00" in str(poison)
    return Case(op.method, url, headers, content, integer_field if is_int else text_refused)


@pytest.fixture
async def seeded(
    client: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool
) -> httpx.AsyncClient:
    await Demo(client, settings).fill()
    return client


def poisons(op: Operation) -> st.SearchStrategy[tuple[tuple[Any, ...], Any, int]]:
    """Which field, which poison, and where in the field's valid value it goes."""
    return st.tuples(
        st.sampled_from(op.fields),
        st.sampled_from(TEXT_POISONS + INT_POISONS + BYTE_POISONS),
        st.integers(min_value=0, max_value=40),
    )


def poisoned(op: Operation, token: str, deliver: Callable[[Case], None]) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(poisons(op))
    def each(drawn: tuple[tuple[Any, ...], Any, int]) -> None:
        target, poison, at = drawn
        deliver(build(op, target, poison, at, token))

    return each


async def test_no_input_makes_the_service_fail(
    seeded: httpx.AsyncClient, pool: asyncpg.Pool, token: TokenFactory
) -> None:
    root = token(sub="root", roles=("administrator",), sites=("*",), agency="northwind-agency")
    loop = asyncio.get_running_loop()
    failures: list[str] = []

    async def send(case: Case) -> None:
        before = await count_events(pool)
        try:
            answer = await seeded.request(
                case.method, case.url, headers=case.headers, content=case.content
            )
        except Exception as error:  # the transport re-raises what the app answered 500 for
            failures.append(f"{case.method} {case.url[:120]} -> 500: {type(error).__name__}")
            return
        where = f"{case.method} {case.url[:120]} -> {answer.status_code}"
        if answer.status_code < 400 and case.must_refuse:
            failures.append(f"{where}: accepted")
        elif answer.status_code >= 500:
            failures.append(f"{where}: {answer.text[:200]}")
        elif answer.status_code >= 400:
            if not answer.headers["content-type"].startswith("application/problem+json"):
                failures.append(f"{where}: not problem+json")
            if MARK in answer.text:
                failures.append(f"{where}: echoed the input")
            if await count_events(pool) != before:
                failures.append(f"{where}: refused, yet appended")

    def deliver(case: Case) -> None:
        asyncio.run_coroutine_threadsafe(send(case), loop).result(timeout=30)

    for op in OPERATIONS:
        # Hypothesis drives a plain function: run it off the event loop, which serves the app.
        await asyncio.to_thread(poisoned(op, root, deliver))
    assert not failures, "\n".join(dict.fromkeys(failures))
