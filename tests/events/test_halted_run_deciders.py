"""Nothing runs under a pause or a kill switch (issue 14, item 4): a run requested before its
workflow was paused, or before a kill switch covered its category, is neither approved nor
recorded as a success while either holds; its failure is still recorded (it is evidence).
Given events, when a command, then events or an error. No database."""

from __future__ import annotations

import pytest

from events.catalogue import Event
from events.domain.kill_switches import KillSwitches
from events.domain.runs import RunResult, decide_approve, decide_record_result
from events.domain.workflow_events import RunResultRecorded, WorkflowPaused, WorkflowRevised
from events.domain.workflow_gates import decide_revise_gated
from events.errors import GateNotSatisfied
from tests.events.workflow_fixtures import (
    NOW,
    WF,
    approved,
    definition,
    fold,
    registered,
    requested,
    states,
    switches,
)

OPEN = KillSwitches()
PAUSE = WorkflowPaused(workflow_id=WF, paused_by="dana", reason="odd output")
REQUESTED: list[Event] = [registered(), requested("r1", by="erin")]
APPROVED: list[Event] = [*REQUESTED, approved("r1", "olga"), approved("r1", "omar")]
SUCCESS = RunResult(run_id="r1", outcome="succeeded", affected_records=12, cost=0.4)
FAILURE = RunResult(
    run_id="r1",
    outcome="failed",
    affected_records=3,
    cost=0.1,
    diagnostics="provider returned 500 on post 4",
    notification_sent=True,
)


def test_a_run_requested_before_the_pause_is_not_approved_while_paused() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_approve(*states([*REQUESTED, PAUSE]), "olga", NOW, OPEN)
    assert err.value.missing == ["workflow.resumed"]


@pytest.mark.parametrize(("engaged", "named"), [("content", "content"), ("*", "*")])
def test_a_run_is_not_approved_under_a_kill_switch_of_its_category(
    engaged: str, named: str
) -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_approve(*states(REQUESTED), "olga", NOW, switches(engaged))
    assert err.value.missing == [f"kill_switches.{named}.released"]


def test_a_switch_of_another_category_does_not_stop_the_approval() -> None:
    assert decide_approve(*states(REQUESTED), "olga", NOW, switches("commerce"))


def test_a_success_is_refused_while_paused_and_under_a_switch() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_record_result(*states([*APPROVED, PAUSE]), SUCCESS, "plugin", NOW, switches("*"))
    assert err.value.missing == ["kill_switches.*.released", "workflow.resumed"]


def test_a_failure_is_still_recorded_under_a_switch() -> None:
    changes = decide_record_result(*states(APPROVED), FAILURE, "plugin", NOW, switches("content"))
    (recorded,) = changes.run
    assert isinstance(recorded, RunResultRecorded)
    assert (recorded.outcome, recorded.diagnostics) == ("failed", FAILURE.diagnostics)


def test_a_failure_is_still_recorded_while_paused() -> None:
    changes = decide_record_result(*states([*APPROVED, PAUSE]), FAILURE, "plugin", NOW, OPEN)
    assert [type(e).__name__ for e in changes.events] == ["RunResultRecorded", "FailedRunCounted"]


def test_once_released_and_resumed_the_run_goes_on() -> None:
    assert decide_approve(*states(REQUESTED), "olga", NOW, OPEN)
    changes = decide_record_result(*states(APPROVED), SUCCESS, "plugin", NOW, OPEN)
    assert [type(e).__name__ for e in changes.events] == ["RunResultRecorded"]


def test_a_revision_cannot_move_a_workflow_out_from_under_its_kill_switch() -> None:
    # A probe found it: revising `content` to `billing` made the run approvable under the switch.
    workflow = fold([registered()])
    category = workflow.definition.category
    with pytest.raises(GateNotSatisfied) as err:
        decide_revise_gated(
            workflow, definition(category="billing"), "devon", NOW, switches(category or "")
        )
    assert err.value.missing == [f"kill_switches.{category}.released"]
    with pytest.raises(GateNotSatisfied) as everything:
        decide_revise_gated(workflow, definition(category="billing"), "devon", NOW, switches("*"))
    assert everything.value.missing == ["kill_switches.*.released"]


def test_a_revision_keeping_its_category_or_under_no_covering_switch_is_decided_as_ever() -> None:
    workflow = fold([registered()])
    same = definition(retry_limit=5)
    [kept] = decide_revise_gated(workflow, same, "devon", NOW, switches(same.category or ""))
    assert isinstance(kept, WorkflowRevised)
    assert kept.revision == 2
    [moved] = decide_revise_gated(workflow, definition(category="billing"), "devon", NOW, OPEN)
    assert isinstance(moved, WorkflowRevised)
    assert moved.definition.category == "billing"
    # Into a switched-off category: allowed, the switch then holds it.
    [into] = decide_revise_gated(
        workflow, definition(category="billing"), "devon", NOW, switches("billing")
    )
    assert isinstance(into, WorkflowRevised)
