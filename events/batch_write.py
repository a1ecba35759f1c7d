"""One batch of concurrent commands, written in one transaction with one commit, each command's
refusal its own.

Together (the usual way): one INSERT for the events of every command, guarded per command; one
INSERT for the idempotency records; each command's own transaction work (`within`); then the
work the commands handed over to the batch (inline projections, applied once for the whole
batch: see defer_to_batch); one COMMIT. A refusal the guard finds (a stream moved on) leaves
that command's rows out and costs the others nothing.

Apart (the one retry): anything else that fails the transaction (a writer outside this process
took a version first, a duplicate event id, a hook that raised, an idempotency key another
process stored first) rolls it back, and the batch goes again with a savepoint per command, so
that the one that fails fails alone. That costs three round trips per command instead of six
per batch: measured through the Ledger (register-site, a key, both inline read models), 0.3 to
0.5 x the commands/s of the together way at 8 and 32 writers, so it is only the fallback.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import asyncpg

from events.appends import AppendResult, IdempotencyRace, TransactionHook
from events.batch_statements import (
    CLAIM,
    INSERT,
    Outcome,
    Outcomes,
    PendingCommand,
    clash_of,
    columns,
    landed,
)

SAVEPOINTS_PER_TRANSACTION = 32
"""Past 64 subtransactions that wrote, a transaction overflows its shared cache of subxids, and
every other backend's snapshots get slower while it runs: the apart way commits in parts."""


_HANDED_OVER: ContextVar[dict[TransactionHook, list[AppendResult]] | None] = ContextVar(
    "batch_handed_over", default=None
)


def defer_to_batch(hook: TransactionHook, results: list[AppendResult]) -> bool:
    """From a command's `within`: hand `hook` over to the batch the command is written in. The
    batch runs it once, after every command's own work, with the results of all the commands
    that handed over an equal hook. False outside such a batch: the caller runs it now.

    Only for work that does for several commands' results at once what it does for each
    (applying a read model to a batch of events is such work); should it fail, the batch goes
    apart and each command runs it on its own."""
    handed = _HANDED_OVER.get()
    if handed is None:
        return False
    handed.setdefault(hook, []).extend(results)
    return True


class _GoApart(Exception):
    """The batch must go again command by command."""


class BatchWriter:
    """Writes batches of commands; counts the transactions it committed."""

    def __init__(self) -> None:
        self.transactions = 0
        self.together = True
        """False writes every batch the apart way (to measure it against the other)."""

    async def write(self, conn: asyncpg.Connection, batch: list[PendingCommand]) -> Outcomes:
        refused: Outcomes = []
        if self.together:
            try:
                return await self._together(conn, batch, refused)
            except Exception:
                if not _usable(conn):
                    raise  # the server ended the session: the caller tells the whole batch
        # Refused by the guard, the stream had moved on in committed history: that stands.
        told = {pending for pending, _ in refused}
        return refused + await self._apart(conn, [p for p in batch if p not in told])

    async def _together(
        self, conn: asyncpg.Connection, batch: list[PendingCommand], refused: Outcomes
    ) -> Outcomes:
        if all(pending.plain for pending in batch):
            # One statement is atomic by itself: no BEGIN and COMMIT round trips.
            outcomes = landed(batch, await conn.fetch(INSERT, *columns(batch)))
            self.transactions += 1
            return outcomes
        async with conn.transaction():
            outcomes = landed(batch, await conn.fetch(INSERT, *columns(batch)))
            written = [(p, o) for p, o in outcomes if not isinstance(o, BaseException)]
            refused += [(p, o) for p, o in outcomes if isinstance(o, BaseException)]
            if await _claim(conn, written):
                raise _GoApart  # their events are in this transaction with the others'
            await _run_hooks(conn, written)
        self.transactions += 1
        return outcomes

    async def _apart(self, conn: asyncpg.Connection, batch: list[PendingCommand]) -> Outcomes:
        outcomes: Outcomes = []
        for first in range(0, len(batch), SAVEPOINTS_PER_TRANSACTION):
            part: Outcomes = []
            async with conn.transaction():
                for pending in batch[first : first + SAVEPOINTS_PER_TRANSACTION]:
                    if not pending.outcome.done():  # a caller gone before: nothing of it is sent
                        part.append((pending, await _alone(conn, pending)))
            self.transactions += 1
            outcomes += part
        return outcomes


async def _alone(conn: asyncpg.Connection, pending: PendingCommand) -> Outcome:
    """One command in a savepoint of the batch's transaction: its failure takes back only it."""
    await conn.execute("SAVEPOINT command")
    try:
        ((_, outcome),) = landed([pending], await conn.fetch(INSERT, *columns([pending])))
        if isinstance(outcome, BaseException):
            return outcome
        if await _claim(conn, [(pending, outcome)]):
            assert pending.idempotency is not None
            raise IdempotencyRace(pending.idempotency.key)
        if pending.within is not None:
            await pending.within(conn, outcome)
        return outcome
    except Exception as error:
        if not _usable(conn):
            raise
        await conn.execute("ROLLBACK TO SAVEPOINT command")
        return clash_of(pending, error) or error


async def _run_hooks(
    conn: asyncpg.Connection, written: list[tuple[PendingCommand, list[AppendResult]]]
) -> None:
    handed: dict[TransactionHook, list[AppendResult]] = {}
    token = _HANDED_OVER.set(handed)
    try:
        for pending, results in written:
            if pending.within is not None:
                await pending.within(conn, results)
    finally:
        _HANDED_OVER.reset(token)
    for hook, results in handed.items():
        await hook(conn, results)


async def _claim(
    conn: asyncpg.Connection, written: list[tuple[PendingCommand, list[AppendResult]]]
) -> list[PendingCommand]:
    """Store the answers of the written commands that carry an Idempotency-Key, in the same
    transaction as their events; say whose key another transaction stored first."""
    claims = [(p, p.idempotency, results) for p, results in written if p.idempotency is not None]
    if not claims:
        return []
    by_column: list[list[Any]] = [[] for _ in range(5)]
    for _, claim, results in claims:
        values = (
            claim.scope,
            claim.key,
            claim.request_hash,
            claim.status_code,
            json.dumps(claim.respond(results)),
        )
        for column, value in zip(by_column, values, strict=True):
            column.append(value)
    stored = {(row["scope"], row["key"]) for row in await conn.fetch(CLAIM, *by_column)}
    return [p for p, claim, _ in claims if (claim.scope, claim.key) not in stored]


def _usable(conn: asyncpg.Connection) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took it back when the connection was lost
        return False
