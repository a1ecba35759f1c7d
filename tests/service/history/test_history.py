"""History for auditors and mirrors: filters, keyset pages in commit-safe order, tenancy, and a
stream's own events."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from events.envelope import StoredEvent
from events.store import EventStore, GlobalPosition
from service.history.queries import feed_cursor
from tests.conftest import TokenFactory
from tests.service.history_log import (
    NORTHWIND,
    OTHER,
    ids,
    ids_of,
    list_all,
)
from tests.support import bearer, new_events

FILTERS: list[tuple[dict[str, str], Callable[[StoredEvent], bool]]] = [
    ({"site_id": "acme-shop"}, lambda e: e.site_id == "acme-shop"),
    ({"agency_id": OTHER}, lambda e: e.agency_id == OTHER),
    ({"stream_id": "run-acme-1"}, lambda e: e.stream_id == "run-acme-1"),
    ({"stream_type": "run"}, lambda e: e.stream_type == "run"),
    ({"type": "RunApproved"}, lambda e: e.type == "RunApproved"),
    ({"actor": "bob"}, lambda e: e.metadata["actor"] == "bob"),
    (
        {"type": "RunRequested", "agency_id": NORTHWIND, "actor": "carol"},
        lambda e: (
            (e.type, e.agency_id, e.metadata["actor"]) == ("RunRequested", NORTHWIND, "carol")
        ),
    ),
]


@pytest.mark.parametrize(("params", "keep"), FILTERS, ids=[str(p) for p, _ in FILTERS])
async def test_each_filter_keeps_exactly_its_events(
    seeded: list[StoredEvent],
    client: httpx.AsyncClient,
    root: dict[str, str],
    params: dict[str, str],
    keep: Callable[[StoredEvent], bool],
) -> None:
    expected = ids_of(seeded, keep)
    assert expected, "the filter must keep something to prove anything"
    assert len(expected) < len(seeded)
    assert ids(await list_all(client, root, **params)) == expected


async def test_since_is_inclusive_and_until_exclusive(
    seeded: list[StoredEvent], client: httpx.AsyncClient, root: dict[str, str]
) -> None:
    # Each append has its own recorded_at; cut between the third and the fourth stream.
    cut = next(e.recorded_at for e in seeded if e.stream_id == "site-beta-shop")
    after = await list_all(client, root, since=cut.isoformat())
    before = await list_all(client, root, until=cut.isoformat())
    assert ids(after) == ids_of(seeded, lambda e: e.recorded_at >= cut)
    assert ids(before) == ids_of(seeded, lambda e: e.recorded_at < cut)
    assert ids(before) + ids(after) == ids_of(seeded, lambda e: True)
    # A timestamp without an offset is UTC.
    naive = cut.replace(tzinfo=None).isoformat()
    assert ids(await list_all(client, root, since=naive)) == ids(after)
    window = await list_all(client, root, since=cut.isoformat(), until=cut.isoformat())
    assert window == []
    later = (cut + timedelta(microseconds=1)).isoformat()
    assert ids(await list_all(client, root, since=cut.isoformat(), until=later)) == ids_of(
        seeded, lambda e: e.recorded_at == cut
    )


@pytest.mark.parametrize(("limit", "sizes"), [(100, [100, 100, 50]), (125, [125, 125, 0])])
async def test_keyset_pages_return_every_event_once_in_commit_order(
    store: EventStore,
    client: httpx.AsyncClient,
    root: dict[str, str],
    limit: int,
    sizes: list[int],
) -> None:
    for batch in range(25):
        await store.append(f"bulk-{batch % 5}", None, new_events(10), stream_type="bulk")
    log = await store.read_all(limit=1000)
    assert len(log) == 250
    seen: list[dict[str, Any]] = []
    page_sizes = []
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/events", params=params, headers=root)).json()
        seen.extend(page["items"])
        page_sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if len(page["items"]) < limit:
            break
    assert page_sizes == sizes
    assert ids(seen) == [str(event.event_id) for event in log]
    assert [(r["transaction_id"], r["position"]) for r in seen] == [
        (e.transaction_id, e.position) for e in log
    ]


async def test_a_late_commit_is_read_after_the_cursor_never_skipped(
    seeded: list[StoredEvent],
    store: EventStore,
    pool: asyncpg.Pool,
    client: httpx.AsyncClient,
    root: dict[str, str],
) -> None:
    async with pool.acquire() as conn:
        late = conn.transaction()
        await late.start()
        # Takes a position now, commits only after a later transaction has committed.
        await conn.execute(
            "INSERT INTO events (event_id, stream_id, stream_type, stream_version, site_id, type,"
            " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
            " VALUES (gen_random_uuid(), 'late-1', 't', 1, 'acme-shop', 'Late', 1, '{}', '{}',"
            " now(), now(), decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))"
        )
        early = await store.append("early-1", 0, new_events(1), stream_type="t")
        first_pass = await list_all(client, root, limit=3)
        # The early commit sits above the open transaction: held back, so nothing is passed over.
        assert ids(first_pass) == ids_of(seeded, lambda e: True)
        await late.commit()
    last = first_pass[-1]
    resume = feed_cursor(GlobalPosition(last["transaction_id"], last["position"]))
    response = await client.get("/v1/events", params={"cursor": resume}, headers=root)
    rest = response.json()["items"]
    assert [r["stream_id"] for r in rest] == ["late-1", "early-1"]
    assert rest[0]["position"] < early.position


async def test_the_last_page_gives_a_cursor_a_tailing_reader_continues_from(
    seeded: list[StoredEvent], store: EventStore, client: httpx.AsyncClient, root: dict[str, str]
) -> None:
    read = await list_all(client, root, limit=4)
    assert ids(read) == ids_of(seeded, lambda e: True)
    last = (await client.get("/v1/events", params={"limit": 200}, headers=root)).json()
    assert (len(last["items"]), last["limit"]) == (len(seeded), 200)
    at_end = last["next_cursor"]
    caught_up = await client.get("/v1/events", params={"cursor": at_end}, headers=root)
    assert caught_up.json() == {"items": [], "next_cursor": at_end, "limit": 50}
    later = await store.append("later-1", 0, new_events(2), stream_type="t")
    tail = await client.get("/v1/events", params={"cursor": at_end}, headers=root)
    assert [r["position"] for r in tail.json()["items"]] == later.positions
    assert tail.json()["next_cursor"] != at_end


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not a cursor!"},
        {"cursor": ""},
        {"cursor": _b64("hello")},
        {"cursor": _b64("1.2.3")},
        {"cursor": _b64("-1.5")},
        {"cursor": _b64("1.99999999999999999999")},
        {"cursor": "x" * 65},
        {"limit": "0"},
        {"limit": "201"},
        {"cursor": _b64("1.2")},
        {"limit": "many"},
        {"since": "yesterday"},
        {"site": "acme-shop"},
    ],
)
async def test_malformed_query_is_422(
    seeded: list[StoredEvent], client: httpx.AsyncClient, root: dict[str, str], params: Any
) -> None:
    response = await client.get("/v1/events", params=params, headers=root)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert '"input"' not in response.text


async def test_agency_lead_sees_its_agencys_sites_only(
    seeded: list[StoredEvent], client: httpx.AsyncClient, token: TokenFactory
) -> None:
    lead = bearer(token(sub="lena", roles=("agency_lead",), sites=(), agency=NORTHWIND))
    assert ids(await list_all(client, lead)) == ids_of(seeded, lambda e: e.agency_id == NORTHWIND)
    assert await list_all(client, lead, site_id="gamma-shop") == []
    assert await list_all(client, lead, agency_id=OTHER) == []
    assert await list_all(client, lead, actor="bob", type="RunApproved") == []


async def test_site_scoped_editor_sees_only_its_sites(
    seeded: list[StoredEvent], client: httpx.AsyncClient, token: TokenFactory
) -> None:
    editor = bearer(token(sub="ed", roles=("editor",), sites=("acme-shop",), agency=NORTHWIND))
    mine = ids_of(seeded, lambda e: e.site_id == "acme-shop")
    assert ids(await list_all(client, editor)) == mine
    assert ids(await list_all(client, editor, agency_id=NORTHWIND)) == mine
    assert await list_all(client, editor, site_id="beta-shop") == []


async def test_stream_events_in_version_order_up_to_a_version_or_time(
    seeded: list[StoredEvent], client: httpx.AsyncClient, token: TokenFactory
) -> None:
    editor = bearer(token(sub="ed", roles=("editor",), sites=("acme-shop",)))
    whole = await client.get("/v1/streams/run-acme-1/events", headers=editor)
    assert whole.status_code == 200, whole.text
    records = whole.json()["items"]
    assert [(r["stream_version"], r["type"]) for r in records] == [
        (1, "RunRequested"),
        (2, "RunApproved"),
    ]
    assert records == [e.export_record() for e in seeded if e.stream_id == "run-acme-1"]
    first = await client.get(
        "/v1/streams/run-acme-1/events", params={"to_version": 1}, headers=editor
    )
    assert [r["stream_version"] for r in first.json()["items"]] == [1]
    before = seeded[0].recorded_at - timedelta(seconds=1)
    empty = await client.get(
        "/v1/streams/run-acme-1/events", params={"as_of": before.isoformat()}, headers=editor
    )
    assert empty.status_code == 404


async def test_another_tenants_stream_is_404_like_an_unknown_one(
    seeded: list[StoredEvent], client: httpx.AsyncClient, token: TokenFactory
) -> None:
    editor = bearer(token(sub="ed", roles=("editor",), sites=("acme-shop",), agency=NORTHWIND))
    foreign = await client.get("/v1/streams/run-gamma-1/events", headers=editor)
    unknown = await client.get("/v1/streams/run-nowhere/events", headers=editor)
    agency_level = await client.get("/v1/streams/playbook-northwind/events", headers=editor)
    for response in (foreign, unknown, agency_level):
        assert response.status_code == 404
        assert response.json()["detail"] == "stream not found"
