"""What a projection is: a name, a version, the event types it reads, its tables, and a batch
`apply` that writes read-model rows inside the runner's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

SCHEMA = "read_models"

ENVELOPE_COLUMNS = """position, transaction_id::text::bigint AS transaction_id, stream_id,
    stream_type, stream_version, site_id, agency_id, type, schema_version, recorded_at"""
"""What every projection reads, in the order of LogEvent's fields."""
EVENT_COLUMNS = f"{ENVELOPE_COLUMNS}, data::text AS data, metadata::text AS metadata"
"""The envelope and the payload. Turning jsonb into text is much of the server's cost of a
batch, so a projection that does not read the payload says so (`reads_payload`)."""


class PayloadNotRead(RuntimeError):
    """A projection with `reads_payload = False` touched `data` or `metadata`."""


@dataclass(frozen=True, slots=True)
class LogEvent:
    """An event as the runner reads it: a light record. Projections that read payloads get
    them typed through projections/dispatch.py, which decodes only the (stream type, event
    type) pairs a projection handles; envelope-only ones (`reads_payload = False`) never pay
    for a payload.

    `data` and `metadata` are parsed on first use: most projections read only the envelope, and
    parsing every payload was most of a catch-up's time.
    """

    position: int
    transaction_id: int
    stream_id: str
    stream_type: str
    stream_version: int
    site_id: str | None
    agency_id: str | None
    type: str
    schema_version: int
    """The payload's schema: projections/dispatch.py upcasts it through the catalogue."""
    recorded_at: datetime
    data_json: str | None = field(default=None, repr=False)
    metadata_json: str | None = field(default=None, repr=False)
    _data: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _metadata: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def data(self) -> dict[str, Any]:
        parsed = self._data
        if parsed is None:
            parsed = self._parse(self.data_json)
            object.__setattr__(self, "_data", parsed)  # a cache on a frozen record
        return parsed

    @property
    def metadata(self) -> dict[str, Any]:
        parsed = self._metadata
        if parsed is None:
            parsed = self._parse(self.metadata_json)
            object.__setattr__(self, "_metadata", parsed)
        return parsed

    def _parse(self, text: str | None) -> dict[str, Any]:
        if text is None:
            raise PayloadNotRead(
                f"event {self.position} was read without its payload: "
                "set reads_payload = True on the projection"
            )
        parsed: dict[str, Any] = json.loads(text)
        return parsed

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> LogEvent:
        """A row of ENVELOPE_COLUMNS or EVENT_COLUMNS (by position: the columns are in field
        order, and positional unpacking is a good part faster than lookups by name)."""
        return cls(*row)


@dataclass(frozen=True)
class Tables:
    """The physical names of one generation's tables: `read_models.<name>_g<n>_<table>`."""

    projection: str
    generation: int

    def __getitem__(self, table: str) -> str:
        return f'{SCHEMA}."{self.name(table)}"'

    def name(self, table: str) -> str:
        """The table's name within the schema, unquoted."""
        return f"{self.projection}_g{self.generation}_{table}"


class Projection(Protocol):
    name: str
    version: int
    """Bump it when apply or the tables change: the projection then rebuilds itself on start."""
    handles: frozenset[str] | None
    """Event types it reads; None for all. The checkpoint still moves past the others."""
    tables: tuple[str, ...]
    inline: bool
    """Also applied inside each append transaction (see projections/inline.py)."""
    reads_payload: bool
    """Whether `apply` reads `data` or `metadata`; the runner fetches them only if so."""

    def ddl(self, tables: Tables) -> list[str]: ...

    async def apply(
        self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables
    ) -> None: ...


def by_entity(events: list[LogEvent], stream_type: str) -> dict[str, list[LogEvent]]:
    """The batch's events of one stream type, by entity id (the stream id less its
    "<type>-" prefix), each list in stream order: a batch is in commit order."""
    prefix = f"{stream_type}-"
    streams: dict[str, list[LogEvent]] = {}
    for event in events:
        if event.stream_type == stream_type:
            streams.setdefault(event.stream_id.removeprefix(prefix), []).append(event)
    return streams


async def rows_by_id(
    conn: asyncpg.Connection,
    table: str,
    id_column: str,
    columns: Sequence[str],
    ids: list[str],
) -> dict[str, dict[str, Any]]:
    """The current rows of a batch's entities, as mutable dicts keyed by id."""
    found = await conn.fetch(
        f"SELECT {', '.join(columns)} FROM {table} WHERE {id_column} = ANY($1::text[])", ids
    )
    return {row[id_column]: dict(row) for row in found}
