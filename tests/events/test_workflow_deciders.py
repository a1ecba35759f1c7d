"""Workflow rules of the workflow-safety SOP, given events, when a command, then events or an
error. No database."""

from __future__ import annotations

import pytest

from events.domain.promotion import decide_promote
from events.domain.sites import SiteFacts
from events.domain.workflow_events import WorkflowDefinition, WorkflowPaused, WorkflowRegistered
from events.domain.workflow_gates import decide_resume, resume_blockers
from events.domain.workflows import (
    RegisterWorkflow,
    Workflow,
    decide_pause,
    decide_register,
    decide_revise,
)
from events.errors import Forbidden, GateNotSatisfied, InvalidCommand, StateConflict
from tests.events.workflow_fixtures import (
    DEFINITION,
    NOW,
    SITE,
    WF,
    approved,
    approved_success,
    definition,
    fold,
    registered,
    requested,
    result,
    switches,
)

SITE_WITH_ROLLBACK = SiteFacts(rollback_path="restore the nightly backup")


def register(definition: WorkflowDefinition, **asked: object) -> RegisterWorkflow:
    return RegisterWorkflow.model_validate(
        {"workflow_id": WF, "site_id": SITE, "definition": definition, "actor": "devon", **asked}
    )


def test_a_workflow_without_its_definition_is_refused_with_what_is_missing() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_register(Workflow(), register(WorkflowDefinition(owner="dana", category="content")))
    assert err.value.missing == [
        "trigger",
        "input_scope",
        "expected_output",
        "writes_data",
        "contacts_customers",
        "approvals_required",
        "retry_limit",
        "notification_path",
        "pause_rule",
        "rollback_path",
    ]


def test_a_workflow_that_writes_needs_at_least_one_approver() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_register(Workflow(), register(definition(approvals_required=0)))
    assert err.value.missing == ["approvals_required"]


def test_every_workflow_starts_in_staging_and_read_only_whatever_was_asked() -> None:
    (event,) = decide_register(
        Workflow(), register(definition(), environment="production", read_only=False)
    )
    assert isinstance(event, WorkflowRegistered)
    assert (event.environment, event.read_only) == ("staging", True)
    assert (event.asked_environment, event.asked_read_only) == ("production", False)
    state = fold([event])
    assert (state.environment, state.read_only, state.revision) == ("staging", True, 1)


def test_a_workflow_is_registered_once() -> None:
    with pytest.raises(StateConflict):
        decide_register(fold([registered()]), register(definition()))


def test_a_revision_needs_the_full_definition() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_revise(fold([registered()]), definition(pause_rule=""), "devon", NOW)
    assert err.value.missing == ["pause_rule"]


def test_a_revision_invalidates_pending_approvals() -> None:
    given = [registered(), requested("r1"), approved("r1", "olga")]
    (revised,) = decide_revise(fold(given), definition(trigger="hourly"), "devon", NOW)
    assert revised.invalidated_approvals == ["r1"]  # type: ignore[attr-defined]
    state = fold([*given, revised])
    assert state.revision == 2
    assert state.valid_approvers(state.legacy_runs["r1"], NOW) == []


def test_a_revision_returns_a_promoted_workflow_to_staging() -> None:
    given = [registered(), *(e for r in ("a", "b", "c") for e in approved_success(r))]
    state = fold(given)
    (promoted,) = decide_promote(state, "olga", "three clean runs", SITE_WITH_ROLLBACK)
    (revised,) = decide_revise(fold([*given, promoted]), definition(), "devon", NOW)
    after = fold([*given, promoted, revised])
    assert (after.environment, after.read_only) == ("staging", True)


def test_pausing_needs_a_reason() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_pause(fold([registered()]), "dana", [], "  ")
    assert err.value.missing == ["reason"]


def test_the_owner_may_pause_without_a_lead_role() -> None:
    (event,) = decide_pause(fold([registered()]), "dana", ["editor"], "odd output")
    assert isinstance(event, WorkflowPaused)
    assert event.paused_by == "dana"


def test_operations_leads_and_administrators_may_pause_any_workflow() -> None:
    for role in ("operations_lead", "administrator"):
        assert decide_pause(fold([registered()]), "olga", [role], "provider change")


def test_nobody_else_may_pause() -> None:
    with pytest.raises(Forbidden):
        decide_pause(fold([registered()]), "erin", ["editor", "developer"], "I think it is odd")


def test_a_paused_workflow_is_not_paused_again() -> None:
    given = [registered(), WorkflowPaused(workflow_id=WF, paused_by="dana", reason="odd")]
    with pytest.raises(StateConflict):
        decide_pause(fold(given), "dana", [], "again")


PAUSED = [registered(), WorkflowPaused(workflow_id=WF, paused_by="dana", reason="odd output")]


def test_resume_is_refused_while_a_kill_switch_covers_the_category() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_resume(fold(PAUSED), "olga", "fixed", switches("content"))
    assert err.value.missing == ["kill_switches.content.released"]


def test_resume_is_refused_while_the_all_categories_switch_is_engaged() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_resume(fold(PAUSED), "olga", "fixed", switches("*", "support"))
    assert err.value.missing == ["kill_switches.*.released"]


def test_resume_is_refused_while_a_linked_incident_has_blockers() -> None:
    class Incident:
        incident_id = "inc-7"

        def resume_blockers(self, workflow_id: str, criteria_met: bool) -> list[str]:
            return ["incidents.inc-7.prevention_actions.a1.completed"]

    class Closed:
        incident_id = "inc-6"

        def resume_blockers(self, workflow_id: str, criteria_met: bool) -> list[str]:
            return []

    blockers = resume_blockers(fold(PAUSED), switches("commerce"), [Incident(), Closed()])
    assert blockers == ["incidents.inc-7.prevention_actions.a1.completed"]


def test_resume_lifts_the_pause() -> None:
    events = decide_resume(fold(PAUSED), "olga", "fixed", switches("commerce"))
    assert fold([*PAUSED, *events]).paused is False


def test_only_a_paused_workflow_resumes() -> None:
    with pytest.raises(StateConflict):
        decide_resume(fold([registered()]), "olga", "fixed", switches())


THREE_CLEAN_RUNS = [registered(), *(e for r in ("a", "b", "c") for e in approved_success(r))]


def test_promotion_lifts_staging_and_read_only() -> None:
    (event,) = decide_promote(fold(THREE_CLEAN_RUNS), "olga", "clean runs", SITE_WITH_ROLLBACK)
    assert event.successful_runs == ["a", "b", "c"]  # type: ignore[attr-defined]
    state = fold([*THREE_CLEAN_RUNS, event])
    assert (state.environment, state.read_only) == ("production", False)
    with pytest.raises(StateConflict):
        decide_promote(state, "olga", "again", SITE_WITH_ROLLBACK)


def test_promotion_needs_the_configured_number_of_reviewed_successes() -> None:
    two_reviewed = [*approved_success("a"), *approved_success("b"), *approved_success("c")[:-1]]
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold([registered(), *two_reviewed]), "olga", "ok", SITE_WITH_ROLLBACK)
    assert err.value.missing == ["runs.successful_reviewed"]
    two_needed = fold([registered(promotion_runs=2), *two_reviewed])
    assert decide_promote(two_needed, "olga", "ok", SITE_WITH_ROLLBACK)


def test_promotion_needs_no_failure_after_the_last_success() -> None:
    failed = [requested("d"), approved("d", "olga"), approved("d", "omar"), result("d", "failed")]
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold([*THREE_CLEAN_RUNS, *failed]), "olga", "ok", SITE_WITH_ROLLBACK)
    assert err.value.missing == ["runs.success_after_last_failure"]


def test_promotion_needs_a_rollback_or_support_path_for_the_site() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold(THREE_CLEAN_RUNS), "olga", "ok", SiteFacts())
    assert err.value.missing == ["site.rollback_path"]
    assert decide_promote(fold(THREE_CLEAN_RUNS), "olga", "ok", SiteFacts(support_path="s@x"))


@pytest.mark.parametrize("promoter", ["dana", "devon"], ids=["owner", "definer"])
def test_promotion_needs_a_second_person(promoter: str) -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold(THREE_CLEAN_RUNS), promoter, "ok", SITE_WITH_ROLLBACK)
    assert err.value.missing == ["approval.second_person"]


def test_a_paused_workflow_is_not_promoted() -> None:
    paused = [*THREE_CLEAN_RUNS, WorkflowPaused(workflow_id=WF, paused_by="dana", reason="x")]
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold(paused), "olga", "ok", SITE_WITH_ROLLBACK)
    assert err.value.missing == ["workflow.resumed"]


def test_runs_of_an_earlier_revision_do_not_count_for_promotion() -> None:
    (revised,) = decide_revise(fold(THREE_CLEAN_RUNS), definition(**DEFINITION), "devon", NOW)
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold([*THREE_CLEAN_RUNS, revised]), "olga", "ok", SITE_WITH_ROLLBACK)
    assert err.value.missing == ["runs.successful_reviewed"]
