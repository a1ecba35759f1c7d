"""The sealer's checks of each new leaf: stream heads read in one query per batch, every
leaf through the verifier, and one loud alarm per batch with every failure recorded."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg

from events.integrity import LogVerifier, Problem
from events.keys import Keyring
from events.record_checks import content_check
from events.tiles import Edge

log = logging.getLogger("sophmate.ledger.sealer")


@dataclass
class Log:
    log_id: int
    agency_id: str | None
    origin: str
    edge: Edge
    verifier: LogVerifier
    checkpoint_size: int
    checkpointed_at: float = float("-inf")
    leaves: list[tuple[int, object, bytes]] = field(default_factory=list)


class Sealing(NamedTuple):
    """An event being sealed: its row and its export record (events/audit_records.py)."""

    row: asyncpg.Record
    record: dict[str, Any]


STREAM_HEADS = 100_000
"""Stream heads a verifier of the sealer keeps at most (it runs for ever): memory stays bounded,
and an evicted head is read back from the log with the next batch that needs it."""


@dataclass
class SealerStatus:
    active: bool = False
    sealed: int = 0
    last_failure: Problem | None = None


class SealChecks(ABC):
    status: SealerStatus
    keyring: Keyring
    _logs: dict[str | None, Log] | None

    @abstractmethod
    async def _log_for(self, conn: asyncpg.Connection, agency_id: str | None) -> Log:
        """The agency's log (the platform's for None), opened or created: the sealer's."""

    async def _prefetch_heads(self, conn: asyncpg.Connection, events: list[Sealing]) -> None:
        """The hash before each stream's first event in the batch, in one query, for the streams
        the verifiers do not hold (a new leader's, or evicted ones)."""
        assert self._logs is not None
        for log in self._logs.values():
            if len(log.verifier.heads) > STREAM_HEADS:
                log.verifier.heads.clear()  # between batches: this one's are read back below
        wanted: dict[str, int] = {}
        seen: set[str] = set()
        for event in events:
            stream_id, version = event.row["stream_id"], event.row["stream_version"]
            if stream_id in seen:
                continue
            seen.add(stream_id)
            entry = self._logs.get(event.row["agency_id"])
            known = entry is not None and stream_id in entry.verifier.heads
            if version > 1 and not known:
                wanted[stream_id] = version - 1
        if not wanted:
            return
        rows = await conn.fetch(
            "SELECT e.agency_id, e.stream_id, e.stream_version, e.hash FROM events e "
            "JOIN unnest($1::text[], $2::int[]) AS k(stream_id, stream_version) "
            "ON e.stream_id = k.stream_id AND e.stream_version = k.stream_version",
            list(wanted),
            list(wanted.values()),
        )
        for row in rows:
            entry = self._logs.get(row["agency_id"]) or await self._log_for(conn, row["agency_id"])
            entry.verifier.seed_streams(
                [(row["stream_id"], row["stream_version"], bytes(row["hash"]))]
            )

    def _verify(self, entry: Log, event: Sealing) -> Problem | None:
        verifier = entry.verifier
        record = {**event.record, "leaf_index": entry.edge.size}
        problem = verifier.add(record, content_check(record, self.keyring))
        if problem is None:
            return None
        # Go on verifying the leaves after it: a fresh verifier that starts past the bad leaf.
        fresh = LogVerifier(
            self.keyring, entry.agency_id, bounded=True, first_leaf=entry.edge.size + 1
        )
        fresh.signed_seen = True
        fresh.heads = dict(verifier.heads)
        row = event.row
        fresh.heads[row["stream_id"]] = (row["stream_version"], bytes(row["hash"]))
        fresh.order.last = verifier.order.last
        fresh.commit, fresh.vouched = verifier.commit, verifier.vouched
        entry.verifier = fresh
        return Problem(entry.edge.size, problem.reason, str(row["event_id"]))

    async def _record(self, conn: asyncpg.Connection, failures: list[tuple[Log, Problem]]) -> None:
        """One loud alarm per batch (a flood of rows written around the service must not
        flood the log), every failure in integrity_failures."""
        first_log, first = failures[0]
        log.error(
            "INTEGRITY ALARM: sealed events do not verify",
            extra={
                "failures": len(failures),
                "origin": first_log.origin,
                "leaf_index": first.leaf_index,
                "reason": first.reason,
            },
        )
        self.status.last_failure = failures[-1][1]
        await conn.execute(
            "INSERT INTO integrity_failures (log_id, leaf_index, event_id, reason) "
            "SELECT * FROM unnest($1::int[], $2::bigint[], $3::uuid[], $4::text[])",
            [entry.log_id for entry, _ in failures],
            [problem.leaf_index for _, problem in failures],
            [problem.event_id for _, problem in failures],
            [problem.reason for _, problem in failures],
        )
