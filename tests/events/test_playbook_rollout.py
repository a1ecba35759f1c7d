"""Playbook rollout rules of the agency-reuse SOP (import, localise, first run, approval,
promotion), given events, when a command, then events or an error. No database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from events.catalogue import Event
from events.domain.playbook_events import (
    PlaybookFirstRunRecorded,
    PlaybookImported,
    PlaybookPromoted,
    PlaybookPromotionApproved,
)
from events.domain.playbook_format import content_hash
from events.domain.playbook_rollout import (
    decide_approve_promotion,
    decide_complete_local_change,
    decide_import,
    decide_promote,
    decide_record_first_run,
)
from events.domain.playbooks import (
    Playbook,
    RegisterPlaybook,
    decide_register,
    decide_revise,
)
from events.errors import GateNotSatisfied, InvalidCommand, NotFound, StateConflict
from tests.events.playbook_fixtures import (
    ASSUMES,
    CONTENT,
    IMPORTED,
    PB,
    REGISTERED,
    SOURCE,
    content,
    exported,
    first_run,
    fold,
    import_cmd,
    localised,
    ready,
    register_cmd,
)


def test_an_import_starts_in_staging_read_only_with_its_provenance_and_local_changes() -> None:
    (event,) = IMPORTED
    assert isinstance(event, PlaybookImported)
    state = fold(IMPORTED)
    assert (state.environment, state.read_only, state.version, state.imported) == (
        "staging", True, 1, True,
    )  # fmt: skip
    assert state.provenance is not None
    assert (state.provenance.source_site, state.provenance.kid) == (SOURCE, "ledger-1")
    assert state.lineage == content_hash(CONTENT)
    assert [(c.change_id, c.action) for c in state.local_changes] == [
        ("provider", "adapt"),
        ("product_language", "confirm"),
    ]
    assert (state.owner, state.defined_by) == ("omar", "omar")


def test_importing_the_same_content_into_the_same_site_twice_appends_nothing() -> None:
    assert decide_import(fold(IMPORTED), import_cmd()) == []
    assert decide_import(fold(ready(IMPORTED)), import_cmd(actor="priya")) == []


def test_an_older_version_never_replaces_a_newer_import() -> None:
    v2 = content(assumptions={**ASSUMES, "coupon_rules": "no-stacking"})
    revised = [*REGISTERED, *decide_revise(fold(REGISTERED), v2, "dana")]
    newer = decide_import(Playbook(), import_cmd(exported(revised, "exp-2")))
    with pytest.raises(StateConflict):
        decide_import(fold(newer), import_cmd(exported(REGISTERED)))


def test_the_imported_version_again_keeps_a_local_revision() -> None:
    local = content(description="localised for the florist")
    revised = [*IMPORTED, *decide_revise(fold(IMPORTED), local, "omar")]
    assert decide_import(fold(revised), import_cmd()) == []


def test_import_ids_are_reserved() -> None:
    squat = RegisterPlaybook(
        playbook_id="imp-0123", site_id=SOURCE, owner="eve", content=CONTENT, actor="eve"
    )
    with pytest.raises(InvalidCommand) as err:
        decide_register(Playbook(), squat)
    assert err.value.missing == ["playbook_id"]


def test_a_new_version_of_the_same_lineage_is_imported_back_into_staging() -> None:
    promoted = [*ready(IMPORTED), *decide_promote(fold(ready(IMPORTED)), "priya")]
    v2 = content(assumptions={**ASSUMES, "coupon_rules": "no-stacking"})
    revised = [*REGISTERED, *decide_revise(fold(REGISTERED), v2, "dana")]
    reimported = [*promoted, *decide_import(fold(promoted), import_cmd(exported(revised, "exp-2")))]
    state = fold(reimported)
    assert (state.version, state.environment, state.read_only) == (2, "staging", True)
    assert (state.first_run, state.promotion_approvals) == (None, ())
    assert state.lineage == content_hash(CONTENT)
    assert state.content_hash == content_hash(v2)
    assert state.open_local_changes() == ["provider", "product_language", "coupon_rules"]


def test_an_import_of_another_lineage_or_into_another_playbook_is_a_conflict() -> None:
    other = decide_register(Playbook(), register_cmd(content(name="Another playbook")))
    with pytest.raises(StateConflict):
        decide_import(fold(IMPORTED), import_cmd(exported(other)))
    with pytest.raises(StateConflict):
        decide_import(fold(IMPORTED), import_cmd(site_id="another-client"))
    with pytest.raises(StateConflict):
        decide_import(fold(REGISTERED), import_cmd(playbook_id=PB))


def test_an_import_is_refused_when_its_content_or_hash_does_not_hold() -> None:
    cmd = import_cmd(owner=" ")
    tampered = cmd.document.model_copy(update={"content": content(steps=[])})
    with pytest.raises(InvalidCommand) as err:
        decide_import(Playbook(), cmd.model_copy(update={"document": tampered}))
    assert err.value.missing == [
        "owner",
        "content.steps",
        "content.approval_boundaries.steps_requiring_approval[0]",
        "provenance.content_hash",
    ]


def test_local_changes_are_completed_once_and_only_when_known() -> None:
    with pytest.raises(NotFound):
        decide_complete_local_change(fold(IMPORTED), "coupon_rules", "omar")
    done = [*IMPORTED, *decide_complete_local_change(fold(IMPORTED), "provider", "omar", "keys")]
    assert fold(done).open_local_changes() == ["product_language"]
    with pytest.raises(StateConflict):
        decide_complete_local_change(fold(done), "provider", "omar")


def test_a_first_run_in_production_writes_is_refused() -> None:
    local = fold(localised(IMPORTED))
    with pytest.raises(GateNotSatisfied) as err:
        decide_record_first_run(local, first_run(environment="production", read_only=False))
    assert err.value.missing == ["first_run.staging_or_read_only"]
    events = decide_record_first_run(local, first_run(environment="production"))
    assert fold([*localised(IMPORTED), *events]).first_run is not None


def test_the_first_run_comes_after_the_local_changes() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_record_first_run(fold(IMPORTED), first_run())
    assert err.value.missing == [
        "local_changes.provider.done",
        "local_changes.product_language.done",
    ]


def test_an_approval_comes_after_a_successful_first_run() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_approve_promotion(fold(localised(IMPORTED)), "priya")
    assert err.value.missing == ["first_run.succeeded"]


def test_a_first_run_needs_a_summary_and_is_recorded_once() -> None:
    local = localised(IMPORTED)
    with pytest.raises(InvalidCommand) as err:
        decide_record_first_run(fold(local), first_run().model_copy(update={"summary": " "}))
    assert err.value.missing == ["summary"]
    ran = [*local, *decide_record_first_run(fold(local), first_run())]
    with pytest.raises(StateConflict):
        decide_record_first_run(fold(ran), first_run())


def test_the_author_of_a_version_cannot_approve_it_and_no_one_approves_twice() -> None:
    local = localised(IMPORTED)
    ran = [*local, *decide_record_first_run(fold(local), first_run())]
    with pytest.raises(GateNotSatisfied) as err:
        decide_approve_promotion(fold(ran), "omar")
    assert err.value.missing == ["promotion_approval.second_person"]
    approved = [*ran, *decide_approve_promotion(fold(ran), "priya")]
    with pytest.raises(StateConflict):
        decide_approve_promotion(fold(approved), "priya")


def test_promotion_is_refused_with_the_full_list_of_what_is_missing() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold(IMPORTED), "priya")
    assert err.value.missing == [
        "first_run.succeeded",
        "local_changes.provider.done",
        "local_changes.product_language.done",
        "promotion_approval",
    ]


def test_a_later_failed_first_run_undoes_an_earlier_success() -> None:
    failed = decide_record_first_run(fold(ready(IMPORTED)), first_run(False, run_id="run-2"))
    with pytest.raises(GateNotSatisfied) as err:
        decide_promote(fold([*ready(IMPORTED), *failed]), "priya")
    assert err.value.missing == ["first_run.succeeded"]


def test_a_first_run_or_approval_of_another_version_does_not_count() -> None:
    old = "sha256:" + "0" * 64
    stale: list[Event] = [
        PlaybookFirstRunRecorded.model_validate(
            {"playbook_id": "imp-1", "run_id": "r0", "content_hash": old, "succeeded": True,
             "environment": "staging", "read_only": True, "summary": "v0", "recorded_by": "omar"}
        ),
        PlaybookPromotionApproved(playbook_id="imp-1", approved_by="priya", content_hash=old),
    ]  # fmt: skip
    state = fold([*IMPORTED, *stale])
    assert (state.first_run, state.promotion_approvals) == (None, ())


def test_a_ready_import_is_promoted_to_production() -> None:
    (event,) = decide_promote(fold(ready(IMPORTED)), "priya")
    assert isinstance(event, PlaybookPromoted)
    state = fold([*ready(IMPORTED), event])
    assert (state.environment, state.read_only) == ("production", False)


@pytest.mark.parametrize(
    "decide",
    [
        lambda p: decide_promote(p, "priya"),
        lambda p: decide_record_first_run(p, first_run(run_id="run-9")),
        lambda p: decide_approve_promotion(p, "sam"),
    ],
    ids=["promote", "first_run", "approve"],
)
def test_a_playbook_in_production_refuses_rollout_steps(
    decide: Callable[[Playbook], list[Event]],
) -> None:
    promoted = [*ready(IMPORTED), *decide_promote(fold(ready(IMPORTED)), "priya")]
    with pytest.raises(StateConflict):
        decide(fold(promoted))
