"""The incident boards and the prevention actions over HTTP, against real Postgres: order by
severity then age, status filters and pages, overdue actions first, and tenant scoping."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from events.store import EventStore
from service.clock import Clock
from tests.conftest import TokenFactory
from tests.projections.test_incident_read_models import AGENCY, IncidentLog
from tests.support import bearer, site_body

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
"""The app's clock in these tests (pinned), and what the fixtures' ages count from."""
PAST, FUTURE = date(2020, 1, 1), date(2999, 1, 1)


class Reader:
    def __init__(self, client: httpx.AsyncClient, token: TokenFactory, log: IncidentLog) -> None:
        self.client, self.token, self.log = client, token, log

    def headers(self, role: str = "editor", sites: tuple[str, ...] = ("acme-shop",)) -> Any:
        agency = "other-agency" if sites == ("other-shop",) else AGENCY
        return bearer(self.token(sub="reader", roles=(role,), sites=sites, agency=agency))

    async def get(self, path: str, headers: Any = None, status: int = 200) -> Any:
        sep = "&" if "?" in path else "?"
        read = await self.client.get(
            f"{path}{sep}min_position={self.log.position}", headers=headers or self.headers()
        )
        assert read.status_code == status, read.text
        return read.json()

    async def refused(self, path: str, headers: Any = None) -> str:
        """The 422 problem a malformed query parameter gets, as text."""
        read = await self.client.get(path, headers=headers or self.headers())
        assert read.status_code == 422, read.text
        assert read.headers["content-type"] == "application/problem+json"
        assert read.json()["status"] == 422
        return read.text

    async def board(self, path: str, headers: Any = None) -> list[str]:
        return [card["incident_id"] for card in (await self.get(path, headers))["items"]]

    async def owners(self, query: str = "", headers: Any = None) -> dict[str, list[str]]:
        found = await self.get(f"/v1/prevention-actions{query}", headers)
        return {g["owner"]: [a["action_id"] for a in g["actions"]] for g in found["items"]}


@pytest.fixture
def clock() -> Clock:
    """Pinned: ages and overdue are measured from NOW, however long the suite takes."""
    return Clock(NOW)


@pytest.fixture
async def reader(client: httpx.AsyncClient, token: TokenFactory, store: EventStore) -> Reader:
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    for site, agency in (
        ("acme-shop", AGENCY),
        ("beta-shop", AGENCY),
        ("other-shop", "other-agency"),
    ):
        created = await client.post(
            "/v1/sites", json=site_body(site, agency_id=agency), headers=platform
        )
        assert created.status_code == 201, created.text
    log = IncidentLog(store)
    hours = timedelta(hours=1)
    await log.open("low-old", "low", NOW - 30 * hours)
    await log.open("high-new", "high", NOW - 2 * hours)
    await log.open("critical-new", "critical", NOW - 1 * hours)
    await log.open("high-old", "high", NOW - 5 * hours)
    await log.open("medium-closed", "medium", NOW - 9 * hours)
    await log.open("beta-critical", "critical", NOW - 3 * hours, site="beta-shop")
    await log.open(
        "foreign", "critical", NOW - 50 * hours, site="other-shop", agency="other-agency"
    )
    return Reader(client, token, log)


async def test_the_site_board_orders_by_severity_then_age(reader: Reader) -> None:
    await reader.log.add_action("high-old", "a1", "devon", FUTURE)
    await reader.log.add_action("medium-closed", "m1", "devon", FUTURE)
    await reader.log.complete("medium-closed", "m1")
    await reader.log.close("medium-closed")
    board = await reader.get("/v1/sites/acme-shop/incidents")
    assert (board["limit"], board["next_cursor"]) == (50, None)
    ids = [card["incident_id"] for card in board["items"]]
    assert ids == ["critical-new", "high-old", "high-new", "low-old"]
    card = board["items"][1]
    assert (card["severity"], card["status"], card["summary"]) == (
        "high",
        "open",
        "high-old summary",
    )
    assert (card["prevention_actions_open"], card["prevention_actions_total"]) == (1, 1)
    # The age is the app's clock (pinned at NOW) minus the failure, to the second.
    assert card["age_seconds"] == 5 * 3600

    closed = await reader.board("/v1/sites/acme-shop/incidents?status=closed")
    assert closed == ["medium-closed"]
    every = await reader.board("/v1/sites/acme-shop/incidents?status=all")
    assert every == ["critical-new", "high-old", "high-new", "medium-closed", "low-old"]
    await reader.log.reopen("medium-closed")
    assert "medium-closed" in await reader.board("/v1/sites/acme-shop/incidents")


async def test_the_board_pages_by_cursor(reader: Reader) -> None:
    first = await reader.get("/v1/sites/acme-shop/incidents?status=all&limit=2")
    assert [c["incident_id"] for c in first["items"]] == ["critical-new", "high-old"]
    seen, cursor = [], first["next_cursor"]
    while cursor:
        page = await reader.get(f"/v1/sites/acme-shop/incidents?status=all&limit=2&cursor={cursor}")
        seen += [c["incident_id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["high-new", "medium-closed", "low-old"]
    await reader.get("/v1/sites/acme-shop/incidents?cursor=not-a-cursor", status=422)


async def test_another_tenants_incidents_are_invisible(reader: Reader) -> None:
    stranger = reader.headers("administrator", ("other-shop",))
    await reader.get("/v1/sites/acme-shop/incidents", stranger, status=404)
    assert await reader.board("/v1/sites/other-shop/incidents", stranger) == ["foreign"]
    await reader.get("/v1/sites/other-shop/incidents", status=404)
    await reader.get(f"/v1/agencies/{AGENCY}/incidents", stranger, status=404)
    await reader.log.add_action("foreign", "f1", "devon", PAST)
    await reader.log.add_action("high-old", "a1", "devon", PAST)
    assert await reader.owners(headers=stranger) == {"devon": ["f1"]}
    assert await reader.owners("?site_id=acme-shop", stranger) == {}
    assert await reader.owners() == {"devon": ["a1"]}


async def test_the_agency_board_spans_the_sites_the_caller_sees(reader: Reader) -> None:
    lead = reader.headers("agency_lead", ())
    found = await reader.get(f"/v1/agencies/{AGENCY}/incidents", lead)
    assert [c["incident_id"] for c in found["items"]] == [
        "beta-critical",
        "critical-new",
        "high-old",
        "high-new",
        "medium-closed",
        "low-old",
    ]
    assert {c["site_id"] for c in found["items"]} == {"acme-shop", "beta-shop"}
    editor = reader.headers("editor", ("beta-shop",))
    assert await reader.board(f"/v1/agencies/{AGENCY}/incidents", editor) == ["beta-critical"]


async def test_prevention_actions_by_owner_overdue_first(reader: Reader) -> None:
    log = reader.log
    await log.add_action("low-old", "later", "devon", FUTURE)
    await log.add_action("high-new", "soon", "devon", FUTURE - timedelta(days=30))
    await log.add_action("low-old", "late", "devon", PAST + timedelta(days=3))
    await log.add_action("beta-critical", "very-late", "devon", PAST)
    await log.add_action("high-old", "olgas", "olga", PAST)
    await log.add_action("high-old", "done", "olga", PAST)
    await log.complete("high-old", "done", by="olga")
    everyone = reader.headers("agency_lead", ())
    found = await reader.get("/v1/prevention-actions", everyone)
    (devon, olga) = found["items"]
    assert devon["owner"] == "devon"
    assert [(a["action_id"], a["overdue"]) for a in devon["actions"]] == [
        ("very-late", True),
        ("late", True),
        ("soon", False),
        ("later", False),
    ]
    assert devon["actions"][0]["incident_severity"] == "critical"
    assert devon["actions"][0]["site_id"] == "beta-shop"
    assert [a["action_id"] for a in olga["actions"]] == ["olgas"]

    with_done = await reader.owners("?include_completed=true&owner=olga", everyone)
    assert with_done == {"olga": ["olgas", "done"]}, "a completed action is never overdue"
    assert await reader.owners("?owner=devon&site_id=beta-shop", everyone) == {
        "devon": ["very-late"]
    }
    assert await reader.owners() == {"devon": ["late", "soon", "later"], "olga": ["olgas"]}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_prevention_actions_page_by_owner(reader: Reader) -> None:
    log = reader.log
    # Owners that a cursor must carry whole: dots, slashes, "=", spaces and non-ASCII.
    owners = ["devon", "olga", "zoë.ops/2=3", "ops lead", "Ops+Lead@acme.example", "ümit"]
    for n, owner in enumerate(owners):
        await log.add_action("high-old", f"late-{n}", owner, PAST)
        await log.add_action("low-old", f"later-{n}", owner, FUTURE)
    await log.add_action("beta-critical", "very-late-0", "devon", PAST - timedelta(days=1))
    everyone = reader.headers("agency_lead", ())
    whole = await reader.get("/v1/prevention-actions?limit=200", everyone)
    assert whole["next_cursor"] is None
    assert sorted(group["owner"] for group in whole["items"]) == sorted(owners)

    for limit in (1, 2, 4, 6):
        groups, cursor, pages = [], "", 0
        while True:
            query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            page = await reader.get(f"/v1/prevention-actions{query}", everyone)
            assert len(page["items"]) <= limit
            groups += page["items"]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert groups == whole["items"], "every owner once, in order, with all of its actions"
        assert pages == -(-len(owners) // limit), "no empty page after a full last one"

    devon = await reader.get("/v1/prevention-actions?owner=devon&limit=1", everyone)
    assert [a["action_id"] for a in devon["items"][0]["actions"]] == [
        "very-late-0",
        "late-0",
        "later-0",
    ], "a page holds all of an owner's actions, overdue first"
    assert devon["next_cursor"] is None, "one owner: no page after it"
    assert (await reader.get("/v1/prevention-actions", everyone))["next_cursor"] is None


async def test_a_malformed_prevention_actions_cursor_is_refused_without_echo(
    reader: Reader,
) -> None:
    for cursor in (
        "secret cursor value!",  # not base64url
        "c2VjcmV0LWN1cnNvci12YWx1ZQ=",  # padded
        b64(b"\xffsecret-cursor-value"),  # not UTF-8
        b64(b"secret-cursor\x00value"),  # NUL, which Postgres text cannot hold
        "c2VjcmV0LWN1cnNvci12YWx1ZR",  # "secret-cursor-value", but not as we encode it
        "c" + "2" * 1068,  # longer than any owner's cursor
    ):
        text = await reader.refused(f"/v1/prevention-actions?cursor={cursor}")
        assert cursor not in text
        assert "secret" not in text
    await reader.refused("/v1/prevention-actions?limit=0")
    await reader.refused("/v1/prevention-actions?limit=201")
