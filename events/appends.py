"""What an append takes and gives back: positions, stream appends, results, idempotency claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from events.envelope import NewEvent, chain_hash, envelope_fields


@dataclass(frozen=True, order=True)
class GlobalPosition:
    """A place in the commit-safe order of the whole log."""

    transaction_id: int
    position: int

    def __str__(self) -> str:
        return f"{self.transaction_id}.{self.position}"

    @classmethod
    def parse(cls, text: str) -> GlobalPosition:
        tx, _, pos = text.partition(".")
        return cls(int(tx), int(pos))


START = GlobalPosition(0, 0)


@dataclass(frozen=True)
class StreamAppend:
    stream_id: str
    stream_type: str
    expected_version: int | None
    """The version the caller read; 0 means "the stream must not exist"; None skips the check."""
    events: Sequence[NewEvent]
    site_id: str | None = None
    agency_id: str | None = None
    head_hash: bytes | None = None
    """The hash of the event at expected_version, as the caller read it: saves a round trip."""


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    stream_version: int
    event_ids: list[UUID]
    positions: list[int]
    transaction_id: int
    head_hash: bytes
    """The hash of the stream's last event: the next append's head_hash."""
    request: StreamAppend
    """What was appended, so work in the same transaction need not read it back."""
    recorded_at: datetime

    @property
    def position(self) -> int:
        return self.positions[-1] if self.positions else 0

    @property
    def global_position(self) -> GlobalPosition:
        return GlobalPosition(self.transaction_id, self.position)


@dataclass(frozen=True)
class IdempotencyClaim:
    """Stored with the events in one transaction: a retried request gets the same answer."""

    scope: str
    key: str
    request_hash: bytes
    status_code: int
    respond: Callable[[list[AppendResult]], dict[str, Any]] = field(compare=False)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


TransactionHook = Callable[[asyncpg.Connection, list["AppendResult"]], Awaitable[None]]
"""Work that must commit or roll back with the events (a side table, an inline read model).
It runs in a batch's transaction, beside other commands' work; when the batch goes a second
time (events/batch_write.py) it runs again, so it must do nothing outside the transaction."""


class IdempotencyRace(Exception):
    """Another request with the same key committed first; look its response up."""


class StreamClash(Exception):
    """The stream is not at the version the append was built on; the store turns this into a
    VersionConflict once the connection is back in the pool."""

    def __init__(self, stream_id: str, expected: int | None) -> None:
        super().__init__(stream_id)
        self.stream_id = stream_id
        self.expected = expected


EventRow = tuple[UUID, int, str, int, str, str, datetime, bytes, bytes, bytes | None]
"""event_id, stream_version, type, schema_version, data, metadata, occurred_at, prev_hash, hash,
signature: the per-event columns of an insert, with data and metadata as JSON text. The
signature is None: the batch signs its events' hashes at once (events/commit_signing.py)."""

EVENT_ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "uuid"),
    ("stream_version", "int"),
    ("type", "text"),
    ("schema_version", "int"),
    ("data", "jsonb"),
    ("metadata", "jsonb"),
    ("occurred_at", "timestamptz"),
    ("prev_hash", "bytea"),
    ("hash", "bytea"),
    ("signature", "bytea"),
)
"""EventRow's fields as `events` columns with their SQL types, in order: the insert statement is
built from this, so a new per-event column is added here, in EventRow and in chained_rows."""


def chained_rows(
    item: StreamAppend, version: int, prev: bytes, recorded_at: datetime
) -> tuple[list[EventRow], bytes]:
    """The rows of `item` placed after `version` (whose hash is `prev`), and the new head hash."""
    rows: list[EventRow] = []
    for offset, event in enumerate(item.events, start=1):
        envelope = envelope_fields(
            event_id=event.event_id,
            stream_id=item.stream_id,
            stream_type=item.stream_type,
            stream_version=version + offset,
            site_id=item.site_id,
            agency_id=item.agency_id,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=event.metadata,
            occurred_at=event.occurred_at,
            recorded_at=recorded_at,
        )
        digest = chain_hash(prev, envelope)
        rows.append(
            (
                event.event_id,
                version + offset,
                event.type,
                event.schema_version,
                # orjson: ~5 times faster than json.dumps; the hash above has already refused
                # what JSON cannot hold (NaN, which orjson would write as null).
                orjson.dumps(event.data).decode(),
                orjson.dumps(event.metadata).decode(),
                event.occurred_at,
                prev,
                digest,
                # No signature of its own: the commit it lands in signs it with the others'
                # (hash_version comes from the column's default, 2).
                None,
            )
        )
        prev = digest
    return rows, prev


def event_columns(rows: Sequence[EventRow]) -> list[list[Any]]:
    """The rows as one list per column, the shape `unnest` takes (one list per entry of
    EVENT_ROW_COLUMNS, even for no rows)."""
    columns: list[list[Any]] = [[] for _ in EVENT_ROW_COLUMNS]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


@dataclass(frozen=True)
class PreparedAppend:
    """One stream's part of a command, hashed onto the version it builds on."""

    item: StreamAppend
    base_version: int
    base_hash: bytes
    rows: list[EventRow]
    head_hash: bytes
    recorded_at: datetime

    @classmethod
    def build(
        cls, item: StreamAppend, version: int, prev: bytes, recorded_at: datetime
    ) -> PreparedAppend:
        rows, head_hash = chained_rows(item, version, prev, recorded_at)
        return cls(item, version, prev, rows, head_hash, recorded_at)

    def result(self, positions: list[int], transaction_id: int) -> AppendResult:
        """What its caller gets once its rows are in, at these positions (in version order)."""
        return AppendResult(
            stream_id=self.item.stream_id,
            stream_version=self.base_version + len(self.item.events),
            event_ids=[event.event_id for event in self.item.events],
            positions=positions,
            transaction_id=transaction_id,
            head_hash=self.head_hash,
            request=self.item,
            recorded_at=self.recorded_at,
        )
