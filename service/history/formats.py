"""The export file formats: NDJSON (one export record a line) and CSV (one row an event)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from events.envelope import StoredEvent
from service.history.schemas import ExportFormat

MEDIA_TYPES = {
    ExportFormat.NDJSON: "application/x-ndjson",
    ExportFormat.CSV: "text/csv",  # Starlette adds "; charset=utf-8" to text types
}

CSV_COLUMNS = (
    "position",
    "transaction_id",
    "event_id",
    "stream_id",
    "stream_type",
    "stream_version",
    "site_id",
    "agency_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "occurred_at",
    "recorded_at",
    "prev_hash",
    "hash",
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ndjson(events: list[StoredEvent]) -> bytes:
    return ndjson_records([event.export_record() for event in events])


def ndjson_records(records: list[dict[str, Any]]) -> bytes:
    lines = [_json(record) for record in records]
    lines.append("")  # the last record ends with a newline too
    return "\n".join(lines).encode()


def _csv_text(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # RFC 4180: quoted as needed, CRLF line ends
    return buffer.getvalue().encode()


def csv_rows(events: list[StoredEvent]) -> bytes:
    rows = []
    for event in events:
        record = event.export_record()
        record["data"], record["metadata"] = _json(record["data"]), _json(record["metadata"])
        rows.append(["" if record[column] is None else record[column] for column in CSV_COLUMNS])
    return _csv_text(rows)


async def encode(
    chunks: AsyncIterator[list[StoredEvent]], fmt: ExportFormat
) -> AsyncIterator[bytes]:
    """The export body, a chunk of events at a time (never the whole log in memory)."""
    if fmt is ExportFormat.CSV:
        yield _csv_text([list(CSV_COLUMNS)])
    write = csv_rows if fmt is ExportFormat.CSV else ndjson
    async for events in chunks:
        yield write(events)
