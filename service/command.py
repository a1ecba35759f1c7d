"""What a command is and what it answers: its context (who, how, which key), the one shape of
a command over one or several streams, and its reply. The Ledger (service/ledger.py) runs them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from events.aggregates import Aggregate
from events.catalogue import Event
from events.errors import VersionConflict
from events.store import AppendResult, TransactionHook
from service.attempts import Attempt, Decide
from service.auth.principal import Principal
from service.redaction_gate import Redacted, start_record
from service.tenancy import Tenant

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
    redacted: list[Redacted] = field(default_factory=start_record)
    """What the redaction gate masked in this command's body: made with the context, before
    the body is validated, so every command records it (service/redaction_gate.py)."""
    reason: str | None = None
    """Why, where the command's own events have no field for it (approve-run)."""

    def metadata(self) -> dict[str, Any]:
        """Who, how and why, recorded with every event the command appends."""
        metadata: dict[str, Any] = {
            "actor": self.principal.sub,
            "roles": sorted(self.principal.roles),
            "key_id": self.principal.key_id,
            "operation_id": self.operation_id,
            "request_id": self.request_id,
            "client_ip": self.client_ip,
        }
        if self.redacted:
            metadata["redacted"] = self.masked()
        # Only when given: every other command's metadata stays exactly as it was.
        if self.reason is not None:
            metadata["reason"] = self.reason
        return metadata

    def masked(self) -> list[dict[str, str]]:
        """Where the gate masked something and what kind, for the events and the answer."""
        unique = {(r.pointer, r.kind) for r in self.redacted}
        return [{"pointer": pointer, "kind": kind} for pointer, kind in sorted(unique)]


class CommandResult(BaseModel):
    """What every command answers: the events it appended and where they stand."""

    event_ids: list[str] = Field(examples=[["0b6f3c9e-8d0a-4b7e-9a55-1f2d3c4b5a69"]])
    stream_id: str = Field(examples=["site-acme-shop"])
    stream_version: int = Field(examples=[1])
    position: int = Field(examples=[42], description="Global position of the last event.")
    masked: list[Redacted] = Field(
        [], description="Where the redaction masked something, and what kind; never the value."
    )
    receipt: str | None = Field(
        default=None,
        examples=["/v1/audit/events/0b6f3c9e-8d0a-4b7e-9a55-1f2d3c4b5a69/receipt"],
        description=(
            "Where the proof that the command's last event is in the audit log will be: its "
            "leaf index, a signed checkpoint and the inclusion proof (the same path takes any "
            "of `event_ids`). The log seals an event within about a second of its commit, so "
            "the answer, given at the commit, cannot name a leaf index yet; until it is sealed "
            "the receipt is 404. Auditors and administrators read it. None when nothing was "
            "appended."
        ),
    )


@dataclass(frozen=True)
class CommandReply:
    status_code: int
    body: dict[str, Any]
    replayed: bool
    event_types: tuple[str, ...] = ()

    @property
    def stream_version(self) -> int:
        return int(self.body["stream_version"])


def with_secret(outcome: CommandReply, secret: str) -> CommandReply:
    """The answer with a secret the command made (a site key's, a webhook's), in the first
    answer only: the stored answer, which a replay gets, holds `"secret": null`."""
    if outcome.replayed:
        return outcome
    body = {**outcome.body, "secret": secret}
    return CommandReply(outcome.status_code, body, False, outcome.event_types)


RECEIPT_PATH = "/v1/audit/events/{event_id}/receipt"


def result_body(results: list[AppendResult]) -> dict[str, Any]:
    own = results[0]
    return {
        "event_ids": [str(event_id) for result in results for event_id in result.event_ids],
        "stream_id": own.stream_id,
        "stream_version": own.stream_version,
        "position": max(result.position for result in results),
        "receipt": RECEIPT_PATH.format(event_id=own.event_ids[-1]) if own.event_ids else None,
    }


def answer_with(answer: dict[str, Any], results: list[AppendResult]) -> dict[str, Any]:
    return {**result_body(results), **answer}


@dataclass(frozen=True)
class Command:
    """What one command does: its own stream, the decide step over the streams it loads, and
    what it answers. The one way to change streams, one or several (all land, or none)."""

    own_stream: str
    decide: Decide
    status_code: int = 200
    within: TransactionHook | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    """Extra fields for the answer; stored for replays, so never a secret."""
    unchanged: Callable[[Attempt], dict[str, Any]] | None = None
    """What to answer besides `answer` when the own stream gets no event (already done), from
    the states the attempt loaded. Nothing is appended then, to any stream."""


@dataclass(frozen=True)
class CommandPlan(Generic[S]):
    """A command over one stream: which, how to decide on its state, and what to answer. A
    shorthand for the Command that loads that stream and appends what `decide` says."""

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
    unchanged: Callable[[S], dict[str, Any]] | None = None

    def command(self) -> Command:
        async def decide(attempt: Attempt) -> None:
            loaded = await attempt.load(
                self.aggregate, self.stream_id, self.what, new_tenant=self.new_tenant
            )
            attempt.append(loaded, self.decide(loaded.state))

        unchanged = self.unchanged
        return Command(
            self.stream_id,
            decide,
            self.status_code,
            self.within,
            self.answer,
            None if unchanged is None else (lambda attempt: unchanged(attempt.own.state)),
        )


def pinned_at(ctx: CommandContext, version: int, stream_id: str) -> CommandContext:
    """The command's context pinned to the version its answer was built from (a report, a
    signed document): a change in between is a 409, never an answer that disagrees with the
    log. A caller's own If-Match must name that same version."""
    if ctx.if_match is not None and ctx.if_match != version:
        raise VersionConflict(stream_id, ctx.if_match, version)
    return dataclasses.replace(ctx, if_match=version)
