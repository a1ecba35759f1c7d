"""The event log the history tests read: two agencies, three sites, one agency-level stream,
and the helpers that page through it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from events.envelope import NewEvent, StoredEvent
from events.store import EventStore
from service.settings import Settings
from tests.conftest import APP_ROLE, ScratchDatabase, TokenFactory
from tests.support import bearer

NORTHWIND = "northwind-agency"
OTHER = "other-agency"
# stream id, stream type, site, agency, [(event type, actor)]
STREAMS: list[tuple[str, str, str | None, str, list[tuple[str, str]]]] = [
    ("site-acme-shop", "site", "acme-shop", NORTHWIND, [("SiteRegistered", "alice")]),
    (
        "run-acme-1",
        "run",
        "acme-shop",
        NORTHWIND,
        [("RunRequested", "bob"), ("RunApproved", "carol")],
    ),
    ("site-beta-shop", "site", "beta-shop", NORTHWIND, [("SiteRegistered", "dave")]),
    ("playbook-northwind", "playbook", None, NORTHWIND, [("PlaybookImported", "erin")]),
    ("site-gamma-shop", "site", "gamma-shop", OTHER, [("SiteRegistered", "bob")]),
    ("run-gamma-1", "run", "gamma-shop", OTHER, [("RunRequested", "bob"), ("RunApproved", "bob")]),
    ("run-acme-2", "run", "acme-shop", NORTHWIND, [("RunRequested", "carol")]),
]


def settings_without_projections(database: ScratchDatabase) -> Settings:
    """The app without in-process projection runners: their short write transactions hold the
    commit-safe horizon back at random moments, and these tests count what lies below it."""
    return Settings(
        env="test",
        database_url=database.app_url,
        app_role=APP_ROLE,
        run_projections=False,
        run_sealer=False,
    )


async def seed_log(store: EventStore) -> list[StoredEvent]:
    """The log in commit order: two agencies, three sites, one agency-level stream."""
    for stream_id, stream_type, site, agency, items in STREAMS:
        events = [
            NewEvent(type=kind, data={"stream": stream_id}, metadata={"actor": actor})
            for kind, actor in items
        ]
        await store.append(
            stream_id, 0, events, stream_type=stream_type, site_id=site, agency_id=agency
        )
    return await store.read_all(limit=1000)


def root_headers(token: TokenFactory) -> dict[str, str]:
    """A platform administrator: sees every site."""
    return bearer(token(sub="root", roles=("administrator",), sites=("*",)))


async def list_all(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/events", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["items"])
        # The feed always gives a cursor; a short page is the end of what is committed.
        cursor = page["next_cursor"]
        assert cursor is not None
        if len(page["items"]) < page["limit"]:
            return events


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["event_id"] for record in records]


def ids_of(events: list[StoredEvent], keep: Callable[[StoredEvent], bool]) -> list[str]:
    return [str(event.event_id) for event in events if keep(event)]
