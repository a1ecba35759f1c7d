"""Restart is a decision with reasons (issue 14, item 6; seed 003, "Restart decision"): resuming
a workflow, paused by hand or automatically, and releasing a kill switch need a reason; resuming
work an incident paused needs its prevention actions, a passed regression check, its restart
criteria confirmed met and a documentation change. Given events, when a command, then events or
an error. No database."""

from __future__ import annotations

import pytest

from events.catalogue import Event
from events.domain.incident_events import (
    DocumentationChangeRecorded,
    IncidentReopened,
    RestartCriteriaDefined,
)
from events.domain.incident_links import decide_note_resume
from events.domain.incidents import INCIDENTS, Incident
from events.domain.kill_switches import KillSwitches, decide_release
from events.domain.workflow_events import SYSTEM_ACTOR, WorkflowPaused, WorkflowResumed
from events.domain.workflow_gates import decide_resume
from events.errors import GateNotSatisfied, InvalidCommand
from tests.events.test_incident_deciders import (
    INC,
    action_added,
    completed,
    opened,
    regression,
)
from tests.events.workflow_fixtures import WF, fold, registered, switches

OPEN = KillSwitches()
MANUAL = WorkflowPaused(workflow_id=WF, paused_by="dana", reason="odd output")
AUTOMATIC = WorkflowPaused(
    workflow_id=WF, paused_by=SYSTEM_ACTOR, reason="3 failures", automatic=True, failed_runs=["a"]
)
PREVENTED: list[Event] = [opened(), action_added(), completed(), regression()]
CRITERIA = RestartCriteriaDefined(incident_id=INC, criteria="eval set passes twice", defined_by="s")
DOCUMENTED = DocumentationChangeRecorded(
    incident_id=INC, area="runbook", description="reindex step", recorded_by="sam"
)


def incident(*events: Event) -> Incident:
    return INCIDENTS.fold(events)


@pytest.mark.parametrize("pause", [MANUAL, AUTOMATIC], ids=["manual", "automatic"])
@pytest.mark.parametrize("reason", [None, "", "  "])
def test_resuming_needs_a_reason_whoever_paused(pause: WorkflowPaused, reason: str | None) -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_resume(fold([registered(), pause]), "olga", reason, OPEN)
    assert err.value.missing == ["reason"]


def test_releasing_a_kill_switch_needs_a_reason() -> None:
    for reason in (None, "", "\t"):
        with pytest.raises(InvalidCommand) as err:
            decide_release(switches("content"), "acme-shop", "content", "olga", [], reason)
        assert err.value.missing == ["reason"]


LINKED = [registered(), MANUAL]


def test_prevention_and_a_passed_check_are_not_enough_to_restart() -> None:
    """The symptom stopped, the actions are done: still no restart criteria, no documented
    change, and nobody has confirmed the criteria are met."""
    with pytest.raises(GateNotSatisfied) as err:
        decide_resume(fold(LINKED), "olga", "symptom gone", OPEN, [incident(*PREVENTED)], [INC])
    assert err.value.missing == [
        f"incidents.{INC}.restart_criteria",
        f"incidents.{INC}.documentation_change",
    ]


def test_the_restart_criteria_must_be_confirmed_met() -> None:
    reviewed = incident(*PREVENTED, CRITERIA, DOCUMENTED)
    with pytest.raises(GateNotSatisfied) as err:
        decide_resume(fold(LINKED), "olga", "review done", OPEN, [reviewed])
    assert err.value.missing == [f"incidents.{INC}.restart_criteria.met"]
    (resumed,) = decide_resume(fold(LINKED), "olga", "review done", OPEN, [reviewed], [INC])
    assert isinstance(resumed, WorkflowResumed)
    assert (resumed.reason, resumed.restart_criteria_met) == ("review done", [INC])


def test_only_a_linked_incident_can_be_confirmed() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_resume(fold(LINKED), "olga", "done", OPEN, [], ["inc-other"])
    assert err.value.missing == ["restart_criteria_met[0]"]


def test_the_incident_records_the_criteria_confirmed_with_the_resume() -> None:
    reviewed = [*PREVENTED, CRITERIA, DOCUMENTED]
    with pytest.raises(GateNotSatisfied):
        decide_note_resume(incident(*reviewed), WF, "olga", "done", criteria_met=False)
    (noted,) = decide_note_resume(incident(*reviewed), WF, "olga", "done", criteria_met=True)
    assert noted.restart_criteria == "eval set passes twice"  # type: ignore[attr-defined]
    assert noted.reason == "done"  # type: ignore[attr-defined]
    # Resumed past this incident once: a later pause has reasons of its own.
    after = incident(*reviewed, noted)
    assert after.resume_blockers(WF, criteria_met=False) == []
    # A recurrence undoes the restart decision: a new regression check and confirmation.
    reopened = IncidentReopened(incident_id=INC, reopened_by="sam", reason="again")
    assert incident(*reviewed, noted, reopened).resume_blockers(WF, criteria_met=False) == [
        f"incidents.{INC}.regression_check.passed",
        f"incidents.{INC}.restart_criteria.met",
    ]
