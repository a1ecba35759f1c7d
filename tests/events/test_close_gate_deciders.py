"""An incident closes only with the whole review (issue 14, item 7; seed 003's production
checklist): detection gaps, missing evidence and the safeguards that worked and failed are part
of the close gate, beside root cause, prevention owners, regression checks and restart
criteria. Given events, when a command, then events or an error. No database."""

from __future__ import annotations

import pytest

from events.catalogue import Event
from events.domain.incident_events import DetectionGapsRecorded, SafeguardsRecorded
from events.domain.incident_review import decide_record_detection_gaps, decide_record_safeguards
from events.domain.incidents import INCIDENTS, decide_close
from events.errors import GateNotSatisfied
from tests.events.test_incident_deciders import INC, REVIEWED

WITHOUT_FINDINGS: list[Event] = [
    e for e in REVIEWED if not isinstance(e, DetectionGapsRecorded | SafeguardsRecorded)
]
"""Root cause, actions done, regression passed, restart criteria, documentation, escalation."""


def test_the_close_gate_asks_for_gaps_evidence_and_safeguards() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_close(INCIDENTS.fold(WITHOUT_FINDINGS), "sam", "fixed")
    assert err.value.missing == [
        "detection_gaps",
        "missing_evidence",
        "safeguards.worked",
        "safeguards.failed",
    ]


def test_gaps_without_the_missing_evidence_do_not_close() -> None:
    incident = INCIDENTS.fold(WITHOUT_FINDINGS)
    gaps = decide_record_detection_gaps(incident, ["no alert on index age"], [], "sam")
    safeguards = decide_record_safeguards(incident, ["kill switch"], [], "sam")
    with pytest.raises(GateNotSatisfied) as err:
        decide_close(INCIDENTS.fold([*WITHOUT_FINDINGS, *gaps, *safeguards]), "sam", "fixed")
    assert err.value.missing == ["missing_evidence", "safeguards.failed"]


def test_the_whole_review_closes() -> None:
    incident = INCIDENTS.fold(WITHOUT_FINDINGS)
    findings = [
        *decide_record_detection_gaps(
            incident, ["no alert on index age"], ["the first report's transcript"], "sam"
        ),
        *decide_record_safeguards(incident, ["kill switch"], ["price drift check"], "sam"),
    ]
    (closed,) = decide_close(INCIDENTS.fold([*WITHOUT_FINDINGS, *findings]), "sam", "fixed")
    assert closed.incident_id == INC  # type: ignore[attr-defined]
    assert INCIDENTS.fold([*WITHOUT_FINDINGS, *findings, closed]).closed
