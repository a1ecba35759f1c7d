"""Post-incident review rules of the SOP, given events, when a command, then events or an error.
No database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import JsonValue

from events.catalogue import CATALOGUE, Event
from events.domain.incident_events import (
    DetectionGapsRecorded,
    DocumentationChangeRecorded,
    EscalationDecided,
    EvidenceRecorded,
    IncidentClosed,
    IncidentFacts,
    IncidentOpened,
    LinkedWork,
    MaskedValue,
    PreventionActionAdded,
    PreventionActionCompleted,
    RegressionCheckRecorded,
    RestartCriteriaDefined,
    RootCauseRecorded,
    SafeguardsRecorded,
    SupportHandoffCreated,
)
from events.domain.incident_review import (
    AddPreventionAction,
    decide_add_prevention_action,
    decide_complete_prevention_action,
    decide_create_handoff,
    decide_define_restart_criteria,
    decide_record_detection_gaps,
    decide_record_documentation_change,
    decide_record_regression_check,
    decide_record_root_cause,
    decide_record_safeguards,
)
from events.domain.incidents import (
    INCIDENTS,
    Incident,
    OpenIncidentCommand,
    decide_close,
    decide_escalate,
    decide_open,
    decide_record_evidence,
    decide_reopen,
)
from events.errors import Forbidden, GateNotSatisfied, InvalidCommand, NotFound, StateConflict

INC = "inc-7"
FACTS: dict[str, Any] = {
    "severity": "high",
    "summary": "product answers quote last year's prices",
    "occurred_at": datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC),
    "affected_user": "shop-manager-2",
    "affected_screen": "SophMate > Chat panel",
    "sophmate_version": "3.4.1",
    "wordpress_version": "6.7",
    "php_version": "8.2",
    "reproduction_steps": "ask the chat panel for the price of SKU 118",
}


def fold(events: Iterable[Event]) -> Incident:
    return INCIDENTS.fold(events)


def opened(**links: tuple[str, ...]) -> IncidentOpened:
    return IncidentOpened(
        incident_id=INC,
        site_id="acme-shop",
        opened_by="sam",
        facts=IncidentFacts(**FACTS),
        linked=LinkedWork(**links),
    )


def action_added(action_id: str = "a1", owner: str = "priya") -> PreventionActionAdded:
    return PreventionActionAdded(
        incident_id=INC,
        action_id=action_id,
        kind="source_correction",
        description="reindex the price source nightly",
        owner=owner,
        due_on=date(2026, 12, 1),
        added_by="sam",
    )


def completed(action_id: str = "a1") -> PreventionActionCompleted:
    return PreventionActionCompleted(incident_id=INC, action_id=action_id, completed_by="priya")


def regression(passed: bool = True) -> RegressionCheckRecorded:
    return RegressionCheckRecorded(
        incident_id=INC, passed=passed, description="price eval set", recorded_by="omar"
    )


REVIEWED: list[Event] = [
    opened(workflows=("nightly-seo",)),
    RootCauseRecorded(incident_id=INC, root_cause="stale price index", recorded_by="sam"),
    DetectionGapsRecorded(
        incident_id=INC,
        gaps=["no alert on index age"],
        missing_evidence=["the chat transcript of the first report"],
        recorded_by="sam",
    ),
    SafeguardsRecorded(
        incident_id=INC, worked=["kill switch"], failed=["price drift check"], recorded_by="sam"
    ),
    action_added(),
    completed(),
    regression(),
    RestartCriteriaDefined(incident_id=INC, criteria="eval set passes twice", defined_by="sam"),
    DocumentationChangeRecorded(
        incident_id=INC, area="runbook", description="reindex step", recorded_by="sam"
    ),
    EscalationDecided(
        incident_id=INC, target="internal_operations", reason="our index", decided_by="sam"
    ),
]
CLOSED = [*REVIEWED, IncidentClosed(incident_id=INC, closed_by="sam", summary="fixed")]


def open_command(**facts: Any) -> OpenIncidentCommand:
    return OpenIncidentCommand(
        incident_id=INC,
        site_id="acme-shop",
        facts=IncidentFacts(**facts),
        linked=LinkedWork(workflows=("nightly-seo",), panels=("chat",)),
        actor="sam",
    )


def add(**overrides: Any) -> AddPreventionAction:
    fields = {
        "action_id": "a2",
        "kind": "alert_tuning",
        "description": "alert on stale index",
        "owner": "omar",
        "due_on": date(2026, 12, 5),
        "actor": "sam",
        **overrides,
    }
    return AddPreventionAction.model_validate(fields)


def test_every_incident_event_is_catalogued_in_the_past_tense() -> None:
    names = {cls.type_name() for cls in CATALOGUE}
    assert {"IncidentOpened", "EscalationDecided", "SupportHandoffCreated"} <= names
    assert all(name.endswith("ed") for name in names)


def test_an_incident_without_its_exact_facts_is_refused_with_what_is_missing() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_open(Incident(), open_command(severity="high", summary="  "))
    assert err.value.missing == [
        "summary",
        "occurred_at",
        "affected_user",
        "affected_screen",
        "sophmate_version",
        "wordpress_version",
        "php_version",
        "reproduction_steps",
    ]


def test_an_incident_opens_with_its_facts_and_linked_work() -> None:
    (event,) = decide_open(Incident(), open_command(**FACTS))
    state = fold([event])
    assert state.facts.severity == "high"
    assert state.linked.workflows == ("nightly-seo",)
    assert state.linked.panels == ("chat",)
    assert not state.closed


def test_an_incident_is_opened_once() -> None:
    with pytest.raises(StateConflict):
        decide_open(fold([opened()]), open_command(**FACTS))


def test_commands_on_an_unknown_incident_are_not_found() -> None:
    with pytest.raises(NotFound):
        decide_record_root_cause(Incident(), "stale index", "sam")


def test_evidence_is_recorded_as_given_with_where_it_was_masked() -> None:
    content: JsonValue = {"error": "401 from provider", "key": "[REDACTED:openai_key]"}
    masked = [MaskedValue(pointer="/key", kind="openai_key")]
    (event,) = decide_record_evidence(fold([opened()]), "e1", content, "sam", masked)
    assert isinstance(event, EvidenceRecorded)
    assert (event.content, event.masked) == (content, masked)
    assert fold([opened(), event]).evidence_ids == ("e1",)


def test_evidence_needs_content_and_is_recorded_once() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_record_evidence(fold([opened()]), "e1", "", "sam")
    assert err.value.missing == ["content"]
    (first,) = decide_record_evidence(fold([opened()]), "e1", "timeout at 14:03", "sam")
    with pytest.raises(StateConflict):
        decide_record_evidence(fold([opened(), first]), "e1", "again", "sam")


def test_an_escalation_decision_needs_its_reason() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_escalate(fold([opened()]), "hosting", " ", "sam")
    assert err.value.missing == ["reason"]
    events = decide_escalate(fold([opened()]), "codecanyon_support", "plugin bug", "sam")
    assert fold([opened(), *events]).escalation == "codecanyon_support"


@pytest.mark.parametrize(
    ("decide", "missing"),
    [
        (lambda i: decide_record_root_cause(i, "", "sam"), ["root_cause"]),
        (lambda i: decide_record_detection_gaps(i, [" "], [], "sam"), ["gaps"]),
        (lambda i: decide_record_safeguards(i, [], [], "sam"), ["safeguards"]),
        (lambda i: decide_record_regression_check(i, True, "", "sam"), ["description"]),
        (lambda i: decide_define_restart_criteria(i, "", "sam"), ["criteria"]),
        (lambda i: decide_record_documentation_change(i, "prompt", "", "sam"), ["description"]),
    ],
    ids=["root_cause", "detection_gaps", "safeguards", "regression", "restart", "documentation"],
)
def test_review_records_need_their_content(
    decide: Callable[[Incident], list[Event]], missing: list[str]
) -> None:
    with pytest.raises(InvalidCommand) as err:
        decide(fold([opened()]))
    assert err.value.missing == missing


def test_safeguards_keep_which_worked_and_which_failed() -> None:
    events = decide_record_safeguards(fold([opened()]), ["rate limit"], ["price alert"], "sam")
    state = fold([opened(), *events])
    assert (state.safeguards_worked, state.safeguards_failed) == (("rate limit",), ("price alert",))


def test_detection_gaps_are_recorded_with_the_missing_evidence() -> None:
    events = decide_record_detection_gaps(fold([opened()]), ["no alert"], ["raw prompt"], "sam")
    assert fold([opened(), *events]).detection_gaps == ("no alert",)


def test_a_prevention_action_needs_an_owner_and_a_description() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_add_prevention_action(fold([opened()]), add(owner=" ", description=""))
    assert err.value.missing == ["description", "owner"]


def test_a_prevention_action_id_is_used_once() -> None:
    with pytest.raises(StateConflict):
        decide_add_prevention_action(fold([opened(), action_added()]), add(action_id="a1"))


def test_completing_needs_a_known_and_open_action() -> None:
    with pytest.raises(NotFound):
        decide_complete_prevention_action(fold([opened()]), "a9", "priya", ())
    with pytest.raises(StateConflict):
        decide_complete_prevention_action(
            fold([opened(), action_added(), completed()]), "a1", "priya", ()
        )


def test_only_the_owner_or_a_reviewer_completes_an_action() -> None:
    given = fold([opened(), action_added("a1")])
    owner = given.prevention_actions[0].owner
    with pytest.raises(Forbidden):
        decide_complete_prevention_action(given, "a1", "someone-else", ("editor",))
    assert decide_complete_prevention_action(given, "a1", owner, ())
    assert decide_complete_prevention_action(given, "a1", "lead", ("support_lead",))


def test_close_is_refused_with_the_full_list_of_what_is_missing() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_close(fold([opened()]), "sam", "symptom gone")
    assert err.value.missing == [
        "root_cause",
        "detection_gaps",
        "missing_evidence",
        "safeguards.worked",
        "safeguards.failed",
        "prevention_actions",
        "regression_check.passed",
        "restart_criteria",
        "documentation_change",
        "escalation",
    ]


def test_close_is_refused_while_a_prevention_action_is_open() -> None:
    given = [*REVIEWED, action_added("a2", owner="omar")]
    with pytest.raises(GateNotSatisfied) as err:
        decide_close(fold(given), "sam", "fixed")
    assert err.value.missing == ["prevention_actions[1].completed"]


def test_close_is_refused_after_a_failed_regression_check() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_close(fold([*REVIEWED, regression(passed=False)]), "sam", "fixed")
    assert err.value.missing == ["regression_check.passed"]


def test_a_reviewed_incident_closes() -> None:
    events = decide_close(fold(REVIEWED), "sam", "fixed")
    assert fold([*REVIEWED, *events]).closed


@pytest.mark.parametrize(
    "decide",
    [
        lambda i: decide_record_root_cause(i, "another cause", "sam"),
        lambda i: decide_record_evidence(i, "e2", "late log", "sam"),
        lambda i: decide_escalate(i, "hosting", "retry", "sam"),
        lambda i: decide_add_prevention_action(i, add()),
        lambda i: decide_record_regression_check(i, False, "rerun", "sam"),
        lambda i: decide_close(i, "sam", "again"),
        lambda i: decide_create_handoff(i, "h1", "sam", ["summary"], "ab" * 32),
    ],
    ids=["root_cause", "evidence", "escalation", "prevention", "regression", "close", "handoff"],
)
def test_a_closed_incident_refuses_changes(decide: Callable[[Incident], list[Event]]) -> None:
    with pytest.raises(StateConflict):
        decide(fold(CLOSED))


def test_reopening_needs_a_reason_and_a_closed_incident() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_reopen(fold(CLOSED), "sam", "")
    assert err.value.missing == ["reason"]
    with pytest.raises(StateConflict):
        decide_reopen(fold(REVIEWED), "sam", "prices wrong again")


def test_a_reopened_incident_takes_changes_again() -> None:
    reopened = [*CLOSED, *decide_reopen(fold(CLOSED), "sam", "prices wrong again")]
    assert not fold(reopened).closed
    assert decide_add_prevention_action(fold(reopened), add())


def test_restart_blockers_name_the_open_actions_and_the_regression_check() -> None:
    assert fold([opened()]).restart_blockers() == [
        f"incidents.{INC}.prevention_actions",
        f"incidents.{INC}.regression_check.passed",
        f"incidents.{INC}.restart_criteria",
        f"incidents.{INC}.documentation_change",
    ]
    given = [opened(), action_added("a1"), action_added("a2"), completed("a1")]
    assert fold(given).restart_blockers() == [
        f"incidents.{INC}.prevention_actions.a2.completed",
        f"incidents.{INC}.regression_check.passed",
        f"incidents.{INC}.restart_criteria",
        f"incidents.{INC}.documentation_change",
    ]
    assert fold(REVIEWED).restart_blockers() == []
    assert fold(CLOSED).restart_blockers() == []


def test_a_handoff_needs_an_escalation_decision() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_create_handoff(fold([opened()]), "h1", "sam", ["summary"], "ab" * 32)
    assert err.value.missing == ["escalation"]


def test_a_handoff_records_what_was_shared_with_whom_and_the_hash() -> None:
    evidence = EvidenceRecorded(incident_id=INC, evidence_id="e1", recorded_by="sam", content="x")
    escalated = EscalationDecided(
        incident_id=INC, target="provider_support", reason="429s", decided_by="sam"
    )
    (event,) = decide_create_handoff(
        fold([opened(), evidence, escalated]), "h1", "sam", ["summary", "versions"], "ab" * 32
    )
    assert isinstance(event, SupportHandoffCreated)
    assert (event.shared_with, event.evidence_ids) == ("provider_support", ["e1"])
    assert event.report_sha256 == "ab" * 32
