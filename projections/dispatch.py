"""The one way a read model receives events: decoded and upcast through the catalogue into their
typed classes, each handed to the handler its projection registered for that class.

A projection registers a handler per (stream type, event class). Only those pairs are decoded:
an event type's name in another kind of stream is not that event (generated histories, old
streams, other aggregates may reuse a name), and decoding it as one would fail or mislead.
Handlers fold into the projection's own batch state in memory; the projection reads and writes
its rows once per batch around them, so a batch of 5,000 events still costs a few statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from events.catalogue import CATALOGUE, Catalogue, Event
from projections.base import LogEvent

E = TypeVar("E", bound=Event, covariant=True)
C1 = TypeVar("C1", bound=Event)
C2 = TypeVar("C2", bound=Event)
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Recorded(Generic[E]):
    """A catalogue event, upcast to its current schema, with the envelope of where it is in the
    log (what read-model rows are keyed and ordered by)."""

    event: E
    position: int
    stream_id: str
    stream_type: str
    stream_version: int
    site_id: str | None
    agency_id: str | None
    recorded_at: datetime

    @property
    def entity_id(self) -> str:
        """The stream id less its "<stream type>-" prefix."""
        return self.stream_id.removeprefix(f"{self.stream_type}-")


Handler = Callable[[S, Recorded[Any]], None]
Register = Callable[[Callable[[S, Recorded[C1]], None]], Callable[[S, Recorded[C1]], None]]
"""A decorator that registers a handler of `Recorded[C1]` and returns it unchanged."""
Streams = str | tuple[str, ...]


class Handlers(Generic[S]):
    """A projection's handlers by stream type and event class, folding into a state `S`."""

    def __init__(self, catalogue: Catalogue = CATALOGUE) -> None:
        self.catalogue = catalogue
        self._by_stream: dict[str, dict[str, Handler[S]]] = {}

    @overload
    def on(self, streams: Streams, c1: type[C1], /) -> Register[S, C1]: ...

    @overload
    def on(self, streams: Streams, c1: type[C1], c2: type[C2], /) -> Register[S, C1 | C2]: ...

    @overload
    def on(self, streams: Streams, /, *classes: type[Event]) -> Register[S, Event]: ...

    def on(self, streams: Streams, /, *classes: type[Event]) -> Register[S, Any]:
        """Register the decorated function for each of `classes` in each of `streams` (a stream
        type or several); its argument is typed by the classes it takes."""
        stream_types = (streams,) if isinstance(streams, str) else streams

        def register(fn: Handler[S]) -> Handler[S]:
            for stream_type in stream_types:
                handlers = self._by_stream.setdefault(stream_type, {})
                for cls in classes:
                    name = cls.type_name()
                    if name in handlers:
                        raise ValueError(f"{name} in {stream_type} streams is handled twice")
                    handlers[name] = fn
            return fn

        return register

    def unhandled(self, stream_type: str, classes: Iterable[type[Event]]) -> list[type[Event]]:
        """Those of `classes` with no handler yet in `stream_type` streams (for a projection
        where every event of a stream moves its row, whether or not it changes more)."""
        handled = self._by_stream.get(stream_type, {})
        return [cls for cls in classes if cls.type_name() not in handled]

    @property
    def handles(self) -> frozenset[str]:
        """The event types handled in some stream: the runner's cheap first filter."""
        return frozenset(name for handlers in self._by_stream.values() for name in handlers)

    @property
    def stream_types(self) -> frozenset[str]:
        return frozenset(self._by_stream)

    def decode(self, events: Iterable[LogEvent]) -> list[Recorded[Event]]:
        """The events of the pairs registered, decoded in log order; the rest are skipped."""
        decoded: list[Recorded[Event]] = []
        for event in events:
            if event.type not in self._by_stream.get(event.stream_type, {}):
                continue
            payload = self.catalogue.decode_payload(event.type, event.schema_version, event.data)
            decoded.append(
                Recorded(
                    payload,
                    event.position,
                    event.stream_id,
                    event.stream_type,
                    event.stream_version,
                    event.site_id,
                    event.agency_id,
                    event.recorded_at,
                )
            )
        return decoded

    def by_entity(self, events: Iterable[LogEvent]) -> dict[str, list[Recorded[Event]]]:
        """The decoded events by entity id (`Recorded.entity_id`), each list in log order and
        so in its stream's order (a batch is in commit order)."""
        streams: dict[str, list[Recorded[Event]]] = {}
        for recorded in self.decode(events):
            streams.setdefault(recorded.entity_id, []).append(recorded)
        return streams

    def fold(self, state: S, events: Iterable[Recorded[Event]]) -> S:
        """Each event into `state` by its handler, in the order given."""
        for recorded in events:
            self._by_stream[recorded.stream_type][recorded.event.type_name()](state, recorded)
        return state
