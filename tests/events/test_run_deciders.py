"""Run, approval, kill switch and site change rules, given events, when a command, then events or
an error. No database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.catalogue import Event
from events.domain.kill_switches import KillSwitches, decide_engage, decide_release
from events.domain.runs import (
    RunResult,
    decide_approve,
    decide_record_result,
    decide_reject,
    decide_request,
    decide_review,
    is_violation,
)
from events.domain.sites import RecordSiteChange, Site, decide_record_change
from events.domain.workflow_events import (
    SYSTEM_ACTOR,
    FailedRunCounted,
    ReviewedSuccessCounted,
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    RunViolationRecorded,
    WorkflowPaused,
)
from events.domain.workflows import decide_revise
from events.errors import Forbidden, GateNotSatisfied, InvalidCommand, NotFound, StateConflict
from tests.events.workflow_fixtures import (
    NOW,
    SITE,
    WF,
    approved,
    definition,
    fold,
    registered,
    requested,
    result,
    states,
    switches,
)

REQUESTED = [registered(), requested("r1", by="erin")]
SUCCESS = RunResult(run_id="r1", outcome="succeeded", affected_records=12, cost=0.4)
FAILURE = RunResult(
    run_id="r1",
    outcome="failed",
    affected_records=0,
    cost=0.1,
    diagnostics="provider timeout",
    notification_sent=True,
)

OPEN = KillSwitches()
"""No kill switch engaged on the site."""


def test_a_run_records_the_revision_mode_and_approvals_it_needs() -> None:
    (event,) = decide_request(*states([registered()], "r1"), "r1", "erin", switches())
    assert isinstance(event, RunRequested)
    assert (event.revision, event.environment, event.read_only) == (1, "staging", True)
    assert event.approvals_required == 2


def test_a_run_id_is_used_once() -> None:
    with pytest.raises(StateConflict):
        decide_request(*states(REQUESTED, "r1"), "r1", "erin", switches())


def test_no_run_can_be_requested_while_a_kill_switch_covers_its_category() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_request(*states([registered()], "r1"), "r1", "erin", switches("content", "*"))
    assert err.value.missing == ["kill_switches.content.released", "kill_switches.*.released"]


def test_a_kill_switch_of_another_category_does_not_stop_the_run() -> None:
    assert decide_request(*states([registered()], "r1"), "r1", "erin", switches("commerce"))


def test_no_run_can_be_requested_while_the_workflow_is_paused() -> None:
    paused = [registered(), WorkflowPaused(workflow_id=WF, paused_by="dana", reason="odd")]
    with pytest.raises(GateNotSatisfied) as err:
        decide_request(*states(paused, "r1"), "r1", "erin", switches())
    assert err.value.missing == ["workflow.resumed"]


def test_the_requester_can_never_approve_their_own_run() -> None:
    with pytest.raises(Forbidden):
        decide_approve(*states(REQUESTED, "r1"), "erin", NOW, OPEN)


def test_an_approval_is_for_the_current_revision_and_expires_after_24_hours() -> None:
    (event,) = decide_approve(*states(REQUESTED, "r1"), "olga", NOW, OPEN)
    assert isinstance(event, RunApproved)
    assert event.revision == 1
    assert event.expires_at - event.approved_at == timedelta(hours=24)


def test_approvals_must_come_from_distinct_people() -> None:
    with pytest.raises(StateConflict):
        decide_approve(*states([*REQUESTED, approved("r1", "olga")], "r1"), "olga", NOW, OPEN)


def test_a_run_with_all_its_approvals_takes_no_more() -> None:
    given = [*REQUESTED, approved("r1", "olga"), approved("r1", "omar")]
    with pytest.raises(StateConflict):
        decide_approve(*states(given, "r1"), "oscar", NOW, OPEN)


def test_an_expired_approval_can_be_given_again() -> None:
    given = [*REQUESTED, approved("r1", "olga", at=NOW - timedelta(hours=25))]
    assert decide_approve(*states(given, "r1"), "olga", NOW, OPEN)


def test_a_run_that_neither_writes_nor_contacts_customers_needs_no_approval() -> None:
    given = [registered(writes_data=False, approvals_required=0), requested("r1")]
    with pytest.raises(StateConflict):
        decide_approve(*states(given, "r1"), "olga", NOW, OPEN)
    (recorded,) = decide_record_result(*states(given), SUCCESS, "plugin", NOW, OPEN).events
    assert isinstance(recorded, RunResultRecorded)


def test_a_run_that_contacts_customers_needs_its_approvals() -> None:
    given = [registered(writes_data=False, contacts_customers=True), requested("r1")]
    assert is_violation(decide_record_result(*states(given), SUCCESS, "plugin", NOW, OPEN))


def test_an_unknown_run_is_not_found() -> None:
    with pytest.raises(NotFound):
        decide_approve(*states([registered()], "nope"), "olga", NOW, OPEN)


def test_rejecting_needs_a_reason() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_reject(*states(REQUESTED, "r1"), "olga", " ")
    assert err.value.missing == ["reason"]


def test_a_rejected_run_cannot_be_approved() -> None:
    (rejected,) = decide_reject(*states(REQUESTED, "r1"), "olga", "wrong input scope")
    assert isinstance(rejected, RunRejected)
    with pytest.raises(StateConflict):
        decide_approve(*states([*REQUESTED, rejected], "r1"), "omar", NOW, OPEN)


def test_a_write_run_with_its_distinct_approvals_records_its_result() -> None:
    given = [*REQUESTED, approved("r1", "olga"), approved("r1", "omar")]
    (recorded,) = decide_record_result(*states(given), SUCCESS, "plugin", NOW, OPEN).events
    assert isinstance(recorded, RunResultRecorded)
    with pytest.raises(StateConflict):
        decide_record_result(*states([*given, recorded]), SUCCESS, "plugin", NOW, OPEN)


def test_a_write_run_without_its_approvals_records_a_violation_and_pauses() -> None:
    given = [*REQUESTED, approved("r1", "olga")]
    violation, pause = decide_record_result(*states(given), SUCCESS, "plugin", NOW, OPEN).events
    assert isinstance(violation, RunViolationRecorded)
    assert violation.missing == ["approvals"]
    assert isinstance(pause, WorkflowPaused)
    assert (pause.paused_by, pause.automatic, pause.failed_runs) == (SYSTEM_ACTOR, True, ["r1"])
    assert states([*given, violation, pause])[1].outcome is None


def test_expired_approvals_do_not_count() -> None:
    given = [*REQUESTED, approved("r1", "olga"), approved("r1", "omar")]
    later = NOW + timedelta(hours=24, seconds=1)
    assert is_violation(decide_record_result(*states(given), SUCCESS, "plugin", later, OPEN))


def test_approvals_of_an_earlier_revision_do_not_count() -> None:
    given = [*REQUESTED, approved("r1", "olga"), approved("r1", "omar")]
    revised = decide_revise(fold(given), definition(trigger="hourly"), "devon", NOW)
    assert is_violation(
        decide_record_result(*states([*given, *revised]), SUCCESS, "plugin", NOW, OPEN)
    )


def test_a_rejected_run_reporting_a_result_is_a_violation() -> None:
    given = [*REQUESTED, *decide_reject(*states(REQUESTED), "olga", "wrong scope")]
    events = decide_record_result(*states(given), SUCCESS, "plugin", NOW, OPEN).events
    assert events[0].missing == ["run.not_rejected"]  # type: ignore[attr-defined]


def test_a_failed_run_needs_diagnostics_and_a_notification() -> None:
    given = [*REQUESTED, approved("r1", "olga"), approved("r1", "omar")]
    bare = FAILURE.model_copy(update={"diagnostics": None, "notification_sent": False})
    with pytest.raises(InvalidCommand) as err:
        decide_record_result(*states(given), bare, "plugin", NOW, OPEN)
    assert err.value.missing == ["diagnostics", "notification_sent"]


def _failed_run(run_id: str) -> list[Event]:
    return [requested(run_id), approved(run_id, "olga"), approved(run_id, "omar")]


def test_failures_reaching_the_retry_limit_pause_the_workflow_as_the_system() -> None:
    given = [
        registered(retry_limit=3),
        *_failed_run("f1"),
        result("f1", "failed"),
        *_failed_run("f2"),
        result("f2", "failed"),
        *_failed_run("f3"),
    ]
    recorded, counted, pause = decide_record_result(
        *states(given, "f3"),
        FAILURE.model_copy(update={"run_id": "f3"}),
        "plugin",
        NOW,
        OPEN,
    ).events
    assert isinstance(recorded, RunResultRecorded)
    assert isinstance(counted, FailedRunCounted)
    assert isinstance(pause, WorkflowPaused)
    assert pause.paused_by == SYSTEM_ACTOR
    assert pause.failed_runs == ["f1", "f2", "f3"]
    assert "retry limit of 3" in pause.reason


def test_a_success_resets_the_failure_count() -> None:
    given = [
        registered(retry_limit=2),
        *_failed_run("f1"),
        result("f1", "failed"),
        *_failed_run("s1"),
        result("s1"),
        *_failed_run("f2"),
    ]
    events = decide_record_result(
        *states(given, "f2"),
        FAILURE.model_copy(update={"run_id": "f2"}),
        "plugin",
        NOW,
        OPEN,
    ).events
    assert [type(e).__name__ for e in events] == ["RunResultRecorded", "FailedRunCounted"]


def test_a_run_is_reviewed_after_its_result_and_once() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_review(*states(REQUESTED, "r1"), "olga", "fine")
    assert err.value.missing == ["result"]
    given = [*REQUESTED, result("r1")]
    review, counted = decide_review(*states(given, "r1"), "olga", "fine").events
    assert isinstance(counted, ReviewedSuccessCounted), "a reviewed success counts"
    with pytest.raises(StateConflict):
        decide_review(*states([*given, review], "r1"), "olga", "fine")


def test_engaging_a_kill_switch_needs_a_reason_but_no_approval() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_engage(KillSwitches(), SITE, "content", "sam", "")
    assert err.value.missing == ["reason"]
    (engaged,) = decide_engage(KillSwitches(), SITE, "content", "sam", "provider outage")
    assert engaged.category == "content"  # type: ignore[attr-defined]


def test_a_kill_switch_is_engaged_once_and_released_once() -> None:
    with pytest.raises(StateConflict):
        decide_engage(switches("*"), SITE, "*", "sam", "again")
    (released,) = decide_release(switches("*"), SITE, "*", "sam", (), "diagnostics clean")
    assert released.category == "*"  # type: ignore[attr-defined]
    with pytest.raises(StateConflict):
        decide_release(switches(), SITE, "*", "sam", (), "diagnostics clean")


REGISTERED_SITE = Site(site_id=SITE)


@pytest.mark.parametrize(
    ("kind", "asked", "pauses"),
    [
        ("hosting", None, True),
        ("provider", None, True),
        ("plugin", None, True),
        ("other", None, False),
        ("other", True, True),
        ("other", False, False),
    ],
)
def test_a_site_change_pauses_automation_by_the_pause_rule(
    kind: str, asked: bool | None, pauses: bool
) -> None:
    cmd = RecordSiteChange.model_validate(
        {"kind": kind, "summary": "moved to new host", "pause_automation": asked}
    )
    (event,) = decide_record_change(REGISTERED_SITE, cmd)
    assert event.pauses_automation is pauses  # type: ignore[attr-defined]


def test_a_site_change_needs_a_summary() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_record_change(REGISTERED_SITE, RecordSiteChange(kind="plugin", summary=""))
    assert err.value.missing == ["summary"]
