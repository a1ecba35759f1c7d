"""The projection benchmark's log: a payload of every event type that its type accepts, so a
new event type or field cannot make `make bench` stop at its projections part."""

from __future__ import annotations

from bench.history import payloads
from events.catalogue import CATALOGUE
from events.domain import load_all


def test_every_event_type_has_a_payload_it_validates() -> None:
    load_all()
    found = payloads()
    assert set(found) == {cls.type_name() for cls in CATALOGUE}
    for name, (version, payload) in found.items():
        cls = CATALOGUE.get(name)
        assert version == cls.schema_version
        assert cls.model_validate(payload) is not None
