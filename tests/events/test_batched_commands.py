"""Group commit for real commands: concurrent HTTP commands, with Idempotency-Keys and the
inline read models, share one transaction and one commit, and a refused one leaves the others
committed with right read models. The projection runners are off, so every read-model row here
was written inline. A gate (an append waiting on a row another connection holds) keeps the
store busy until every command has queued, so the batch is the same on every run."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

import projections
from events.store import EventStore
from projections import generations
from projections.rebuild import rebuild
from service.app import create_app
from service.settings import Settings
from service.workflows.schemas import REGISTER_EXAMPLE
from tests.conftest import ScratchDatabase, TokenFactory
from tests.events.blocking import RAW_INSERT, RAW_KEY, held, until, until_waiting_on_a_lock
from tests.support import bearer, new_events, site_body

GATE = "gate-1"


@asynccontextmanager
async def _app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """An app of its own (one process of the service), without projection runners."""
    app = create_app(settings.model_copy(update={"run_projections": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            yield http, app


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, EventStore]]:
    async with _app(settings) as (http, app):
        yield http, app.state.ledger.store


@asynccontextmanager
async def _gate(pool: asyncpg.Pool, store: EventStore) -> AsyncIterator[None]:
    """The store's batch in flight waits until the context ends; what is sent meanwhile
    queues, and goes as the next batch."""
    async with held(pool, RAW_INSERT, GATE, 1, commit=False):
        gate = asyncio.create_task(store.append(GATE, 0, new_events(1), stream_type="gate"))
        await until_waiting_on_a_lock(pool)
        yield
    await gate


async def _live_inline(pool: asyncpg.Pool) -> dict[str, generations.Generation]:
    return {p.name: await rebuild(pool, p) for p in projections.INLINE}


async def _heads(pool: asyncpg.Pool, gen: generations.Generation) -> dict[str, tuple[Any, ...]]:
    rows = await pool.fetch(
        f"SELECT stream_id, version, last_event_type, last_position FROM {gen.tables['heads']} "
        "WHERE stream_id <> $1",
        GATE,
    )
    return {row["stream_id"]: tuple(row.values())[1:] for row in rows}


async def _boards(pool: asyncpg.Pool, gen: generations.Generation) -> list[asyncpg.Record]:
    return await pool.fetch(f"SELECT * FROM {gen.tables['workflows']} ORDER BY workflow_id")


async def _transactions(pool: asyncpg.Pool, streams: list[str]) -> int:
    count = await pool.fetchval(
        "SELECT count(DISTINCT transaction_id) FROM events WHERE stream_id = ANY($1::text[])",
        streams,
    )
    return int(count)


async def test_concurrent_commands_share_one_transaction_and_inline_read_models(
    settings: Settings, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    live = await _live_inline(pool)
    admin = bearer(token(sites=("*",)))
    requests = [("/v1/sites", site_body(f"shop-{n}")) for n in range(16)] + [
        ("/v1/workflows", {**REGISTER_EXAMPLE, "workflow_id": f"flow-{n}"}) for n in range(16)
    ]
    async with _served(settings) as (http, store):
        assert (await http.post("/v1/sites", json=site_body(), headers=admin)).status_code == 201
        before = store.transactions_committed
        async with _gate(pool, store):
            sent = [
                asyncio.create_task(
                    http.post(path, json=body, headers={**admin, "Idempotency-Key": f"k-{n}"})
                )
                for n, (path, body) in enumerate(requests)
            ]
            await until(lambda: store.commands_waiting == len(requests), "all commands queued")
        responses = await asyncio.gather(*sent)
        assert [r.status_code for r in responses] == [201] * len(requests)
        # The gate's transaction, and one for all the commands.
        assert store.transactions_committed - before == 2
        streams = [r.json()["stream_id"] for r in responses]
        assert await _transactions(pool, streams) == 1
        # A retry with the same key gets the answer stored in that transaction.
        path, body = requests[20]
        again = await http.post(path, json=body, headers={**admin, "Idempotency-Key": "k-20"})
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == responses[20].json()
    heads = await _heads(pool, live["stream_heads"])
    for response in responses:
        body = response.json()
        kind = "SiteRegistered" if body["stream_id"].startswith("site-") else "WorkflowRegistered"
        assert heads[body["stream_id"]] == (1, kind, body["position"])
    boards = await _boards(pool, live["workflow_board"])
    assert [b["workflow_id"] for b in boards] == sorted(f"flow-{n}" for n in range(16))
    # Applied once for the whole batch, the rows are what a replay of the log gives.
    rebuilt = {p.name: await rebuild(pool, p) for p in projections.INLINE}
    assert heads == await _heads(pool, rebuilt["stream_heads"])
    assert boards == await _boards(pool, rebuilt["workflow_board"])


_REFUSE = """
CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'a read model refuses %', NEW.stream_id;
END
$fn$
"""


async def test_refused_commands_in_a_batch_leave_the_others_committed(
    settings: Settings, token: TokenFactory, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    live = await _live_inline(pool)
    owner = await asyncpg.connect(database.owner_url)
    try:
        # One command's inline work fails, as a fault in a read model would.
        await owner.execute(_REFUSE)
        await owner.execute(
            "CREATE TRIGGER refuse_doomed BEFORE INSERT ON "
            f"{live['stream_heads'].tables['heads']} FOR EACH ROW "
            "WHEN (NEW.stream_id = 'site-doomed-shop') EXECUTE FUNCTION refuse_doomed()"
        )
    finally:
        await owner.close()
    admin = bearer(token(sites=("*",)))
    fine = [f"shop-{n}" for n in range(30)]
    async with _served(settings) as (http, store), _served(settings) as (other, _):
        before = store.transactions_committed
        async with _gate(pool, store):
            sent = [
                asyncio.create_task(
                    http.post("/v1/sites", json=site_body(site), headers={**admin, **extra})
                )
                for site, extra in [
                    *((site, {"Idempotency-Key": site}) for site in fine),
                    ("doomed-shop", {"Idempotency-Key": "doomed"}),
                    # Loaded as new, then another process registers it before the batch goes.
                    ("taken-shop", {"If-Match": '"0"'}),
                ]
            ]
            await until(lambda: store.commands_waiting == len(sent), "all commands queued")
            first = await other.post("/v1/sites", json=site_body("taken-shop"), headers=admin)
            assert first.status_code == 201
        responses = await asyncio.gather(*sent)
    *committed, doomed, taken = responses
    assert [r.status_code for r in committed] == [201] * len(fine)
    assert doomed.status_code == 500
    assert taken.status_code == 409
    assert taken.json()["current_version"] == 1
    # The gate's, then the batch's second try (a savepoint per command) after the first failed.
    assert store.transactions_committed - before == 2
    assert await _transactions(pool, [f"site-{site}" for site in fine]) == 1
    heads = await _heads(pool, live["stream_heads"])
    assert set(heads) == {f"site-{site}" for site in [*fine, "taken-shop"]}
    for response in committed:
        body = response.json()
        assert heads[body["stream_id"]] == (1, "SiteRegistered", body["position"])
    assert heads["site-taken-shop"][2] == first.json()["position"]
    doomed_events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_id = 'site-doomed-shop'"
    )
    assert doomed_events == 0
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'doomed'") == 0


async def test_a_key_stored_first_by_another_process_gets_its_answer_in_a_batch(
    settings: Settings, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    """Another process stores the answer to the same request and key while this one's batch
    waits on the key: that command answers the stored reply; the rest of the batch commits."""
    body = json.dumps(site_body("race-shop")).encode()
    stored = {"event_ids": [], "stream_id": "site-race-shop", "stream_version": 1, "position": 7}
    headers = {**bearer(token(sites=("*",))), "Content-Type": "application/json"}
    async with _app(settings) as (http, app):
        message = b"POST /v1/sites\n" + body
        request_hash = hmac.new(app.state.request_hash_key, message, hashlib.sha256).digest()
        # The scope the ledger gives alice's keys: issuer, tenant binding, subject.
        scope = json.dumps([settings.jwt_issuer, "-", "alice"], separators=(",", ":"))
        elsewhere = (scope, "race-1", request_hash, json.dumps(stored))
        store = app.state.ledger.store
        async with held(pool, RAW_KEY, *elsewhere, commit=True):
            async with _gate(pool, store):
                race = asyncio.create_task(
                    http.post(
                        "/v1/sites", content=body, headers={**headers, "Idempotency-Key": "race-1"}
                    )
                )
                others = [
                    asyncio.create_task(
                        http.post(
                            "/v1/sites",
                            json=site_body(f"shop-{n}"),
                            headers={**bearer(token(sites=("*",))), "Idempotency-Key": f"k-{n}"},
                        )
                    )
                    for n in range(7)
                ]
                await until(lambda: store.commands_waiting == 8, "all commands queued")
            # The batch's idempotency INSERT waits on the other process's key.
            await until_waiting_on_a_lock(pool)
        answered = await race
        assert answered.status_code == 201
        assert answered.headers["idempotent-replayed"] == "true"
        assert answered.json() == stored
        assert [(await o).status_code for o in others] == [201] * 7
    assert (
        await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = 'site-race-shop'") == 0
    )
