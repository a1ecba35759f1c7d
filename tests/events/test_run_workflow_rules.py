"""The rules that span a run and its workflow, on the two streams as they are now kept: given
the workflow stream's events and the run stream's, when a command, then what each stream gets.
No database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.catalogue import Event
from events.domain.kill_switches import KillSwitches
from events.domain.promotion import decide_promote
from events.domain.run_state import Run, run_aggregate
from events.domain.runs import (
    RunResult,
    decide_approve,
    decide_record_result,
    decide_request,
    decide_review,
)
from events.domain.sites import SiteFacts
from events.domain.workflow_events import (
    FailedRunCounted,
    FailuresCleared,
    ReviewedSuccessCounted,
    RunResultRecorded,
    RunReviewed,
    RunViolationRecorded,
    WorkflowPaused,
)
from events.domain.workflows import Workflow, decide_revise
from events.errors import GateNotSatisfied, StateConflict
from tests.events.workflow_fixtures import (
    NOW,
    WF,
    approved,
    definition,
    fold,
    registered,
    requested,
    result,
    reviewed,
    switches,
)

SITE_FACTS = SiteFacts(rollback_path="restore the nightly backup")
SUCCESS = RunResult(run_id="r1", outcome="succeeded", affected_records=3, cost=0.1)
FAILURE = RunResult(
    run_id="r1",
    outcome="failed",
    affected_records=0,
    cost=0.1,
    diagnostics="timeout",
    notification_sent=True,
)

OPEN = KillSwitches()
"""No kill switch engaged on the site."""


def given(workflow: list[Event], run: list[Event]) -> tuple[Workflow, Run]:
    """The workflow's stream and one run's stream, each folded on its own."""
    return fold(workflow), run_aggregate(Run()).fold(run)


def counted_failure(run_id: str) -> FailedRunCounted:
    return FailedRunCounted(workflow_id=WF, run_id=run_id, revision=1)


def counted_review(run_id: str) -> ReviewedSuccessCounted:
    return ReviewedSuccessCounted(workflow_id=WF, run_id=run_id, revision=1)


APPROVED_TWICE = [requested("r1"), approved("r1", "olga"), approved("r1", "omar")]


def test_a_run_is_requested_in_its_own_stream_for_the_workflows_current_revision() -> None:
    workflow, run = given([registered()], [])
    (event,) = decide_request(workflow, run, "r1", "erin", switches())
    assert event == requested("r1")


def test_no_run_is_requested_while_the_workflow_is_paused_or_a_kill_switch_covers_it() -> None:
    paused = WorkflowPaused(workflow_id=WF, paused_by="dana", reason="odd")
    workflow, run = given([registered(), paused], [])
    with pytest.raises(GateNotSatisfied) as err:
        decide_request(workflow, run, "r1", "erin", switches("content"))
    assert err.value.missing == ["kill_switches.content.released", "workflow.resumed"]


def test_an_approval_is_for_the_workflows_current_revision() -> None:
    (revised,) = decide_revise(fold([registered()]), definition(trigger="hourly"), "devon", NOW)
    workflow, run = given([registered(), revised], [requested("r1")])
    (event,) = decide_approve(workflow, run, "olga", NOW, OPEN)
    assert event.revision == 2  # type: ignore[attr-defined]


def test_approvals_of_an_earlier_revision_no_longer_let_a_run_record_its_result() -> None:
    (revised,) = decide_revise(fold([registered()]), definition(trigger="hourly"), "devon", NOW)
    workflow, run = given([registered(), revised], APPROVED_TWICE)
    changes = decide_record_result(workflow, run, SUCCESS, "plugin", NOW, OPEN)
    assert [type(e) for e in changes.run] == [RunViolationRecorded]
    assert [type(e) for e in changes.workflow] == [WorkflowPaused]


def test_an_expired_approval_does_not_count() -> None:
    workflow, run = given([registered()], APPROVED_TWICE)
    later = NOW + timedelta(hours=24, seconds=1)
    changes = decide_record_result(workflow, run, SUCCESS, "plugin", later, OPEN)
    assert [type(e) for e in changes.run] == [RunViolationRecorded]


def test_a_failure_counts_in_the_workflow_stream() -> None:
    workflow, run = given([registered(retry_limit=3)], APPROVED_TWICE)
    changes = decide_record_result(workflow, run, FAILURE, "plugin", NOW, OPEN)
    assert [type(e) for e in changes.run] == [RunResultRecorded]
    assert changes.workflow == [counted_failure("r1")]


def test_the_failure_reaching_the_retry_limit_pauses_the_workflow() -> None:
    before = [registered(retry_limit=3), counted_failure("f1"), counted_failure("f2")]
    workflow, run = given(before, APPROVED_TWICE)
    changes = decide_record_result(workflow, run, FAILURE, "plugin", NOW, OPEN)
    counted, pause = changes.workflow
    assert counted == counted_failure("r1")
    assert isinstance(pause, WorkflowPaused)
    assert (pause.automatic, pause.failed_runs) == (True, ["f1", "f2", "r1"])


def test_a_success_clears_the_failure_streak_and_only_then_touches_the_workflow() -> None:
    workflow, run = given([registered(), counted_failure("f1")], APPROVED_TWICE)
    changes = decide_record_result(workflow, run, SUCCESS, "plugin", NOW, OPEN)
    assert changes.workflow == [FailuresCleared(workflow_id=WF, run_id="r1", revision=1)]
    cleared = fold([registered(), counted_failure("f1"), *changes.workflow])
    assert cleared.failure_streak == ()
    workflow, run = given([registered()], APPROVED_TWICE)
    assert decide_record_result(workflow, run, SUCCESS, "plugin", NOW, OPEN).workflow == []


def test_a_reviewed_success_counts_towards_promotion_until_enough() -> None:
    workflow, run = given([registered()], [*APPROVED_TWICE, result("r1")])
    changes = decide_review(workflow, run, "olga", "fine")
    assert [type(e) for e in changes.run] == [RunReviewed]
    assert changes.workflow == [counted_review("r1")]
    enough = [registered(), counted_review("a"), counted_review("b"), counted_review("c")]
    workflow, run = given(enough, [*APPROVED_TWICE, result("r1")])
    assert decide_review(workflow, run, "olga", "fine").workflow == [], "three are enough"


def test_a_reviewed_failure_does_not_count() -> None:
    workflow, run = given([registered()], [*APPROVED_TWICE, result("r1", "failed")])
    assert decide_review(workflow, run, "olga", "fine").workflow == []


def test_promotion_reads_the_reviewed_successes_from_the_workflow_stream_alone() -> None:
    two = [registered(), counted_review("a"), counted_review("b")]
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold(two), "olga", "go", SITE_FACTS)
    assert err.value.missing == ["runs.successful_reviewed"]
    (promoted,) = decide_promote(fold([*two, counted_review("c")]), "olga", "go", SITE_FACTS)
    assert promoted.successful_runs == ["a", "b", "c"]  # type: ignore[attr-defined]


def test_promotion_waits_for_a_success_after_the_revisions_last_failure() -> None:
    reviewed_three = [registered(), *(counted_review(r) for r in "abc")]
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold([*reviewed_three, counted_failure("d")]), "olga", "go", SITE_FACTS)
    assert err.value.missing == ["runs.success_after_last_failure"]


def test_a_revision_starts_the_promotion_count_again() -> None:
    three = [registered(), *(counted_review(r) for r in "abc")]
    (revised,) = decide_revise(fold(three), definition(trigger="hourly"), "devon", NOW)
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold([*three, revised]), "olga", "go", SITE_FACTS)
    assert err.value.missing == ["runs.successful_reviewed"]


def test_a_run_id_is_used_once() -> None:
    workflow, run = given([registered()], [requested("r1")])
    with pytest.raises(StateConflict):
        decide_request(workflow, run, "r1", "erin", switches())


def test_old_and_new_shapes_fold_to_the_same_workflow_counts() -> None:
    """The previous version kept runs inside the workflow stream; both shapes must count the
    same failures and reviewed successes."""
    old = fold(
        [
            registered(),
            *APPROVED_TWICE,
            result("r1"),
            reviewed("r1"),
            requested("f1"),
            result("f1", "failed"),
        ]
    )
    new = fold([registered(), counted_review("r1"), counted_failure("f1")])
    assert (old.reviewed_successes, old.failure_streak, old.last_outcome_in_revision) == (
        new.reviewed_successes,
        new.failure_streak,
        new.last_outcome_in_revision,
    )
