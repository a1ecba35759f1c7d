"""The one dispatch from the log to read models: typed, upcast events, and only those of the
stream types a projection handles (no database: a log event is a plain record)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from events.catalogue import Catalogue, Event
from events.domain.workflow_events import RunApproved
from projections.base import LogEvent
from projections.dispatch import Handlers, Recorded

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
APPROVAL = {
    "workflow_id": "wf",
    "run_id": "r1",
    "approved_by": "olga",
    "revision": 1,
    "approved_at": AT.isoformat(),
    "expires_at": AT.isoformat(),
}


def logged(stream_type: str, type_name: str, data: dict[str, Any], version: int = 1) -> LogEvent:
    return LogEvent(
        7, 1, f"{stream_type}-x", stream_type, 1, "site", None, type_name, version, AT,
        json.dumps(data), "{}",
    )  # fmt: skip


def test_only_the_stream_types_a_projection_handles_are_decoded() -> None:
    handlers: Handlers[list[str]] = Handlers()

    @handlers.on("run", RunApproved)
    def approved(seen: list[str], recorded: Recorded[RunApproved]) -> None:
        seen.append(recorded.event.approved_by)

    given = [
        logged("gen", "RunApproved", {"n": 1}),  # the name, in another stream: not the event
        logged("run", "RunApproved", APPROVAL),
        logged("run", "RunRejected", {"n": 2}),  # not handled: never decoded
    ]
    decoded = handlers.decode(given)
    assert [type(r.event) for r in decoded] == [RunApproved]
    assert (decoded[0].position, decoded[0].entity_id) == (7, "x")
    assert handlers.fold([], decoded) == ["olga"]
    assert handlers.handles == {"RunApproved"}


def test_handlers_receive_the_current_schema_through_the_catalogues_upcasters() -> None:
    catalogue = Catalogue()

    @catalogue.event
    class ThingCounted(Event):
        schema_version: ClassVar[int] = 2
        count: int
        unit: str

    @catalogue.upcaster("ThingCounted", 1)
    def _unit_added(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "unit": "pieces"}

    handlers: Handlers[list[tuple[int, str]]] = Handlers(catalogue)

    @handlers.on("thing", ThingCounted)
    def counted(seen: list[tuple[int, str]], recorded: Recorded[ThingCounted]) -> None:
        seen.append((recorded.event.count, recorded.event.unit))

    old, new = {"count": 3}, {"count": 4, "unit": "kg"}
    given = [logged("thing", "ThingCounted", old, 1), logged("thing", "ThingCounted", new, 2)]
    assert handlers.fold([], handlers.decode(given)) == [(3, "pieces"), (4, "kg")]


def test_a_pair_is_handled_once() -> None:
    handlers: Handlers[None] = Handlers()
    handlers.on("run", RunApproved)(lambda _, __: None)
    with pytest.raises(ValueError, match="handled twice"):
        handlers.on(("workflow", "run"), RunApproved)(lambda _, __: None)
