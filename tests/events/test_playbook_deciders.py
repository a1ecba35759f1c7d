"""Playbook rules of the agency-reuse SOP (register, revise, export), given events, when a
command, then events or an error. No database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from events.catalogue import CATALOGUE, Event
from events.domain.playbook_events import (
    PlaybookRegistered,
)
from events.domain.playbook_format import content_hash
from events.domain.playbook_rollout import (
    decide_approve_promotion,
    decide_complete_local_change,
    decide_promote,
    decide_record_first_run,
)
from events.domain.playbooks import (
    Playbook,
    decide_export,
    decide_register,
    decide_revise,
)
from events.errors import GateNotSatisfied, InvalidCommand, NotFound, StateConflict
from tests.events.playbook_fixtures import (
    CONTENT,
    NOW,
    REGISTERED,
    content,
    first_run,
    fold,
    ready,
    register_cmd,
)


def test_every_playbook_event_is_catalogued_in_the_past_tense() -> None:
    names = {cls.type_name() for cls in CATALOGUE}
    assert {"PlaybookRegistered", "PlaybookImported", "LocalChangeCompleted"} <= names
    assert {"PlaybookFirstRunRecorded", "PlaybookPromotionApproved", "PlaybookPromoted"} <= names
    assert all(name.endswith("ed") for name in names)


def test_a_playbook_without_its_content_is_refused_with_what_is_missing() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_register(Playbook(), register_cmd(content(name=" ", steps=[]), owner=""))
    assert err.value.missing == [
        "owner",
        "name",
        "steps",
        "approval_boundaries.steps_requiring_approval[0]",
    ]


def test_steps_inputs_and_approval_boundaries_are_checked_one_by_one() -> None:
    steps = [
        {"step_id": "a", "title": "A", "prompt_template": "p", "writes_data": True},
        {"step_id": "a", "title": " ", "prompt_template": "p"},
        {"step_id": "", "title": "C", "prompt_template": ""},
    ]
    inputs = [{"name": "x", "type": "choice"}, {"name": "x", "type": "string"}]
    boundaries = {"approvals_required": 0, "steps_requiring_approval": ["a", "ghost"]}
    body = content(steps=steps, inputs=inputs, approval_boundaries=boundaries)
    with pytest.raises(InvalidCommand) as err:
        decide_register(Playbook(), register_cmd(body))
    assert err.value.missing == [
        "steps[1].step_id",
        "steps[1].title",
        "steps[2].step_id",
        "steps[2].prompt_template",
        "inputs[0].choices",
        "inputs[1].name",
        "approval_boundaries.steps_requiring_approval[1]",
        "approval_boundaries.approvals_required",
    ]


def test_a_playbook_registers_in_staging_read_only_as_version_1_of_its_own_lineage() -> None:
    (event,) = REGISTERED
    assert isinstance(event, PlaybookRegistered)
    state = fold(REGISTERED)
    assert (state.environment, state.read_only, state.version) == ("staging", True, 1)
    assert state.content_hash == state.lineage == content_hash(CONTENT)
    assert not state.imported
    assert state.provenance is None


def test_a_playbook_is_registered_once() -> None:
    with pytest.raises(StateConflict):
        decide_register(fold(REGISTERED), register_cmd())


@pytest.mark.parametrize(
    "decide",
    [
        lambda p: decide_revise(p, CONTENT, "dana"),
        lambda p: decide_export(p, "exp-1", "dana", NOW, "ledger-1"),
        lambda p: decide_complete_local_change(p, "provider", "omar"),
        lambda p: decide_record_first_run(p, first_run()),
        lambda p: decide_approve_promotion(p, "priya"),
        lambda p: decide_promote(p, "priya"),
    ],
    ids=["revise", "export", "local_change", "first_run", "approve", "promote"],
)
def test_commands_on_an_unknown_playbook_are_not_found(
    decide: Callable[[Playbook], list[Event]],
) -> None:
    with pytest.raises(NotFound):
        decide(Playbook())


def test_a_revision_is_a_new_version_back_in_staging_without_first_run_or_approvals() -> None:
    promoted = [*ready(REGISTERED), *decide_promote(fold(ready(REGISTERED)), "priya")]
    assert fold(promoted).environment == "production"
    revised = [*promoted, *decide_revise(fold(promoted), content(name="Refund triage v2"), "dana")]
    state = fold(revised)
    assert (state.version, state.environment, state.read_only) == (2, "staging", True)
    assert (state.first_run, state.promotion_approvals) == (None, ())
    assert state.lineage == content_hash(CONTENT) != state.content_hash
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(state, "priya")
    assert err.value.missing == ["first_run.succeeded", "promotion_approval"]


def test_a_revision_needs_full_and_changed_content() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_revise(fold(REGISTERED), content(steps=[]), "dana")
    assert err.value.missing == ["steps", "approval_boundaries.steps_requiring_approval[0]"]
    with pytest.raises(StateConflict):
        decide_revise(fold(REGISTERED), content(), "dana")


def test_an_export_is_recorded_once_per_export_id() -> None:
    exported = [*REGISTERED, *decide_export(fold(REGISTERED), "exp-1", "dana", NOW, "ledger-1")]
    assert fold(exported).export_ids == ("exp-1",)
    with pytest.raises(StateConflict):
        decide_export(fold(exported), "exp-1", "dana", NOW, "ledger-1")
