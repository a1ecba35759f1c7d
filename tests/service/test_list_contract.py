"""The read contract over the whole route table: every list in one envelope with one cursor
codec and one limit bound, every route refusing undeclared query parameters the same way, and
`as_of` answered where the log can answer it and refused where it cannot.

The routes are walked from service.app.api_routes(), so a list added later is checked too.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute

from service.app import api_routes
from service.cli_demo import AGENCY, Demo
from service.pagination import MAX_LIMIT, Page
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.dashboard.conftest import settled
from tests.support import bearer

# A real object for every path parameter, from the demo agency.
PATH_VALUES = {
    "site_id": "acme-shop",
    "agency_id": AGENCY,
    "workflow_id": "nightly-meta-descriptions",
    "run_id": "2026-11-24-0200",
    "incident_id": "checkout-500s",
    "stream_id": "workflow-nightly-meta-descriptions",
    "playbook_id": "cart-followup",
    "log": AGENCY,
    "name": "site_activity",
    "subscription_id": "northwind-on-call",
}
_PARAM = re.compile(r"\{(\w+)(?::path)?\}")


def url_of(route: APIRoute) -> str:
    return _PARAM.sub(lambda m: PATH_VALUES.get(m[1], "x-" + m[1].replace("_", "-")), route.path)


def gets() -> list[APIRoute]:
    return [route for route in api_routes() if "GET" in route.methods]


def is_list(route: APIRoute) -> bool:
    model = route.response_model
    return isinstance(model, type) and issubclass(model, Page)


LISTS = [route for route in gets() if is_list(route)]
BOARDS = [
    "list-site-workflows",
    "list-pending-approvals",
    "list-site-incidents",
    "list-agency-incidents",
    "list-prevention-actions",
    "list-agency-activity",
    "list-agency-playbooks",
    "list-site-playbooks",
    "get-site-activity",
]


@pytest.fixture
async def demo(client: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool) -> Any:
    await Demo(client, settings).fill()
    await settled(pool)
    return client


@pytest.fixture
def root(token: TokenFactory) -> dict[str, str]:
    return bearer(token(sub="root", roles=("administrator",), sites=("*",)))


def assert_refused(answer: httpx.Response, *, echoes: str = "") -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if echoes:
        assert echoes not in answer.text
    problem: dict[str, Any] = answer.json()
    return problem


def test_every_list_operation_answers_a_page() -> None:
    listed = {route.operation_id for route in LISTS}
    named = {route.operation_id for route in gets() if route.operation_id.startswith("list-")}
    assert named <= listed, named - listed
    # The formerly unpaginated ones, and the timeline, are lists like the others.
    assert {"list-stream-events", "list-site-keys", "get-incident-timeline"} <= listed
    assert len(LISTS) == 17


async def test_every_list_has_the_one_envelope_and_its_cursor_continues(
    demo: httpx.AsyncClient, root: dict[str, str]
) -> None:
    for route in LISTS:
        await envelope_and_pages(demo, root, route)


async def envelope_and_pages(
    demo: httpx.AsyncClient, root: dict[str, str], route: APIRoute
) -> None:
    url = url_of(route)
    first = await demo.get(url, params={"limit": 1}, headers=root)
    assert first.status_code == 200, first.text
    page = first.json()
    assert set(page) == {"items", "next_cursor", "limit"}
    assert page["limit"] == 1
    assert len(page["items"]) <= 1
    default = (await demo.get(url, headers=root)).json()
    assert default["limit"] == 50
    whole = (await demo.get(url, params={"limit": MAX_LIMIT}, headers=root)).json()
    seen, cursor = list(page["items"]), page["next_cursor"]
    while cursor is not None and len(seen) <= len(whole["items"]):
        following = await demo.get(url, params={"limit": 1, "cursor": cursor}, headers=root)
        assert following.status_code == 200, following.text
        seen += following.json()["items"]
        cursor = following.json()["next_cursor"]
        if route.operation_id == "list-events" and not following.json()["items"]:
            break  # the feed's last page gives a cursor too
    assert seen == whole["items"], "pages of one, followed, are the whole list once, in order"


async def test_a_cursor_that_is_not_this_lists_is_422_without_echo(
    demo: httpx.AsyncClient, root: dict[str, str]
) -> None:
    events = (await demo.get("/v1/events", params={"limit": 1}, headers=root)).json()
    for route in LISTS:
        await garbage_refused(demo, root, route, events["next_cursor"])


async def garbage_refused(
    demo: httpx.AsyncClient, root: dict[str, str], route: APIRoute, real: str
) -> None:
    url = url_of(route)
    tampered = real[:-2] + ("AA" if real[-2:] != "AA" else "BB")
    garbage = [
        "secret cursor value!",
        "c2VjcmV0LWN1cnNvcg",  # base64url, but not ours
        base64.urlsafe_b64encode(b"\x00" * 8 + b'{"position":1}').decode().rstrip("="),
        tampered,
        "x" * 8193,
    ]
    if route.operation_id != "list-events":
        garbage.append(real)  # the event feed's cursor, on another list
    for cursor in garbage:
        answer = await demo.get(url, params={"cursor": cursor}, headers=root)
        assert_refused(answer, echoes=cursor)
    for limit in ("0", str(MAX_LIMIT + 1), "many"):
        assert_refused(await demo.get(url, params={"limit": limit}, headers=root))


async def test_every_get_refuses_an_unknown_query_parameter(
    client: httpx.AsyncClient, root: dict[str, str]
) -> None:
    # Refused before anything else is read: no object needs to exist.
    for route in gets():
        answer = await client.get(url_of(route), params={"limt": "5"}, headers=root)
        assert_unknown(answer, route.operation_id)


def assert_unknown(answer: httpx.Response, operation_id: str) -> None:
    assert answer.status_code == 422, (operation_id, answer.text)
    problem = assert_refused(answer)
    assert problem["errors"] == [
        {
            "loc": ["query", "limt"],
            "msg": "This operation takes no such query parameter.",
            "type": "extra_forbidden",
        }
    ]


async def test_a_command_refuses_an_unknown_query_parameter_and_appends_nothing(
    demo: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    ops = bearer(token(sub="omar", roles=("operations_lead",), sites=("acme-shop",)))
    before = await pool.fetchval("SELECT count(*) FROM events")
    path = "/v1/workflows/nightly-meta-descriptions/runs/2026-11-24-0200/approve"
    answer = await demo.post(path, params={"dry_run": "1"}, headers=ops)
    assert assert_refused(answer)["errors"][0]["type"] == "extra_forbidden"
    assert await pool.fetchval("SELECT count(*) FROM events") == before


async def test_as_of_on_a_board_is_422_saying_why(
    demo: httpx.AsyncClient, root: dict[str, str]
) -> None:
    boards = [route for route in gets() if route.operation_id in BOARDS]
    assert len(boards) == len(BOARDS)
    for route in boards:
        moment = {"as_of": "2026-11-22T00:00:00Z"}
        answer = await demo.get(url_of(route), params=moment, headers=root)
        (error,) = assert_refused(answer)["errors"]
        assert error["loc"] == ["query", "as_of"], route.operation_id
        assert "cannot be answered as of a time" in error["msg"]


async def test_explain_answers_as_of_a_time_from_the_log(
    demo: httpx.AsyncClient, root: dict[str, str], pool: asyncpg.Pool
) -> None:
    path = "/v1/workflows/nightly-meta-descriptions/explain"
    now = (await demo.get(path, headers=root)).json()
    assert now["last_run"]["run_id"] == "2026-11-24-0200"
    # Just after the third run's request: that run is the last, with no approval yet.
    requested = await pool.fetchval(
        "SELECT recorded_at FROM events WHERE type = 'RunRequested' "
        "AND data->>'run_id' = '2026-11-22-0200' AND data->>'workflow_id' = $1",
        "nightly-meta-descriptions",
    )
    then = await demo.get(path, params={"as_of": requested.isoformat()}, headers=root)
    assert then.status_code == 200, then.text
    explained = then.json()
    assert explained["last_run"]["run_id"] == "2026-11-22-0200"
    assert explained["last_run"]["approvals"] == []
    assert explained["last_run"]["outcome"] is None
    cited = await pool.fetch("SELECT event_id::text FROM events WHERE recorded_at > $1", requested)
    later = {row["event_id"] for row in cited}
    assert not later & {e["event_id"] for e in explained["evidence"]}, "nothing from after"
    runs = await demo.get(
        "/v1/workflows/nightly-meta-descriptions/runs",
        params={"as_of": requested.isoformat()},
        headers=root,
    )
    assert [run["run_id"] for run in runs.json()["items"]] == [
        "2026-11-20-0200",
        "2026-11-21-0200",
        "2026-11-22-0200",
    ]
    registered = await pool.fetchval(
        "SELECT min(recorded_at) FROM events WHERE stream_id = 'workflow-nightly-meta-descriptions'"
    )
    before = (registered - timedelta(microseconds=1)).isoformat()
    unknown = await demo.get(path, params={"as_of": before}, headers=root)
    assert unknown.status_code == 404
