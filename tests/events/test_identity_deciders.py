"""One person is one identity (issue 14, items 1 and 2): every "another person" rule compares
subjects in one normalised form, and the requester's own review never counts towards promotion.
Given events, when a command, then events or an error. No database."""

from __future__ import annotations

import pytest

from events.catalogue import Event
from events.domain.identity import distinct_people, identity_key, same_person
from events.domain.kill_switches import KillSwitches
from events.domain.playbook_rollout import (
    decide_approve_promotion,
    decide_record_first_run,
    missing_for_promotion,
)
from events.domain.promotion import decide_promote
from events.domain.promotion import missing_for_promotion as workflow_gate
from events.domain.runs import decide_approve, decide_review
from events.domain.sites import SiteFacts
from events.domain.workflow_events import RunApproved, RunReviewed
from events.domain.workflows import decide_pause
from events.errors import Forbidden, GateNotSatisfied, StateConflict
from tests.events.playbook_fixtures import IMPORTED, localised
from tests.events.playbook_fixtures import first_run as playbook_first_run
from tests.events.playbook_fixtures import fold as fold_playbook
from tests.events.workflow_fixtures import (
    NOW,
    WF,
    approved,
    fold,
    registered,
    requested,
    result,
    states,
)

OPEN = KillSwitches()
SITE_WITH_ROLLBACK = SiteFacts(rollback_path="restore the nightly backup")
VARIANTS = ["Erin", "ERIN", " erin ", "\uff45\uff52\uff49\uff4e", "er\u200bin", "e\u0301rin"]
"""Case, surrounding space, full-width letters, a zero-width space: all of them are erin. The
last one (an accent) is another name, and stays another person."""


def test_one_normalised_form_names_one_person() -> None:
    assert {identity_key(v) for v in VARIANTS[:5]} == {"erin"}
    assert not same_person("e\u0301rin", "erin")
    assert same_person("Stra\u00dfe@Acme.example", "strasse@acme.example")
    assert not same_person(None, "erin")
    assert distinct_people(["Olga", "olga", "omar", "OLGA "]) == ["Olga", "omar"]


@pytest.mark.parametrize("variant", VARIANTS[:5])
def test_a_case_variant_of_the_requester_cannot_approve_the_run(variant: str) -> None:
    with pytest.raises(Forbidden) as err:
        decide_approve(*states([registered(), requested("r1", by="erin")]), variant, NOW, OPEN)
    assert err.value.missing == ["approval.second_person"]


def test_an_approval_by_a_variant_of_the_requester_never_counts() -> None:
    # An approval already in the log (recorded before this rule) by "ERIN" for erin's run.
    given = [registered(), requested("r1", by="erin"), approved("r1", "ERIN")]
    workflow, run = states(given)
    assert workflow.valid_approvers(run, NOW) == []


def test_an_approver_counts_once_whatever_the_case() -> None:
    given = [registered(), requested("r1", by="erin"), approved("r1", "olga")]
    with pytest.raises(StateConflict):
        decide_approve(*states(given), "OLGA", NOW, OPEN)
    two = [*given, approved("r1", "Olga")]
    workflow, run = states(two)
    assert workflow.valid_approvers(run, NOW) == ["olga"]


def test_the_approval_records_the_subject_as_given() -> None:
    (event,) = decide_approve(*states([registered(), requested("r1")]), "Olga@Acme", NOW, OPEN)
    assert isinstance(event, RunApproved)
    assert event.approved_by == "Olga@Acme"


def _promotable() -> list[Event]:
    events: list[Event] = [registered()]
    for run in ("a", "b", "c"):
        events += [
            requested(run, by="erin"),
            approved(run, "olga"),
            approved(run, "omar"),
            result(run),
            RunReviewed(workflow_id=WF, run_id=run, reviewed_by="olga", summary="ok"),
        ]
    return events


@pytest.mark.parametrize("promoter", ["DEVON", "Dana", " dana "])
def test_neither_the_definer_nor_the_owner_promotes_in_another_case(promoter: str) -> None:
    # registered(): owner "dana", defined by "devon"
    workflow = fold(_promotable())
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(workflow, promoter, "go", SITE_WITH_ROLLBACK)
    assert err.value.missing == ["approval.second_person"]


def test_the_owner_pauses_their_workflow_in_any_case() -> None:
    (paused,) = decide_pause(fold([registered()]), "DANA", ["editor"], "odd output")
    assert paused.paused_by == "DANA"  # type: ignore[attr-defined]
    with pytest.raises(Forbidden):
        decide_pause(fold([registered()]), "dan", ["editor"], "odd output")


def test_the_importer_cannot_approve_their_own_import_in_another_case() -> None:
    ran = localised(IMPORTED)  # imported by "omar"
    ran += decide_record_first_run(fold_playbook(ran), playbook_first_run())
    for variant in ("OMAR", "Omar ", "\uff4f\uff4d\uff41\uff52"):
        with pytest.raises(GateNotSatisfied) as err:
            decide_approve_promotion(fold_playbook(ran), variant)
        assert err.value.missing == ["promotion_approval.second_person"]
    approved_by_priya = [*ran, *decide_approve_promotion(fold_playbook(ran), "priya")]
    with pytest.raises(StateConflict):
        decide_approve_promotion(fold_playbook(approved_by_priya), "PRIYA")
    assert missing_for_promotion(fold_playbook(approved_by_priya)) == []


def test_a_requesters_own_review_does_not_count_towards_promotion() -> None:
    given = [registered(), requested("r1", by="erin"), approved("r1"), approved("r1", "omar")]
    given.append(result("r1"))
    changes = decide_review(*states(given), "Erin", "looks fine to me")
    assert [type(e).__name__ for e in changes.run] == ["RunReviewed"]
    assert changes.workflow == [], "recorded, but it counts for nothing"
    counted = decide_review(*states(given), "olga", "checked 12 posts")
    assert [type(e).__name__ for e in counted.workflow] == ["ReviewedSuccessCounted"]


def test_old_shape_streams_do_not_count_a_requesters_review_either() -> None:
    events: list[Event] = [registered()]
    for run in ("a", "b", "c"):
        events += [requested(run, by="erin"), approved(run, "olga"), approved(run, "omar")]
        events += [result(run)]
        events += [RunReviewed(workflow_id=WF, run_id=run, reviewed_by="ERIN", summary="mine")]
    workflow = fold(events)
    assert workflow.reviewed_successes == ()
    assert "runs.successful_reviewed" in workflow_gate(workflow, "priya", SITE_WITH_ROLLBACK)
