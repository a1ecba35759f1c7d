"""The incident board and the prevention actions read models, fed incident events appended
straight to the store against real Postgres: their rows after each step of an incident's life,
events of other streams ignored, and rebuilds equal to live however the log was batched."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain.incident_events import (
    EscalationDecided,
    EvidenceRecorded,
    IncidentClosed,
    IncidentFacts,
    IncidentOpened,
    IncidentReopened,
    IncidentSeverity,
    LinkedWork,
    PreventionActionAdded,
    PreventionActionCompleted,
)
from events.store import EventStore
from projections import generations
from projections.base import Projection, Tables
from projections.incident_board import IncidentBoard
from projections.prevention_actions import PreventionActions
from projections.rebuild import rebuild
from projections.runner import Runner
from tests.projections.history import write_history
from tests.projections.test_runner import live_generation

BOARD, ACTIONS = IncidentBoard(), PreventionActions()
AGENCY = "northwind-agency"
FAILED_AT = datetime(2026, 11, 22, 1, 58, tzinfo=UTC)


class IncidentLog:
    """Appends incident events to the store as the incident commands do: one stream per
    incident, its tenant fixed by the first append."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.tenants: dict[str, tuple[str, str]] = {}
        self.position = 0

    async def append(self, incident_id: str, *events: Event) -> int:
        site, agency = self.tenants[incident_id]
        result = await self.store.append(
            f"incident-{incident_id}",
            None,
            [CATALOGUE.to_new_event(event, {"actor": "test"}) for event in events],
            stream_type="incident",
            site_id=site,
            agency_id=agency,
        )
        self.position = result.positions[-1]
        return self.position

    async def open(
        self,
        incident_id: str,
        severity: IncidentSeverity = "high",
        occurred_at: datetime = FAILED_AT,
        site: str = "acme-shop",
        agency: str = AGENCY,
    ) -> int:
        self.tenants[incident_id] = (site, agency)
        facts = IncidentFacts(
            severity=severity,
            summary=f"{incident_id} summary",
            occurred_at=occurred_at,
            affected_user="customer 4411",
            affected_screen="checkout",
            sophmate_version="2.4.1",
            wordpress_version="6.6.2",
            php_version="8.2",
            reproduction_steps="pay with a saved card",
        )
        opened = IncidentOpened(
            incident_id=incident_id,
            site_id=site,
            opened_by="erin",
            facts=facts,
            linked=LinkedWork(),
        )
        return await self.append(incident_id, opened)

    async def add_action(
        self, incident_id: str, action_id: str, owner: str, due_on: date, **kw: Any
    ) -> int:
        added = PreventionActionAdded(
            incident_id=incident_id,
            action_id=action_id,
            kind=kw.get("kind", "test"),
            description=f"{action_id} description",
            owner=owner,
            due_on=due_on,
            added_by="sam",
        )
        return await self.append(incident_id, added)

    async def complete(self, incident_id: str, action_id: str, by: str = "devon") -> int:
        done = PreventionActionCompleted(
            incident_id=incident_id, action_id=action_id, completed_by=by
        )
        return await self.append(incident_id, done)

    async def close(self, incident_id: str) -> int:
        closed = IncidentClosed(incident_id=incident_id, closed_by="sam", summary="fixed")
        return await self.append(incident_id, closed)

    async def reopen(self, incident_id: str) -> int:
        reopened = IncidentReopened(incident_id=incident_id, reopened_by="sam", reason="again")
        return await self.append(incident_id, reopened)


async def caught_up(pool: asyncpg.Pool, projection: Projection, batch_size: int = 1) -> Tables:
    """The projection's live tables after a catch-up, one event per batch by default: every
    event then folds into a row the previous batch wrote."""
    live = await generations.live(pool, projection.name) or await live_generation(pool, projection)
    await Runner(pool, projection, batch_size=batch_size).catch_up(live.generation)
    return live.tables


async def rows(pool: asyncpg.Pool, tables: Tables, projection: Projection) -> dict[str, list]:
    """Every table's rows, in key order (each table's key is in its first two columns)."""
    found = {}
    for table in projection.tables:
        records = await pool.fetch(f"SELECT * FROM {tables[table]} ORDER BY 1, 2")
        found[table] = [tuple(record.values()) for record in records]
    return found


async def board_row(pool: asyncpg.Pool, incident_id: str) -> dict[str, Any]:
    tables = await caught_up(pool, BOARD)
    row = await pool.fetchrow(
        f"SELECT * FROM {tables['incidents']} WHERE incident_id = $1", incident_id
    )
    assert row is not None
    return dict(row)


async def action_rows(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    tables = await caught_up(pool, ACTIONS)
    found = await pool.fetch(f"SELECT * FROM {tables['actions']}")
    return {row["action_id"]: dict(row) for row in found}


async def test_the_board_row_follows_the_incident(store: EventStore, pool: asyncpg.Pool) -> None:
    log = IncidentLog(store)
    await log.open("checkout-500s", "critical")
    row = await board_row(pool, "checkout-500s")
    assert (row["site_id"], row["agency_id"], row["severity"], row["summary"]) == (
        "acme-shop",
        AGENCY,
        "critical",
        "checkout-500s summary",
    )
    assert row["occurred_at"] == FAILED_AT
    assert row["opened_at"] > FAILED_AT, "opened is when it was recorded, not when it failed"
    assert (row["status"], row["escalation"], row["actions_open"], row["actions_total"]) == (
        "open",
        None,
        0,
        0,
    )

    decided = EscalationDecided(
        incident_id="checkout-500s", target="provider_support", reason="gateway", decided_by="sam"
    )
    await log.append("checkout-500s", decided)
    await log.add_action("checkout-500s", "pin-plugin", "devon", date(2026, 12, 1))
    await log.add_action("checkout-500s", "smoke-test", "devon", date(2026, 12, 8))
    await log.complete("checkout-500s", "pin-plugin")
    evidence = EvidenceRecorded(
        incident_id="checkout-500s", evidence_id="log-1", recorded_by="erin", content="500"
    )
    last = await log.append("checkout-500s", evidence)
    row = await board_row(pool, "checkout-500s")
    assert (row["escalation"], row["actions_open"], row["actions_total"]) == (
        "provider_support",
        1,
        2,
    )
    assert row["last_position"] == last, "every event of the incident moves its last position"

    await log.complete("checkout-500s", "smoke-test")
    await log.close("checkout-500s")
    row = await board_row(pool, "checkout-500s")
    assert (row["status"], row["actions_open"]) == ("closed", 0)
    last = await log.reopen("checkout-500s")
    row = await board_row(pool, "checkout-500s")
    assert (row["status"], row["last_position"]) == ("open", last)


async def test_prevention_action_rows_carry_the_incidents_severity(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    log = IncidentLog(store)
    await log.open("checkout-500s", "medium")
    await log.open("feed-stale", "low", site="beta-shop")
    await log.add_action("checkout-500s", "pin-plugin", "devon", date(2026, 12, 1))
    assert (await action_rows(pool))["pin-plugin"]["incident_severity"] == "medium"
    # Added in a later batch than its incident's opening: the severity comes from the table.
    await log.add_action("feed-stale", "alert", "olga", date(2026, 12, 2), kind="alert_tuning")
    await log.complete("checkout-500s", "pin-plugin", by="devon")
    actions = await action_rows(pool)
    assert actions["pin-plugin"] == {
        "incident_id": "checkout-500s",
        "action_id": "pin-plugin",
        "site_id": "acme-shop",
        "agency_id": AGENCY,
        "kind": "test",
        "description": "pin-plugin description",
        "owner": "devon",
        "due_on": date(2026, 12, 1),
        "completed": True,
        "completed_by": "devon",
        "incident_severity": "medium",
    }
    assert (actions["alert"]["site_id"], actions["alert"]["kind"]) == ("beta-shop", "alert_tuning")
    assert (actions["alert"]["completed"], actions["alert"]["incident_severity"]) == (False, "low")


async def test_incident_event_types_in_other_streams_are_ignored(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    # The generated history uses every catalogue type, incident ones included, in `gen` streams
    # with payloads that are not incidents.
    await write_history(owner, 2_000)
    for projection in (BOARD, ACTIONS):
        tables = await caught_up(pool, projection, batch_size=300)
        assert all(not found for found in (await rows(pool, tables, projection)).values())
        live = await generations.live(pool, projection.name)
        assert live is not None
        assert live.events_applied == 2_000


async def test_rebuilds_equal_live(
    store: EventStore, pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    log = IncidentLog(store)
    await write_history(owner, 500)
    for n, severity in enumerate(("critical", "high", "medium", "low")):
        incident = f"incident-{n}"
        await log.open(incident, severity, site="acme-shop" if n % 2 else "beta-shop")
        await log.add_action(incident, f"a{n}", "devon", date(2026, 12, 1 + n))
        await log.add_action(incident, f"b{n}", "olga", date(2026, 11, 1 + n))
        await log.complete(incident, f"b{n}", by="olga")
    await log.complete("incident-1", "a1")
    await log.close("incident-1")
    await log.reopen("incident-1")
    await log.close("incident-1")
    for projection in (BOARD, ACTIONS):
        tables = await caught_up(pool, projection, batch_size=3)
        before = await rows(pool, tables, projection)
        rebuilt = await rebuild(pool, projection)
        assert await rows(pool, rebuilt.tables, projection) == before
        assert before[projection.tables[-1]], projection.name
