"""The stored shape of an event and the bytes its hash covers."""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785
from pydantic import BaseModel, ConfigDict, Field

GENESIS_HASH = bytes(32)
"""prev_hash of a stream's first event: the chain starts from a known value, never NULL."""

HASH_VERSION = 2
"""The recipe new events are hashed with. 1: the envelope holds `data` itself. 2: it holds
`data_hash` = hex sha256(JCS(data)) and `hash_version` instead, so a payload can be erased to a
tombstone that keeps its digest while every chain, signature and proof still verifies. An
event's recipe never changes: verifiers read `hash_version` per event and know both."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """One text form for a timestamp, so the hash does not depend on how a driver renders it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class NewEvent(BaseModel):
    """An event a decider produced, before the store gives it a place in a stream."""

    model_config = ConfigDict(frozen=True)

    type: str
    schema_version: int = 1
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utc_now)


class StoredEvent(BaseModel):
    """A row of the events table."""

    model_config = ConfigDict(frozen=True)

    position: int
    transaction_id: int
    event_id: uuid.UUID
    stream_id: str
    stream_type: str
    stream_version: int
    site_id: str | None
    agency_id: str | None
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes
    hash_version: int = HASH_VERSION
    signature: bytes | None = None
    """The writer key's signature over the hash (events/keys.py); None only before version 2."""

    def envelope(self) -> dict[str, Any]:
        return envelope_fields(
            hash_version=self.hash_version,
            event_id=self.event_id,
            stream_id=self.stream_id,
            stream_type=self.stream_type,
            stream_version=self.stream_version,
            site_id=self.site_id,
            agency_id=self.agency_id,
            type=self.type,
            schema_version=self.schema_version,
            data=self.data,
            metadata=self.metadata,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
        )

    def export_record(self) -> dict[str, Any]:
        """Everything an auditor needs to recompute the hash chain, as plain JSON."""
        return {
            **self.envelope(),
            "position": self.position,
            "transaction_id": self.transaction_id,
            "data": self.data,
            "prev_hash": self.prev_hash.hex(),
            "hash": self.hash.hex(),
            "hash_version": self.hash_version,
            "signature": self.signature.hex() if self.signature is not None else None,
        }


def envelope_fields(
    *,
    event_id: uuid.UUID,
    stream_id: str,
    stream_type: str,
    stream_version: int,
    site_id: str | None,
    agency_id: str | None,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    occurred_at: datetime,
    recorded_at: datetime,
    hash_version: int = HASH_VERSION,
) -> dict[str, Any]:
    """The hashed envelope: every column but position and transaction_id, which Postgres assigns
    (the sealer's Merkle log covers the global order), in the event's hash recipe."""
    fields = {
        "event_id": str(event_id),
        "stream_id": stream_id,
        "stream_type": stream_type,
        "stream_version": stream_version,
        "site_id": site_id,
        "agency_id": agency_id,
        "type": type,
        "schema_version": schema_version,
        "data": data,
        "metadata": metadata,
        "occurred_at": format_timestamp(occurred_at),
        "recorded_at": format_timestamp(recorded_at),
    }
    if hash_version == 1:
        return fields
    if hash_version != HASH_VERSION:
        raise ValueError(f"unknown hash version {hash_version}")
    del fields["data"]
    fields["data_hash"] = data_digest(data).hex()
    fields["hash_version"] = hash_version
    return fields


def data_digest(data: dict[str, Any]) -> bytes:
    """What a version 2 envelope commits to instead of the payload: sha256(JCS(data))."""
    return hashlib.sha256(canonical_json(data)).digest()


_SAFE_INTEGER = 2**53 - 1


def jcs_is_sorted_dumps(value: Any) -> bool:
    """True when sorted, compact json.dumps gives exactly the RFC 8785 bytes: no floats (JCS
    formats numbers the ECMAScript way), integers within its safe range, and no key outside the
    Basic Multilingual Plane (JCS sorts keys by UTF-16 code units, Python by code points).
    Keys are checked by C string methods, not character by character: this runs for every event
    on the append path, and that loop was a quarter of an append's client CPU."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, list):
        return all(jcs_is_sorted_dumps(item) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and (key.isascii() or max(key) <= "\uffff") for key in value
        ) and all(jcs_is_sorted_dumps(item) for item in value.values())
    return False


def inexact_numbers(value: Any, pointer: str = "") -> list[str]:
    """Pointers of numbers the log cannot keep exactly: not finite, or beyond the safe integer
    range (jsonb would give back an integer that RFC 8785 refuses, and the stream's hashes could
    never be checked again)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, int):
        return [] if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else [pointer]
    if isinstance(value, float):
        return [] if math.isfinite(value) and abs(value) <= _SAFE_INTEGER else [pointer]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in inexact_numbers(item, f"{pointer}/{i}")]
    if isinstance(value, dict):
        return [p for k, item in value.items() for p in inexact_numbers(item, f"{pointer}/{k}")]
    return []


_UNSURE = re.compile(r"[:,\[]-?(?:\d{16}|\d+(?:\.\d+|(?:\.\d+)?[eE][-+]?\d+)(?=[,}\]]))")
"""A number in compact JSON text that JCS could write otherwise: one with a fraction or an
exponent (JCS formats numbers the ECMAScript way), or an integer that may be beyond 2**53.
Every number of an object follows a colon, a comma or a bracket and ends before one of ,}].
Text in strings can match too (a false alarm only takes the slower, exact path)."""


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON. The pure-Python rfc8785 package costs ~0.1 ms an event on the
    append path, and so did walking the value to see whether it may be skipped, so the common
    case is sorted, compact json.dumps (C) checked afterwards by a scan of its text (C): ASCII
    (keys then sort the same by code point as by UTF-16 unit) with no number JCS could format
    otherwise. Else the walk (jcs_is_sorted_dumps) decides, else rfc8785."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError):  # not JSON as it stands (NaN, a type json does not know)
        text = None
    if text is not None and text.isascii() and _UNSURE.search(text) is None:
        return text.encode()
    if text is not None and jcs_is_sorted_dumps(value):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let rfc8785 decide
            pass
    return bytes(rfc8785.dumps(value))


def parse_json(text: str | bytes) -> Any:
    """JSON text to values: orjson (C, several times faster than json), json where orjson
    refuses (integers past 64 bits, NaN: json's leniency and its message decide then)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def chain_hash(prev_hash: bytes, envelope: dict[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical_json(envelope)).digest()
