"""History exports: NDJSON and CSV hold exactly the filtered events of the caller's tenancy, and
every record recomputes its hash."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from events.envelope import StoredEvent, chain_hash
from events.integrity import verify_stream
from tests.conftest import TokenFactory
from tests.service.history_log import (
    NORTHWIND,
    ids,
    ids_of,
)
from tests.support import bearer


def parse_ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def parse_csv(text: str) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        row["data"], row["metadata"] = json.loads(row["data"]), json.loads(row["metadata"])
        for column in ("site_id", "agency_id"):
            row[column] = row[column] or None
    return rows


def as_stored(record: dict[str, Any]) -> StoredEvent:
    hashes = {
        "prev_hash": bytes.fromhex(record["prev_hash"]),
        "hash": bytes.fromhex(record["hash"]),
    }
    return StoredEvent.model_validate({**record, **hashes})


def assert_hashes_recompute(records: list[dict[str, Any]]) -> dict[str, list[StoredEvent]]:
    """Every record's own hash; returns the records as events, per stream, in version order."""
    streams: dict[str, list[StoredEvent]] = defaultdict(list)
    for record in records:
        event = as_stored(record)
        assert chain_hash(event.prev_hash, event.envelope()) == event.hash
        streams[event.stream_id].append(event)
    return {stream: sorted(evs, key=lambda e: e.stream_version) for stream, evs in streams.items()}


@pytest.mark.parametrize(
    ("fmt", "parse", "media"),
    [("ndjson", parse_ndjson, "application/x-ndjson"), ("csv", parse_csv, "text/csv")],
)
async def test_export_holds_exactly_the_filtered_events_and_every_hash_recomputes(
    seeded: list[StoredEvent],
    client: httpx.AsyncClient,
    root: dict[str, str],
    fmt: str,
    parse: Callable[[str], list[dict[str, Any]]],
    media: str,
) -> None:
    async def export(**params: str) -> list[dict[str, Any]]:
        response = await client.get(
            "/v1/events/export", params={**params, "format": fmt}, headers=root
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        return parse(response.text)

    whole = await export(agency_id=NORTHWIND)
    assert ids(whole) == ids_of(seeded, lambda e: e.agency_id == NORTHWIND)
    streams = assert_hashes_recompute(whole)
    breaks = [verify_stream(events) for events in streams.values()]
    assert breaks == [None] * len(streams), breaks
    tampered = as_stored({**whole[0], "data": {"stream": "rewritten"}})
    assert verify_stream([tampered]) is not None
    only_approvals = await export(type="RunApproved")
    assert ids(only_approvals) == ids_of(seeded, lambda e: e.type == "RunApproved")
    assert_hashes_recompute(only_approvals)


async def test_csv_export_has_the_documented_columns_even_when_empty(
    client: httpx.AsyncClient, root: dict[str, str]
) -> None:
    response = await client.get("/v1/events/export", params={"format": "csv"}, headers=root)
    assert response.text == (
        "position,transaction_id,event_id,stream_id,stream_type,stream_version,site_id,"
        "agency_id,type,schema_version,data,metadata,occurred_at,recorded_at,prev_hash,hash\r\n"
    )
    assert (await client.get("/v1/events/export", headers=root)).text == ""


async def test_an_auditor_exports_its_agency_only(
    seeded: list[StoredEvent], client: httpx.AsyncClient, token: TokenFactory
) -> None:
    auditor = bearer(token(sub="audra", roles=("auditor",), sites=(), agency=NORTHWIND))
    records = parse_ndjson((await client.get("/v1/events/export", headers=auditor)).text)
    assert ids(records) == ids_of(seeded, lambda e: e.agency_id == NORTHWIND)
    editor = bearer(token(sub="ed", roles=("editor",), sites=("acme-shop",)))
    assert (await client.get("/v1/events/export", headers=editor)).status_code == 403
