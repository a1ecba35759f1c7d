"""The command pipeline: load the stream, decide on its state, append at the version loaded.

Idempotency: a retried request with the same Idempotency-Key gets the stored answer; the answer
is written in the same transaction as the events, so a key is never bound to a lost append.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
from pydantic import BaseModel, Field

from events.catalogue import CATALOGUE, Event
from events.deciders import Aggregate
from events.envelope import StoredEvent
from events.errors import LedgerError, VersionConflict
from events.store import (
    AppendResult,
    EventStore,
    IdempotencyClaim,
    IdempotencyRace,
    StreamAppend,
    TransactionHook,
)
from projections.base import Projection
from projections.inline import apply_inline
from service.auth.principal import Principal
from service.tenancy import Tenant, require_access, require_create, stream_tenant

S = TypeVar("S")


@dataclass(frozen=True)
class CommandContext:
    principal: Principal
    operation_id: str
    request_id: str
    client_ip: str | None
    idempotency_key: str | None
    request_hash: bytes
    if_match: int | None

    def metadata(self) -> dict[str, Any]:
        """Who and how, recorded with every event the command appends."""
        return {
            "actor": self.principal.sub,
            "roles": sorted(self.principal.roles),
            "key_id": self.principal.key_id,
            "operation_id": self.operation_id,
            "request_id": self.request_id,
            "client_ip": self.client_ip,
        }


class CommandResult(BaseModel):
    """What every command answers: the events it appended and where they stand."""

    event_ids: list[str] = Field(examples=[["0b6f3c9e-8d0a-4b7e-9a55-1f2d3c4b5a69"]])
    stream_id: str = Field(examples=["site-acme-shop"])
    stream_version: int = Field(examples=[1])
    position: int = Field(examples=[42], description="Global position of the last event.")


@dataclass(frozen=True)
class CommandReply:
    status_code: int
    body: dict[str, Any]
    replayed: bool
    event_types: tuple[str, ...] = ()

    @property
    def stream_version(self) -> int:
        return int(self.body["stream_version"])


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S
    version: int
    tenant: Tenant | None
    events: list[StoredEvent]


def _result_body(results: list[AppendResult]) -> dict[str, Any]:
    last = results[0]
    return CommandResult(
        event_ids=[str(event_id) for result in results for event_id in result.event_ids],
        stream_id=last.stream_id,
        stream_version=last.stream_version,
        position=max(result.position for result in results),
    ).model_dump()


@dataclass(frozen=True)
class CommandPlan(Generic[S]):
    """One command: which stream, how to decide on its state, and what to answer."""

    aggregate: Aggregate[S]
    stream_id: str
    decide: Callable[[S], list[Event]]
    what: str
    """Names the thing in a 404, e.g. "site"."""
    new_tenant: Tenant | None = None
    """The tenant of a stream this command creates; an existing stream keeps its own."""
    status_code: int = 200
    within: TransactionHook | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    """Extra fields for the answer; stored for replays, so never a secret."""
    unchanged: Callable[[S], dict[str, Any]] | None = None
    """What to answer besides `answer` when the command decides nothing (already done), from
    the state it was decided on."""
    also: tuple[CommandPlan[Any], ...] = ()
    """Other streams the command changes in the same transaction (all land, or none). Each is
    loaded and decided on its own state; one that decides nothing is left alone. Their
    `within`, `answer` and status are not used: the first plan speaks for the command, and when
    it decides nothing (already done) nothing is appended and the answer is a 200."""

    def respond(self, results: list[AppendResult]) -> dict[str, Any]:
        return {**_result_body(results), **self.answer}


def pinned_at(ctx: CommandContext, version: int, stream_id: str) -> CommandContext:
    """The command's context pinned to the version its answer was built from (a report, a
    signed document): a change in between is a 409, never an answer that disagrees with the
    log. A caller's own If-Match must name that same version."""
    if ctx.if_match is not None and ctx.if_match != version:
        raise VersionConflict(stream_id, ctx.if_match, version)
    return dataclasses.replace(ctx, if_match=version)


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

    def _within(self, plan: CommandPlan[S]) -> TransactionHook | None:
        """The plan's own transaction work, then the inline projections."""
        if not self.inline:
            return plan.within
        own, inline = plan.within, self.inline

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
        state = aggregate.fold(CATALOGUE.decode(event) for event in events)
        version = events[-1].stream_version if events else 0
        return Loaded(state, version, stream_tenant(events), events)

    async def load_visible(
        self, principal: Principal, aggregate: Aggregate[S], stream_id: str, what: str, **kw: Any
    ) -> Loaded[S]:
        """Load a stream the principal may see; unknown and foreign streams are both 404."""
        loaded = await self.load(aggregate, stream_id, **kw)
        require_access(principal, loaded.tenant, what)
        return loaded

    async def execute(self, ctx: CommandContext, plan: CommandPlan[S]) -> CommandReply:
        started = time.perf_counter()
        reply = await self._execute(ctx, plan)
        if self.observe is not None:
            self.observe(ctx.operation_id, list(reply.event_types), time.perf_counter() - started)
        return reply

    async def _execute(self, ctx: CommandContext, plan: CommandPlan[S]) -> CommandReply:
        claim = self._claim(ctx, plan)
        try:
            return await self._replay(claim) or await self._decide_and_append(ctx, plan, claim)
        except (LedgerError, IdempotencyRace):
            # A request with the same key may have committed between our look-up and our load
            # (its effects are what refused us, or its key row made us wait): give its answer.
            replay = await self._replay(claim)
            if replay is None:
                raise
            return replay

    async def _replay(self, claim: IdempotencyClaim | None) -> CommandReply | None:
        if claim is None:
            return None
        stored = await self.store.stored_response(claim.scope, claim.key, claim.request_hash)
        if stored is None:
            return None
        return CommandReply(stored.status_code, stored.body, replayed=True)

    async def _decide_and_append(
        self, ctx: CommandContext, plan: CommandPlan[S], claim: IdempotencyClaim | None
    ) -> CommandReply:
        for attempt in range(2):
            first, loaded = await self._decide(ctx, plan, pinned=ctx.if_match)
            if not first.events:
                # Already done (an idempotent command): nothing to append, nothing to store.
                body = CommandResult(
                    event_ids=[],
                    stream_id=first.stream_id,
                    stream_version=loaded.version,
                    position=loaded.events[-1].position if loaded.events else 0,
                ).model_dump()
                extra = plan.unchanged(loaded.state) if plan.unchanged else {}
                return CommandReply(200, {**body, **plan.answer, **extra}, False)
            appends = [first]
            for other in plan.also:
                decided, _ = await self._decide(ctx, other, pinned=None)
                if decided.events:
                    appends.append(decided)
            try:
                results = await self.store.append_streams(
                    appends, idempotency=claim, within=self._within(plan)
                )
            except VersionConflict as conflict:
                # Retry once on a fresh load, unless the caller pinned this stream with If-Match
                # (If-Match names the first stream; the others are always re-read).
                pinned = ctx.if_match is not None and conflict.stream_id == plan.stream_id
                if pinned or attempt == 1:
                    raise
                replay = await self._replay(claim)
                if replay is not None:
                    return replay
                continue
            types = tuple(event.type for item in appends for event in item.events)
            return CommandReply(plan.status_code, plan.respond(results), False, types)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _decide(
        self, ctx: CommandContext, plan: CommandPlan[Any], pinned: int | None
    ) -> tuple[StreamAppend, Loaded[Any]]:
        """Load one stream the caller may change, decide on its state, and say what to append
        (with what was loaded, for an answer when nothing is)."""
        loaded = await self.load(plan.aggregate, plan.stream_id)
        if loaded.tenant is not None:
            tenant = loaded.tenant
            require_access(ctx.principal, tenant, plan.what)
        else:
            require_create(ctx.principal, plan.new_tenant, plan.what)
            assert plan.new_tenant is not None
            tenant = plan.new_tenant
        if pinned is not None and pinned != loaded.version:
            raise VersionConflict(plan.stream_id, pinned, loaded.version)
        metadata = ctx.metadata()
        events = [CATALOGUE.to_new_event(event, metadata) for event in plan.decide(loaded.state)]
        head = loaded.events[-1] if loaded.events else None
        append = StreamAppend(
            plan.stream_id,
            plan.aggregate.stream_type,
            loaded.version,
            events,
            tenant.site_id,
            tenant.agency_id,
            head.hash if head else None,
        )
        return append, loaded

    @staticmethod
    def _claim(ctx: CommandContext, plan: CommandPlan[S]) -> IdempotencyClaim | None:
        if ctx.idempotency_key is None:
            return None
        return IdempotencyClaim(
            scope=f"{ctx.principal.key_id}:{ctx.principal.sub}",
            key=ctx.idempotency_key,
            request_hash=ctx.request_hash,
            status_code=plan.status_code,
            respond=plan.respond,
        )
