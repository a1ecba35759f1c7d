"""The statements a batch of commands is written with: what they take, and what each command
gets back from what they return."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from events import commit_signing
from events.appends import (
    EVENT_ROW_COLUMNS,
    AppendResult,
    EventRow,
    IdempotencyClaim,
    PreparedAppend,
    StreamClash,
    TransactionHook,
    event_columns,
)

STREAM_VERSION_KEY = "events_stream_version_key"


@dataclass(frozen=True)
class Pin:
    """A stream the command read and does not change, at the version (and head hash) it read:
    checked by the statement that writes the command's events, so the check and the commit are
    one snapshot apart at most, never a round trip."""

    stream_id: str
    version: int
    head_hash: bytes


@dataclass(eq=False)
class PendingCommand:
    """One caller's appends, hashed and ready to insert, its transaction work, the streams it
    only read, and where its outcome goes."""

    appends: Sequence[PreparedAppend]
    idempotency: IdempotencyClaim | None = None
    within: TransactionHook | None = None
    pins: Sequence[Pin] = ()
    outcome: asyncio.Future[list[AppendResult]] = field(init=False)

    def __post_init__(self) -> None:
        self.outcome = asyncio.get_running_loop().create_future()

    @property
    def keys(self) -> set[Hashable]:
        """What two commands in one batch must not share: a stream, an idempotency key."""
        keys: set[Hashable] = {prepared.item.stream_id for prepared in self.appends}
        if self.idempotency is not None:
            keys.add((self.idempotency.scope, self.idempotency.key))
        return keys

    @property
    def pinned(self) -> set[Hashable]:
        """Streams it only read: any number of commands in a batch may read one stream, but
        none may change it there (its guard sees the statement's snapshot, not its batch
        mates' rows: a change beside it would go unseen)."""
        return {pin.stream_id for pin in self.pins}

    @property
    def plain(self) -> bool:
        """Only events: its insert alone is its whole transaction."""
        return self.idempotency is None and self.within is None

    def settle(self, outcome: list[AppendResult] | BaseException) -> None:
        if self.outcome.done():
            # Its caller was cancelled while its batch was in flight and has gone. What the
            # batch did stands: all of the command, or none of it.
            return
        if isinstance(outcome, BaseException):
            self.outcome.set_exception(outcome)
        else:
            self.outcome.set_result(outcome)


Outcome = list[AppendResult] | BaseException
Outcomes = list[tuple[PendingCommand, Outcome]]
"""What a batch did for each of its callers, to be told to them."""

_APPEND_COLUMNS: tuple[tuple[str, str], ...] = (
    ("stream_id", "text"),
    ("stream_type", "text"),
    ("site_id", "text"),
    ("agency_id", "text"),
    ("recorded_at", "timestamptz"),
    ("base_version", "int"),
    ("base_hash", "bytea"),
    ("command", "int"),
)
_ROW_COLUMNS = (*EVENT_ROW_COLUMNS, ("append", "int"))
"""Each event's columns, then the number of its stream append (1-based, in batch order)."""
_SIGNED_FIRST = len(_ROW_COLUMNS) + len(_APPEND_COLUMNS) + 1


def _placeholders(spec: Sequence[tuple[str, str]], first: int) -> str:
    return ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(spec, start=first))


def _names(spec: Sequence[tuple[str, str]], prefix: str = "") -> str:
    return ", ".join(prefix + name for name, _ in spec)


# A command's rows go in only if every stream it appends to, or only read (a pin: an append of no
# rows), is still where it was read: the event at the base version exists with the base hash
# (history is immutable) and nothing follows it yet. All in one snapshot, so a command lands
# whole or not at all. The commit signatures go in with the rows (events/commit_signing.py). A
# writer outside this batch that takes the same version meanwhile makes the unique key fail the
# whole statement (then the batch goes apart). The streams the guard refused come back with no
# position, with their command's number. Scalar subqueries, not EXISTS: the planner turns EXISTS
# on events into a hash join over a sequential scan; these stay probes of the (stream_id,
# stream_version) index, whatever the log's length.
INSERT = f"""
WITH guarded AS MATERIALIZED (
    SELECT a.*,
           (a.base_version = 0
            OR (SELECT h.hash FROM events h
                WHERE h.stream_id = a.stream_id AND h.stream_version = a.base_version)
               = a.base_hash)
           AND (SELECT 1 FROM events n
                WHERE n.stream_id = a.stream_id AND n.stream_version = a.base_version + 1)
               IS NULL AS holds
    FROM unnest({_placeholders(_APPEND_COLUMNS, len(_ROW_COLUMNS) + 1)}) WITH ORDINALITY
         AS a({_names(_APPEND_COLUMNS)}, append)
), signed AS (
    INSERT INTO commit_signatures ({_names(commit_signing.COLUMNS)})
    SELECT * FROM unnest({_placeholders(commit_signing.COLUMNS, _SIGNED_FIRST)})
    WHERE EXISTS (SELECT 1 FROM guarded WHERE holds)
), inserted AS (
    INSERT INTO events ({_names(EVENT_ROW_COLUMNS)},
                        stream_id, stream_type, site_id, agency_id, recorded_at)
    SELECT {_names(EVENT_ROW_COLUMNS, "e.")},
           a.stream_id, a.stream_type, a.site_id, a.agency_id, a.recorded_at
    FROM unnest({_placeholders(_ROW_COLUMNS, 1)}) WITH ORDINALITY
         AS e({_names(_ROW_COLUMNS)}, seq)
    JOIN guarded a ON a.append = e.append
    WHERE NOT EXISTS (SELECT 1 FROM guarded r
                      WHERE r.command = a.command AND r.holds IS NOT TRUE)
    ORDER BY e.seq
    RETURNING stream_id, stream_version, position, transaction_id::text::bigint AS transaction_id
)
SELECT stream_id, stream_version, position, transaction_id, NULL::int AS command FROM inserted
UNION ALL
SELECT stream_id, NULL, NULL, NULL, command FROM guarded WHERE holds IS NOT TRUE
"""  # noqa: S608 (built from the constant column lists)

# DO NOTHING, not an error: the key a concurrent transaction stored first is found out without
# aborting the others' transaction.
CLAIM = """
INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[], $5::jsonb[])
ON CONFLICT (scope, key) DO NOTHING
RETURNING scope, key
"""


def columns(batch: list[PendingCommand]) -> list[list[Any]]:
    """One list per parameter of INSERT: every event's columns, then every stream append's
    (pins are appends of no rows), then the commit signatures."""
    rows: list[EventRow] = []
    append_of_row: list[int] = []
    appends: list[list[Any]] = [[] for _ in _APPEND_COLUMNS]
    number = 0
    for command, pending in enumerate(batch):
        for prepared in pending.appends:
            number += 1
            item = prepared.item
            values = (
                item.stream_id,
                item.stream_type,
                item.site_id,
                item.agency_id,
                prepared.recorded_at,
                prepared.base_version,
                prepared.base_hash,
                command,
            )
            for column, value in zip(appends, values, strict=True):
                column.append(value)
            rows += prepared.rows
            append_of_row += [number] * len(prepared.rows)
        for pin in pending.pins:
            number += 1
            pinned = (pin.stream_id, "", None, None, None, pin.version, pin.head_hash, command)
            for column, value in zip(appends, pinned, strict=True):
                column.append(value)
    signed = commit_signing.signed_parts(
        (prepared.item.agency_id, prepared.rows)
        for pending in batch
        for prepared in pending.appends
    )
    return [*event_columns(rows), append_of_row, *appends, *signed]


def landed(batch: list[PendingCommand], records: list[asyncpg.Record]) -> Outcomes:
    """Each command's results from what INSERT returned, or the clash that kept it out."""
    landed: dict[str, list[tuple[int, int]]] = {}
    refused: dict[int, str] = {}
    transaction_id = 0
    for record in records:
        if record["position"] is None:
            refused.setdefault(record["command"], record["stream_id"])
        else:
            landed.setdefault(record["stream_id"], []).append(
                (record["stream_version"], record["position"])
            )
            transaction_id = record["transaction_id"]
    return [
        (pending, _outcome(pending, landed, refused.get(command), transaction_id))
        for command, pending in enumerate(batch)
    ]


def _outcome(
    pending: PendingCommand,
    landed: dict[str, list[tuple[int, int]]],
    refused: str | None,
    transaction_id: int,
) -> Outcome:
    pin = next((pin for pin in pending.pins if pin.stream_id == refused), None)
    if pin is not None:
        return StreamClash(pin.stream_id, pin.version)
    results: list[AppendResult] = []
    for prepared in pending.appends:
        rows = sorted(landed.get(prepared.item.stream_id, []))
        if refused is not None or len(rows) != len(prepared.rows):
            culprit = next((a for a in pending.appends if a.item.stream_id == refused), prepared)
            return StreamClash(culprit.item.stream_id, culprit.item.expected_version)
        positions = [position for _, position in rows]
        results.append(prepared.result(positions, transaction_id if rows else 0))
    return results


def clash_of(pending: PendingCommand, error: Exception) -> StreamClash | None:
    """A writer outside the batch took a version of one of the command's streams first."""
    if not (
        isinstance(error, asyncpg.UniqueViolationError)
        and error.constraint_name == STREAM_VERSION_KEY
    ):
        return None
    detail = error.detail or ""  # "Key (stream_id, stream_version)=(site-a, 2) already exists."
    for prepared in pending.appends:
        item = prepared.item
        versions = range(prepared.base_version + 1, prepared.base_version + len(item.events) + 1)
        if any(f"=({item.stream_id}, {version})" in detail for version in versions):
            return StreamClash(item.stream_id, item.expected_version)
    first = pending.appends[0].item
    return StreamClash(first.stream_id, first.expected_version)
