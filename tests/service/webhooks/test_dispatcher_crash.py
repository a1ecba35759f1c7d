"""A dispatcher killed with SIGKILL mid-flight: another one takes over, every event is delivered
at least once with the same webhook-id, and no stream's events arrive out of order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import defaultdict

import asyncpg
import httpx

from events.envelope import NewEvent
from events.store import EventStore
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.webhooks.receiver import Receiver
from tests.support import bearer

STREAMS, PER_STREAM = 3, 20


def _worker(database: ScratchDatabase) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "LEDGER_DATABASE_URL": database.app_url,
        "LEDGER_WEBHOOK_ALLOW_PRIVATE": "true",
        "LEDGER_WEBHOOK_TIMEOUT_SECONDS": "0.5",
        "LEDGER_RUN_SEALER": "false",
        "LEDGER_PROJECTION_POLL_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker"],
        env=env,
        stderr=subprocess.DEVNULL,
        text=True,
    )


async def _until(condition: object, what: str, seconds: float = 120) -> None:
    for _ in range(int(seconds * 20)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")


async def test_sigkill_mid_flight_loses_nothing_and_inverts_nothing(
    database: ScratchDatabase,
    pool: asyncpg.Pool,
    client: httpx.AsyncClient,
    token: TokenFactory,
    receiver: Receiver,
) -> None:
    lead = bearer(token(sub="lena", roles=("agency_lead",), sites=(), agency="northwind-agency"))
    created = await client.post(
        "/v1/webhook-subscriptions",
        json={
            "subscription_id": "ops",
            "url": receiver.url,
            "event_types": ["*"],
            "agency_id": "northwind-agency",
        },
        headers=lead,
    )
    assert created.status_code == 201, created.text
    store = EventStore(pool)
    for n in range(PER_STREAM):
        for s in range(STREAMS):
            event = NewEvent(type="SiteChangeRecorded", data={"n": n})
            await store.append(
                f"probe-{s}",
                n,
                [event],
                stream_type="probe",
                site_id=f"site-{s}",
                agency_id="northwind-agency",
            )
    expected = await pool.fetch(
        "SELECT event_id::text, stream_id, stream_version FROM events WHERE stream_type = 'probe'"
    )
    receiver.delay_seconds = 0.05
    first = _worker(database)
    try:
        await _until(lambda: len(receiver.ids()) >= 10, "the first deliveries")
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 20)
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker(database)
    try:
        wanted = {row["event_id"] for row in expected}
        await _until(lambda: wanted <= set(receiver.ids()), "every event delivered")
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)
    version_of = {row["event_id"]: (row["stream_id"], row["stream_version"]) for row in expected}
    arrivals: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for got in receiver.received:
        payload = json.loads(got.body)
        assert payload["id"] == got.headers["webhook-id"]
        if payload["id"] in version_of and payload["id"] not in seen:
            seen.add(payload["id"])
            stream, version = version_of[payload["id"]]
            arrivals[stream].append(version)
    for stream, versions in arrivals.items():
        assert versions == sorted(versions), f"{stream} arrived out of order: {versions}"
    assert len(seen) == STREAMS * PER_STREAM
