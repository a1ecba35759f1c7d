"""HTTP models of the history API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from events.envelope import StoredEvent
from service.pagination import CURSOR_MAX_LENGTH, DEFAULT_LIMIT, MAX_LIMIT, Page


def _assume_utc(moment: datetime) -> datetime:
    # asyncpg reads a naive datetime as the server process's local time; the API means UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    # pydantic alone reads a number, or a string of digits, as seconds since 1970: a client
    # that sent one meant something else, so it is refused rather than guessed.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("an ISO 8601 date-time is expected, such as 2026-12-01T09:00:00Z")
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_assume_utc)]
"""An ISO 8601 timestamp (never a number); one without an offset is read as UTC."""

Name = Annotated[str, Field(min_length=1, max_length=200)]


class EventFilters(BaseModel):
    """Which events to read. Every filter given must match; the caller's tenancy always applies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: Name | None = Field(None, description="Only events of this site.")
    agency_id: Name | None = Field(None, description="Only events of this agency.")
    stream_id: Name | None = Field(None, description="Only events of this stream.")
    stream_type: Name | None = Field(None, description="Only streams of this type, e.g. `site`.")
    type: Name | None = Field(None, description="Only events of this type, e.g. `SiteRegistered`.")
    actor: Name | None = Field(None, description="Only events caused by this token subject.")
    since: UtcDatetime | None = Field(None, description="Recorded at or after this time.")
    until: UtcDatetime | None = Field(None, description="Recorded before this time.")


class EventListQuery(EventFilters):
    cursor: str | None = Field(
        None,
        min_length=1,
        max_length=CURSOR_MAX_LENGTH,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page, exactly as given; omit for the first.",
    )
    limit: int = Field(
        DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description=f"At most this many events (1 to {MAX_LIMIT}; default {DEFAULT_LIMIT}).",
    )


class ExportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class EventExportQuery(EventFilters):
    format: ExportFormat = Field(
        ExportFormat.NDJSON, description="`ndjson`: one JSON event per line; `csv`: a header row."
    )


class EventRecord(BaseModel):
    """A stored event with everything needed to recompute its stream's hash chain:
    `hash = sha256(prev_hash || JCS(envelope))`. The envelope is every field but `position`,
    `transaction_id`, `prev_hash`, `hash`, `signature` and `leaf_index`; in hash version 2 it
    holds `data_hash` (hex sha256 of JCS(data)) and `hash_version` instead of `data` (README,
    "How an auditor verifies")."""

    position: int = Field(examples=[42])
    transaction_id: int = Field(examples=[7731])
    event_id: str = Field(examples=["0b6f3c9e-8d0a-4b7e-9a55-1f2d3c4b5a69"])
    stream_id: str = Field(examples=["site-acme-shop"])
    stream_type: str = Field(examples=["site"])
    stream_version: int = Field(examples=[1])
    site_id: str | None = Field(examples=["acme-shop"])
    agency_id: str | None = Field(examples=["northwind-agency"])
    type: str = Field(examples=["SiteRegistered"])
    schema_version: int = Field(examples=[1])
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: str = Field(examples=["2026-11-22T09:30:00.000000Z"])
    recorded_at: str = Field(examples=["2026-11-22T09:30:00.012345Z"])
    prev_hash: str = Field(description="Hex; 64 zeros for a stream's first event.")
    hash: str = Field(description="Hex SHA-256 of prev_hash and the canonical envelope.")
    hash_version: int = Field(examples=[2], description="The hash recipe: 1 or 2.")
    data_hash: str | None = Field(
        None, description="Version 2: hex SHA-256 of JCS(data), what the envelope commits to."
    )
    signature: str | None = Field(
        description="Hex: the writer key's ID (4 bytes) and Ed25519 signature (64 bytes) over "
        "`sophmate-ledger event signature v1\\n` and the hash; null only in version 1."
    )

    @classmethod
    def of(cls, event: StoredEvent) -> EventRecord:
        return cls.model_validate(event.export_record())


class EventPage(Page[EventRecord]):
    items: list[EventRecord] = Field(description="In commit order.")
    next_cursor: str = Field(
        examples=["AAECAwQFBgd7InRyYW5zYWN0aW9uX2lkIjo3NzMxLCJwb3NpdGlvbiI6NDJ9"],
        description="Always given: where the next page starts. On the last page it is where "
        "a reader continues once more events are committed.",
    )


class StreamEvents(Page[EventRecord]):
    items: list[EventRecord] = Field(description="In version order.")
