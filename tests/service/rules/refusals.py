"""What every refusal test here asserts: a problem+json 4xx naming what is missing, and not one
event appended, to any stream."""

from __future__ import annotations

from collections.abc import Awaitable

import asyncpg
import httpx

from tests.service.conftest import count_events


async def refused(
    pool: asyncpg.Pool, request: Awaitable[httpx.Response], status: int, missing: list[str]
) -> httpx.Response:
    """Send `request`; assert it is refused with `status` and exactly `missing`, appending
    nothing."""
    before = await count_events(pool)
    answer = await request
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["missing"] == missing
    assert await count_events(pool) == before, "a refusal appends nothing"
    return answer
