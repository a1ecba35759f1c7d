"""Exporting 200,000 events keeps the process's memory bounded: the export streams a chunk at a
time, so its peak does not grow with the log.

Served by a real uvicorn server over a socket: httpx's ASGITransport collects the whole body
before it answers, which would measure the test client, not the export.
"""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.history_log import settings_without_projections
from tests.support import bearer

EVENTS = 200_000
PEAK_BOUND = 30 * 1024 * 1024
"""Far below the export's size (> 100 MB): a materialised list of the rows could not fit."""

# Hashes are zeros: this test measures memory; test_history_export checks real hashes.
BULK_INSERT = """
INSERT INTO events (event_id, stream_id, stream_type, stream_version, site_id, agency_id, type,
                    schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)
SELECT gen_random_uuid(), 'bulk-' || (g / 1000), 'bulk', g % 1000 + 1, 'acme-shop',
       'northwind-agency', 'BulkRecorded', 1,
       jsonb_build_object('n', g, 'note', repeat('x', 200)),
       jsonb_build_object('actor', 'loader', 'request_id', md5(g::text)),
       now(), now(), decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')
FROM generate_series(0, $1 - 1) g
"""


@pytest.fixture
async def bulk_log(database: ScratchDatabase) -> None:
    conn = await asyncpg.connect(database.owner_url)
    try:
        await conn.execute(BULK_INSERT, EVENTS)
        # Statistics, as autovacuum would gather them; without them the planner guesses a tiny
        # agency and sorts every row after the cursor on each chunk.
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()


@pytest.fixture
def settings(database: ScratchDatabase) -> Settings:
    # Without in-process projections: they would apply the 200,000 events in the same process
    # while it exports them, and this test measures the export.
    return settings_without_projections(database)


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[str]:
    """The app behind uvicorn on a free local port, in this event loop."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(settings), lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    deadline = time.monotonic() + 30
    while not server.started:
        assert not serving.done(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving
    listener.close()


async def test_exporting_200k_events_keeps_memory_bounded(
    bulk_log: None, served: str, token: TokenFactory
) -> None:
    headers = bearer(token(sub="audra", roles=("auditor",), sites=(), agency="northwind-agency"))
    lines = size = 0
    first = b""
    tracemalloc.start()
    try:
        async with (
            httpx.AsyncClient(base_url=served, timeout=120) as client,
            client.stream("GET", "/v1/events/export", headers=headers) as response,
        ):
            assert response.status_code == 200
            async for chunk in response.aiter_bytes():
                first = first or chunk[:200]
                lines += chunk.count(b"\n")
                size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nexported {lines} events, {size / 2**20:.1f} MiB; peak {peak / 2**20:.1f} MiB traced")
    assert lines == EVENTS
    assert first.startswith(b'{"event_id":')
    assert size > 100 * 1024 * 1024, "the export must dwarf the bound for the test to mean much"
    assert peak < PEAK_BOUND
