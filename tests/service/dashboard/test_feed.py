"""The activity feed: filters, keyset pages, and the export of exactly the filtered view."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import asyncpg

from service.dashboard import charts, feed
from service.dashboard.rendering import in_words
from tests.conftest import TokenFactory
from tests.service.dashboard.conftest import DEMO_SITES, Person, lead_token


async def test_filters_by_site_actor_type_and_severity(person: Person, token: TokenFactory) -> None:
    await person.sign_in(lead_token(token))
    by_type = (await person.get("/dashboard/activity?type=RunApproved")).text
    assert by_type.count('<th scope="row">RunApproved') == 5
    assert "RunRequested" not in by_type.split("<tbody>")[1]
    by_actor = (await person.get("/dashboard/activity?actor=sam")).text.split("<tbody>")[1]
    assert "KillSwitchEngaged" in by_actor
    assert "RunApproved" not in by_actor
    critical = (await person.get("/dashboard/activity?severity=critical")).text.split("<tbody>")[1]
    assert "KillSwitchEngaged" in critical
    assert "WorkflowPaused" not in critical
    by_site = (await person.get("/dashboard/activity?site=initech-blog")).text.split("<tbody>")[1]
    assert "comment-triage" in by_site
    assert "acme-shop" not in by_site
    future = (await person.get("/dashboard/activity?since=2100-01-01")).text
    assert "Nothing matches these filters" in future


async def test_the_feed_pages_by_keyset(person: Person, token: TokenFactory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(feed, "PAGE", 4)
    await person.sign_in(lead_token(token))
    seen: list[str] = []
    path = "/dashboard/activity?type=RunRequested"
    while path:
        page = (await person.get(path.replace("&amp;", "&"))).text
        rows = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
        seen += [row for row in rows.split("<tr>")[1:]]
        path = (
            page.split('<a href="/dashboard/activity?')[-1].split('"')[0]
            if "Older events" in page
            else ""
        )
        path = f"/dashboard/activity?{path}" if path else ""
    assert len(seen) == 7  # the demo's runs: five and two
    assert len(set(seen)) == 7, "no row twice across pages"
    shown = [row.split('datetime="')[1].split('"')[0] for row in seen]
    assert shown == sorted(shown, reverse=True), "newest first"


async def test_the_feed_shows_the_newest_event_first(
    person: Person, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    await person.sign_in(lead_token(token))
    page = (await person.get("/dashboard/activity")).text
    assert "newest first" in page
    newest = await pool.fetchval(
        "SELECT type FROM events WHERE site_id = ANY($1::text[]) "
        "ORDER BY transaction_id DESC, position DESC LIMIT 1",
        list(DEMO_SITES),
    )
    first_row = page.split("<tbody>")[1].split("</tr>")[0]
    assert f'<th scope="row">{newest}' in first_row


async def test_the_export_is_the_filtered_view(person: Person, token: TokenFactory) -> None:
    await person.sign_in(lead_token(token))
    exported = await person.get("/dashboard/activity/export?type=RunApproved&format=csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="activity.csv"' in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 5
    assert {row["type"] for row in rows} == {"RunApproved"}
    ndjson = await person.get("/dashboard/activity/export?severity=warning&format=ndjson")
    records = [json.loads(line) for line in ndjson.text.splitlines()]
    assert records
    assert {r["type"] for r in records} <= {
        "WorkflowPaused",
        "IncidentOpened",
        "IncidentLinked",
    }


def test_missing_field_paths_read_as_words() -> None:
    assert in_words("prevention_actions[0].owner") == "prevention actions #1: owner"
    assert in_words("root_cause") == "root cause"


def test_a_chart_is_an_svg_image_with_a_text_summary() -> None:
    days = [date(2026, 11, 20), date(2026, 11, 21)]
    svg = charts.bar_chart(
        "Runs", {"succeeded": {days[0]: 3.0}, "failed": {days[1]: 1.0}}, days, "runs"
    )
    assert '<svg viewBox="0 0 560 180" role="img"' in svg
    assert "1 failed, 3 succeeded runs in these days" in svg
    assert "<title>2026-11-20: 3 runs succeeded</title>" in svg
    empty = charts.bar_chart("Runs", {}, days, "runs")
    assert "Nothing recorded in these days." in empty
