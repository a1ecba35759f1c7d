"""Aggregates: how a kind of stream folds into state, and the helpers the pure deciders share.

Deciders import nothing that does I/O, so tests read "given these events, when this command,
then these events or this error" without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from events.catalogue import Event
from events.domain.required_text import missing_values

S = TypeVar("S")


def fold(evolve: Callable[[S, Event], S], initial: S, events: Iterable[Event]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """What the command pipeline needs to rebuild one kind of stream's state."""

    stream_type: str
    initial: S
    evolve: Callable[[S, Event], S]

    def fold(self, events: Iterable[Event]) -> S:
        return fold(self.evolve, self.initial, events)

    def stream_id(self, entity_id: str) -> str:
        return f"{self.stream_type}-{entity_id}"


def require(fields: dict[str, object]) -> list[str]:
    """The names of the fields that are missing, by the one rule for required values
    (events/domain/required_text.py: None, blank text or an empty collection)."""
    return missing_values(fields)
