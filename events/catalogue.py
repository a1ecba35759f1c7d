"""The catalogue of event types: pydantic models with a type name, schema version and severity.

Old payloads are never rewritten (the table is append-only); upcasters turn them into the current
schema when they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from events.envelope import NewEvent, StoredEvent, inexact_numbers, jcs_is_sorted_dumps
from events.errors import InvalidCommand


class Severity(StrEnum):
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    CRITICAL = "critical"


class Event(BaseModel):
    """Base of every domain event. Subclasses are named in the past tense: RunApproved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1
    severity: ClassVar[Severity] = Severity.INFO

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__


E = TypeVar("E", bound=type[Event])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    pass


class Catalogue:
    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def event(self, cls: E) -> E:
        """Class decorator that enters an event type in the catalogue."""
        name = cls.type_name()
        if name in self._types:
            raise ValueError(f"event type {name} is registered twice")
        self._types[name] = cls
        return cls

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function that lifts a payload from `from_version` to `from_version + 1`."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(type_name, from_version)] = fn
            return fn

        return register

    def __iter__(self) -> Iterator[type[Event]]:
        return iter(sorted(self._types.values(), key=lambda cls: cls.type_name()))

    def get(self, type_name: str) -> type[Event]:
        try:
            return self._types[type_name]
        except KeyError:
            raise UnknownEventType(type_name) from None

    def to_new_event(self, event: Event, metadata: dict[str, Any]) -> NewEvent:
        cls = type(event)
        data = event.model_dump(mode="json")
        if not jcs_is_sorted_dumps(data):  # only then can a number be out of range
            inexact = inexact_numbers(data)
            if inexact:
                raise InvalidCommand(
                    "numbers must be finite and within +/-(2^53 - 1) to be kept exactly",
                    missing=inexact,
                )
        return NewEvent(
            type=cls.type_name(),
            schema_version=cls.schema_version,
            data=data,
            metadata=metadata,
        )

    def decode(self, stored: StoredEvent) -> Event:
        return self.decode_payload(stored.type, stored.schema_version, stored.data)

    def decode_payload(self, type_name: str, schema_version: int, data: dict[str, Any]) -> Event:
        """A stored payload as its event class, upcast from `schema_version` to the current."""
        cls = self.get(type_name)
        payload, version = dict(data), schema_version
        while version < cls.schema_version:
            payload = self._upcasters[(type_name, version)](payload)
            version += 1
        return cls.model_validate(payload)


CATALOGUE = Catalogue()
"""The one catalogue every domain module registers its events in."""
