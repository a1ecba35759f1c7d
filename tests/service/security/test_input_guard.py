"""The edge's input guard, case by case (the property test walks every operation): what no text
column can hold is a 422 problem+json (401 in the Authorization header), nothing appended and
nothing echoed; what merely looks like it (an escaped backslash, an emoji's surrogate pair)
passes."""

from __future__ import annotations

import json

import asyncpg
import httpx
import pytest

from service.input_guard import _bad_json_escape
from tests.conftest import TokenFactory
from tests.service.conftest import count_events
from tests.support import bearer, site_body


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (rb'{"a": "\u0000"}', True),
        (rb'{"a": "x\ud800"}', True),
        (rb'{"a": "\udfff"}', True),
        (rb'{"a": "\ud83d"}', True),
        (rb'{"a": "\ud83d\u0041"}', True),
        (rb'{"a": "\\u0000"}', False),
        (rb'{"a": "\\\\\u0000"}', True),
        (rb'{"a": "\ud83d\ude00"}', False),
        (rb'{"a": "\u00e9\n"}', False),
    ],
)
def test_json_escapes_that_no_text_can_hold(body: bytes, refused: bool) -> None:
    assert _bad_json_escape(body) is refused


async def test_unreadable_input_is_refused_at_the_edge(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, subtests: pytest.Subtests
) -> None:
    admin = bearer(token())
    json_type = {"content-type": "application/json"}
    good = site_body()
    cases: dict[str, tuple[str, str, bytes | None, dict[str, str | bytes]]] = {
        "invalid UTF-8 body": ("POST", "/v1/sites", b'{"site_id": "\xff\xfe"}', json_type),
        "a raw NUL in the body": ("POST", "/v1/sites", b'{"site_id": "a\x00"}', json_type),
        "NUL escape in the body": (
            "POST",
            "/v1/sites",
            json.dumps({**good, "active_theme": "pZq\x00"}).encode(),
            json_type,
        ),
        "lone surrogate escape": (
            "POST",
            "/v1/sites",
            json.dumps({**good, "active_theme": "pZq\ud800"}).encode(),
            json_type,
        ),
        "NUL in the path": ("GET", "/v1/sites/pZq%00", None, {}),
        "invalid UTF-8 in the path": ("GET", "/v1/sites/pZq%ff", None, {}),
        "NUL in the query": ("GET", "/v1/events?site_id=pZq%00", None, {}),
        "a surrogate in the query": ("GET", "/v1/events?site_id=pZq%ED%A0%80", None, {}),
        "NUL in a header": ("POST", "/v1/sites", None, {"idempotency-key": b"pZq\x00"}),
    }
    for case, (method, path, body, headers) in cases.items():
        with subtests.test(case):
            answer = await client.request(method, path, content=body, headers={**admin, **headers})
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert "pZq" not in answer.text
    with subtests.test("NUL in the Authorization header"):
        nul = {"authorization": f"Bearer {token()}\x00pZq".encode()}
        answer = await client.get("/v1/sites/acme-shop", headers=nul)
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "pZq" not in answer.text
    assert await count_events(pool) == 0
    emoji = {**good, "active_theme": "storefront \U0001f600"}
    assert (await client.post("/v1/sites", json=emoji, headers=admin)).status_code == 201
