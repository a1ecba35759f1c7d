"""The command pipeline: load the streams, decide on their states, append at the versions loaded.

Idempotency: a retried request with the same Idempotency-Key gets the stored answer; the answer
is written in the same transaction as the events, so a key is never bound to a lost append.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import asyncpg

from events.aggregates import Aggregate
from events.catalogue import CATALOGUE
from events.envelope import StoredEvent
from events.errors import LedgerError, VersionConflict
from events.store import (
    AppendResult,
    EventStore,
    IdempotencyClaim,
    IdempotencyRace,
    TransactionHook,
)
from projections.base import Projection
from projections.inline import apply_inline
from service.attempts import Attempt, Loaded
from service.auth.principal import Principal
from service.command import (
    Command,
    CommandContext,
    CommandPlan,
    CommandReply,
    CommandResult,
    answer_with,
    result_body,
)
from service.tenancy import Tenant, require_access, stream_tenant

S = TypeVar("S")


CommandObserver = Callable[[str, list[str], float], None]
"""Told (operationId, event types appended, seconds) after each command: metrics."""


class Ledger:
    def __init__(
        self,
        store: EventStore,
        observe: CommandObserver | None = None,
        inline: Sequence[Projection] = (),
    ) -> None:
        self.store = store
        self.observe = observe
        self.inline = tuple(inline)
        self.events_read = 0
        """Events loaded so far: what a command's cost grows with (tests assert it bounded)."""

    def _within(self, command: Command) -> TransactionHook | None:
        """The command's own transaction work, then the inline projections."""
        if not self.inline:
            return command.within
        own, inline = command.within, self.inline

        async def both(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
            if own is not None:
                await own(conn, results)
            await apply_inline(conn, inline, results)

        return both

    async def load(
        self,
        aggregate: Aggregate[S],
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> Loaded[S]:
        events = await self.store.read_stream(stream_id, to_version=to_version, as_of=as_of)
        return self.folded(aggregate, stream_id, events)

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Streams an attempt will load, read in one round trip (Attempt.prefetch)."""
        return await self.store.read_streams(stream_ids)

    def folded(
        self, aggregate: Aggregate[S], stream_id: str, events: list[StoredEvent]
    ) -> Loaded[S]:
        """A stream's state from its events as read."""
        self.events_read += len(events)
        state = aggregate.fold(CATALOGUE.decode(event) for event in events)
        version = events[-1].stream_version if events else 0
        return Loaded(
            state, version, stream_tenant(events), events, stream_id, aggregate.stream_type
        )

    async def load_visible(
        self,
        principal: Principal,
        aggregate: Aggregate[S],
        stream_id: str,
        what: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> Loaded[S]:
        """Load a stream the principal may see; unknown and foreign streams are both 404."""
        loaded = await self.load(aggregate, stream_id, to_version=to_version, as_of=as_of)
        require_access(principal, loaded.tenant, what)
        return loaded

    async def execute(self, ctx: CommandContext, plan: Command | CommandPlan[Any]) -> CommandReply:
        command = plan if isinstance(plan, Command) else plan.command()
        started = time.perf_counter()
        reply = await self._execute(ctx, command)
        if self.observe is not None:
            self.observe(ctx.operation_id, list(reply.event_types), time.perf_counter() - started)
        return reply

    async def _execute(self, ctx: CommandContext, command: Command) -> CommandReply:
        claim = self._claim(ctx, command)
        replay = partial(self._replay, claim, ctx.principal)
        try:
            return await replay() or await self._decide_and_append(ctx, command, claim)
        except (LedgerError, IdempotencyRace):
            # A request with the same key may have committed between our look-up and our load
            # (its effects are what refused us, or its key row made us wait): give its answer.
            replayed = await replay()
            if replayed is None:
                raise
            return replayed

    async def _replay(
        self, claim: IdempotencyClaim | None, principal: Principal
    ) -> CommandReply | None:
        if claim is None:
            return None
        stored = await self.store.stored_response(claim.scope, claim.key, claim.request_hash)
        if stored is None:
            return None
        # Authorised as the original: the caller must still reach the stream the answer is
        # about (a token for other sites, under the same subject, gets no stored answer).
        stream_id = stored.body.get("stream_id")
        tenant = await self._tenant_of(stream_id) if isinstance(stream_id, str) else None
        if not principal.all_sites:  # a platform administrator reaches every stream
            require_access(principal, tenant, "the command of this Idempotency-Key")
        return CommandReply(stored.status_code, stored.body, replayed=True)

    async def _tenant_of(self, stream_id: str) -> Tenant | None:
        row = await self.store.pool.fetchrow(
            "SELECT site_id, agency_id FROM events WHERE stream_id = $1 AND stream_version = 1",
            stream_id,
        )
        return None if row is None else Tenant(row["site_id"], row["agency_id"])

    async def _decide_and_append(
        self, ctx: CommandContext, command: Command, claim: IdempotencyClaim | None
    ) -> CommandReply:
        for attempt_number in range(2):
            attempt = Attempt(self, ctx.principal, command.own_stream, ctx.if_match)
            await command.decide(attempt)
            if not attempt.changes.get(command.own_stream):
                # Already done (an idempotent command): nothing to append, nothing to store.
                own = attempt.own
                body = CommandResult(
                    event_ids=[],
                    stream_id=own.stream_id,
                    stream_version=own.version,
                    position=own.position,
                ).model_dump()
                extra = command.unchanged(attempt) if command.unchanged else {}
                masked = {"masked": ctx.masked()}
                return CommandReply(200, {**body, **command.answer, **extra, **masked}, False)
            appends = attempt.stream_appends(ctx.metadata())
            pins = attempt.read_only()
            status_code = attempt.status_code or command.status_code
            answer = {**command.answer, **attempt.answer, "masked": ctx.masked()}
            respond = partial(answer_with, answer)
            decided = (
                None if claim is None else replace(claim, status_code=status_code, respond=respond)
            )
            try:
                results = await self.store.append_streams(
                    appends, idempotency=decided, within=self._within(command), pins=pins
                )
            except VersionConflict as conflict:
                # Retry once on a fresh load, unless the caller pinned this stream with If-Match
                # (If-Match names the own stream; the others are always re-read).
                pinned = ctx.if_match is not None and conflict.stream_id == command.own_stream
                if pinned or attempt_number == 1:
                    raise
                replay = await self._replay(claim, ctx.principal)
                if replay is not None:
                    return replay
                continue
            types = tuple(event.type for item in appends for event in item.events)
            return CommandReply(status_code, respond(results), False, types)
        raise AssertionError("unreachable: the second attempt returns or raises")

    @staticmethod
    def _claim(ctx: CommandContext, command: Command) -> IdempotencyClaim | None:
        if ctx.idempotency_key is None:
            return None
        return IdempotencyClaim(
            # Not the key id: a rotated key must replay the same subject's command, not run it
            # again (Principal.idempotency_scope).
            scope=ctx.principal.idempotency_scope,
            key=ctx.idempotency_key,
            request_hash=ctx.request_hash,
            status_code=command.status_code,
            respond=result_body,
        )
