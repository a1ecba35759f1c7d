"""The catalogue: one entry per type name, and upcasters that lift old payloads on read."""

from __future__ import annotations

import uuid
from typing import ClassVar

import pytest

from events.catalogue import CATALOGUE, Catalogue, Event, Severity
from events.domain import load_all
from events.envelope import GENESIS_HASH, StoredEvent, utc_now


def stored(type_: str, schema_version: int, data: dict[str, object]) -> StoredEvent:
    now = utc_now()
    return StoredEvent(
        position=1, transaction_id=1, event_id=uuid.uuid4(), stream_id="s-1", stream_type="s",
        stream_version=1, site_id=None, agency_id=None, type=type_,
        schema_version=schema_version, data=data, metadata={}, occurred_at=now,
        recorded_at=now, prev_hash=GENESIS_HASH, hash=GENESIS_HASH,
    )  # fmt: skip


def test_old_payloads_are_upcast_when_read() -> None:
    catalogue = Catalogue()

    @catalogue.event
    class RunApproved(Event):
        schema_version: ClassVar[int] = 3
        severity: ClassVar[Severity] = Severity.NOTICE
        approved_by: str
        revision: int

    @catalogue.upcaster("RunApproved", from_version=1)
    def rename_approver(data: dict[str, object]) -> dict[str, object]:
        return {"approved_by": data["approver"]}

    @catalogue.upcaster("RunApproved", from_version=2)
    def add_revision(data: dict[str, object]) -> dict[str, object]:
        return {**data, "revision": 1}

    event = catalogue.decode(stored("RunApproved", 1, {"approver": "olu"}))
    assert event == RunApproved(approved_by="olu", revision=1)
    current = catalogue.to_new_event(event, {"actor": "olu"})
    assert current.schema_version == 3
    assert current.data == {"approved_by": "olu", "revision": 1}
    with pytest.raises(ValueError, match="registered twice"):
        catalogue.event(RunApproved)


def test_every_catalogued_type_is_past_tense_and_has_a_severity() -> None:
    load_all()
    for cls in CATALOGUE:
        assert cls.type_name().endswith("ed"), cls
        assert isinstance(cls.severity, Severity)


def test_readme_publishes_the_catalogue() -> None:
    from pathlib import Path

    from events.domain import catalogue_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert catalogue_markdown() in readme, "run `python -m events.domain` and paste the table"
