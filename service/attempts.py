"""One attempt of a command: the streams it reads, each loaded once, and what it appends to each.

Every stream an attempt loads is pinned at the version it was loaded at: the append names that
version for each stream it changes, and pins each stream it only read at the version read; the
statement that inserts the events checks both, in one snapshot of one transaction. So
a rule over two streams (a run and its workflow) is decided on one consistent pair of states,
and a change to either between the load and the append is a conflict (retried on a fresh load),
never a decision on a stale one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from events.aggregates import Aggregate
from events.batch_statements import Pin
from events.catalogue import CATALOGUE, Event
from events.envelope import StoredEvent
from events.errors import VersionConflict
from events.store import StreamAppend
from service.auth.principal import Principal
from service.tenancy import Tenant, require_access, require_create

S = TypeVar("S")


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S
    version: int
    tenant: Tenant | None
    events: list[StoredEvent]
    stream_id: str = ""
    stream_type: str = ""

    @property
    def head_hash(self) -> bytes | None:
        return self.events[-1].hash if self.events else None

    @property
    def position(self) -> int:
        return self.events[-1].position if self.events else 0


class StreamLoader(Protocol):
    async def load(self, aggregate: Aggregate[S], stream_id: str) -> Loaded[S]: ...

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]: ...

    def folded(
        self, aggregate: Aggregate[S], stream_id: str, events: list[StoredEvent]
    ) -> Loaded[S]: ...


@dataclass
class Attempt:
    """What a command's decide step works with: `load` each stream it needs, `append` events."""

    loader: StreamLoader
    principal: Principal
    own_stream: str
    """The command's own stream: If-Match pins it, and the answer names it."""
    if_match: int | None = None
    loaded: dict[str, Loaded[Any]] = field(default_factory=dict)
    changes: dict[str, list[Event]] = field(default_factory=dict)
    whats: dict[str, str] = field(default_factory=dict)
    status_code: int | None = None
    """Set by `refuse`: the status of an answer other than the command's usual one."""
    answer: dict[str, Any] = field(default_factory=dict)
    prefetched: dict[str, list[StoredEvent]] = field(default_factory=dict)

    async def prefetch(self, *stream_ids: str) -> None:
        """Read streams this attempt is about to load in one round trip instead of one each
        (a run command's workflow and run): `load` then folds them from what was read here."""
        wanted = [s for s in stream_ids if s not in self.loaded and s not in self.prefetched]
        if len(wanted) < 2:
            return  # one stream: load reads it as cheaply
        found = await self.loader.read_streams(wanted)
        for stream_id in wanted:
            self.prefetched[stream_id] = found.get(stream_id, [])

    async def load(
        self,
        aggregate: Aggregate[S],
        stream_id: str,
        what: str,
        *,
        new_tenant: Tenant | None = None,
    ) -> Loaded[S]:
        """The stream's state, loaded once per attempt; unknown and foreign streams are 404.
        `new_tenant` is the tenant of a stream that does not exist yet (one the command creates,
        or reads as empty); without one, a stream that does not exist is unknown."""
        if stream_id in self.loaded:
            cached: Loaded[S] = self.loaded[stream_id]
            return cached
        events = self.prefetched.pop(stream_id, None)
        if events is not None:
            loaded = self.loader.folded(aggregate, stream_id, events)
        else:
            loaded = await self.loader.load(aggregate, stream_id)
        if loaded.tenant is None:
            loaded = Loaded(loaded.state, 0, new_tenant, [], stream_id, aggregate.stream_type)
        require_access(self.principal, loaded.tenant, what)
        if stream_id == self.own_stream and self.if_match not in (None, loaded.version):
            raise VersionConflict(stream_id, self.if_match, loaded.version)
        self.loaded[stream_id] = loaded
        self.whats[stream_id] = what
        return loaded

    def append(self, loaded: Loaded[Any], events: Sequence[Event]) -> None:
        """Append to a stream this attempt loaded (nothing, when `events` is empty)."""
        if not events:
            return
        if loaded.version == 0:
            require_create(self.principal, loaded.tenant, self.whats[loaded.stream_id])
        self.changes.setdefault(loaded.stream_id, []).extend(events)

    def refuse(self, status_code: int, problem: dict[str, Any]) -> None:
        """Answer with a problem although the events are appended: a refusal that is itself on
        the record (a run's result without its approvals is recorded as a violation)."""
        self.status_code, self.answer = status_code, problem

    @property
    def own(self) -> Loaded[Any]:
        return self.loaded[self.own_stream]

    def read_only(self) -> list[Pin]:
        """The streams this attempt read but does not change, at the versions it read (a stream
        read as empty is not pinned: nothing to build on)."""
        return [
            Pin(stream_id, loaded.version, loaded.events[-1].hash)
            for stream_id, loaded in self.loaded.items()
            if stream_id not in self.changes and loaded.version > 0 and loaded.events
        ]

    def stream_appends(self, metadata: dict[str, Any]) -> list[StreamAppend]:
        """The own stream first (it speaks for the command), then the others it changes."""
        order = [self.own_stream, *(s for s in self.changes if s != self.own_stream)]
        appends = []
        for stream_id in order:
            loaded = self.loaded[stream_id]
            events = [CATALOGUE.to_new_event(e, metadata) for e in self.changes[stream_id]]
            tenant = loaded.tenant or Tenant(None, None)
            appends.append(
                StreamAppend(
                    stream_id,
                    loaded.stream_type,
                    loaded.version,
                    events,
                    tenant.site_id,
                    tenant.agency_id,
                    loaded.head_hash,
                )
            )
        return appends


Decide = Callable[[Attempt], Awaitable[None]]
"""A command's decide step: load what it needs through the attempt, call the pure deciders,
append what they decided. Run again from scratch on a version conflict."""
