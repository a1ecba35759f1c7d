"""Every log line written while a request is handled carries its request id and its actor."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends

from service.app import create_app
from service.auth.dependencies import authenticate
from service.auth.principal import Principal
from service.logs import JsonFormatter, RequestFields
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.support import bearer


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestFields())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)  # setLevel, not .level =: it clears the loggers' level caches
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


async def test_lines_of_a_request_carry_its_id_and_actor(
    settings: Settings, token: TokenFactory, lines: io.StringIO
) -> None:
    app = create_app(settings)

    async def inner(who: Annotated[Principal, Depends(authenticate)]) -> dict[str, str]:
        logging.getLogger("somewhere.deep").info("inside the handler")
        return {"sub": who.sub}

    app.add_api_route("/v1/test-log-line", inner, methods=["GET"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            headers = {**bearer(token(sub="dana")), "X-Request-Id": "req-42"}
            assert (await http.get("/v1/test-log-line", headers=headers)).status_code == 200
            assert (await http.get("/healthz")).status_code == 200
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    mine = [r for r in records if r.get("request_id") == "req-42"]
    assert [r["msg"] for r in mine] == ["inside the handler", "request"]
    assert {r["actor"] for r in mine} == {"dana"}
    health = [r for r in records if r.get("path") == "/healthz"]
    assert len(health) == 1
    assert "actor" not in health[0]  # no token, no actor; nothing left over from before
    assert health[0]["request_id"] != "req-42"
