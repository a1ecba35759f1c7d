"""What a projection is: a name, a version, the event types it reads, its tables, and a batch
`apply` that writes read-model rows inside the runner's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

SCHEMA = "read_models"

EVENT_COLUMNS = """position, transaction_id::text::bigint AS transaction_id, stream_id, stream_type,
    stream_version, site_id, agency_id, type, data::text AS data, metadata::text AS metadata,
    recorded_at"""


@dataclass(frozen=True, slots=True)
class LogEvent:
    """An event as a projection sees it: a light record, so catch-up is not bound by validation.

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
    recorded_at: datetime
    data_json: str = field(repr=False)
    metadata_json: str = field(repr=False)
    _parsed: dict[str, dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def data(self) -> dict[str, Any]:
        return self._payload("data")

    @property
    def metadata(self) -> dict[str, Any]:
        return self._payload("metadata")

    def _payload(self, name: str) -> dict[str, Any]:
        parsed = self._parsed.get(name)
        if parsed is None:
            text = self.data_json if name == "data" else self.metadata_json
            parsed = self._parsed[name] = json.loads(text)
        return parsed

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> LogEvent:
        return cls(
            row["position"],
            row["transaction_id"],
            row["stream_id"],
            row["stream_type"],
            row["stream_version"],
            row["site_id"],
            row["agency_id"],
            row["type"],
            row["recorded_at"],
            row["data"],
            row["metadata"],
        )


@dataclass(frozen=True)
class Tables:
    """The physical names of one generation's tables: `read_models.<name>_g<n>_<table>`."""

    projection: str
    generation: int

    def __getitem__(self, table: str) -> str:
        return f'{SCHEMA}."{self.projection}_g{self.generation}_{table}"'


class Projection(Protocol):
    name: str
    version: int
    """Bump it when apply or the tables change: the projection then rebuilds itself on start."""
    handles: frozenset[str] | None
    """Event types it reads; None for all. The checkpoint still moves past the others."""
    tables: tuple[str, ...]
    inline: bool
    """Also applied inside each append transaction (see projections/inline.py)."""

    def ddl(self, tables: Tables) -> list[str]: ...

    async def apply(
        self, conn: asyncpg.Connection, events: list[LogEvent], tables: Tables
    ) -> None: ...
