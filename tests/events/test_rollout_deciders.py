"""Given these events, when this command, then these events or this refusal: the operator
rollout's gates, with no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.aggregates import fold
from events.catalogue import Event
from events.domain import rollout_access as access
from events.domain import rollout_review as review
from events.domain.rollout import (
    ROLLOUTS,
    SITE_RECORDS,
    Rollout,
    SiteRecord,
    check_status,
    missing_for_readiness,
)
from events.domain.rollout_events import (
    READINESS_CHECKS,
    AccessGranted,
    GrantEnforcementChanged,
    GrantReinstated,
    GrantSuspended,
    ReadinessCheckVerified,
    RepeatedFindingsEscalated,
    ReviewFindingRecorded,
    SopAcknowledged,
    SopContent,
    SopPublished,
)
from events.domain.sites import SiteChangeRecorded, SiteFacts, SiteRegistered
from events.errors import GateNotSatisfied, InvalidCommand, StateConflict
from tests.support import SITE_FACTS

SITE = "acme-shop"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CONTENT = SopContent(
    when_to_ask="Ask Copilot read-only questions about orders and pages.",
    when_to_approve="Approve product copy only for products you own.",
    when_to_reject="Reject copy that promises prices or stock.",
    when_to_escalate="Escalate refund and legal questions to the support lead.",
    when_to_stop="Stop when the kill switch is engaged or output names a customer.",
    examples=("Rewrite the description of product 42 in our tone.",),
    refusal_rules=("Never paste customer e-mails or order numbers.",),
    approval_boundaries=("Editors approve copy, never prices or workflows.",),
    escalation_path="support lead, then the site administrator",
)
REGISTERED = SiteRegistered(site_id=SITE, agency_id=None, facts=SiteFacts(**SITE_FACTS))


def site(*changes: Event) -> SiteRecord:
    return SITE_RECORDS.fold([REGISTERED, *changes])


def hosting_change() -> SiteChangeRecorded:
    return SiteChangeRecorded(
        site_id=SITE, kind="hosting", summary="moved host", pauses_automation=True
    )


def published(topic: str = "product_copy", version: int = 1, **content: Any) -> SopPublished:
    return SopPublished(
        site_id=SITE, role="editor", topic=topic, version=version,  # type: ignore[arg-type]
        content=CONTENT.model_copy(update=content), published_by="dana", change_note="",
    )  # fmt: skip


def acked(subject: str = "erin", topic: str = "product_copy", version: int = 1) -> SopAcknowledged:
    return SopAcknowledged(
        site_id=SITE,
        subject=subject,
        role="editor",
        topic=topic,
        version=version,  # type: ignore[arg-type]
    )


def verified(check: str, seen: int = 0) -> ReadinessCheckVerified:
    return ReadinessCheckVerified(
        site_id=SITE, check=check, verified_by="dana", verified_at=AT,  # type: ignore[arg-type]
        method="test_request", note="curl from the host answered 200", site_changes_seen=seen,
    )  # fmt: skip


def ready() -> list[Event]:
    return [verified(check) for check in READINESS_CHECKS]


def given(*events: Event) -> Rollout:
    return fold(ROLLOUTS.evolve, ROLLOUTS.initial, events)


def publish(rollout: Rollout, content: SopContent = CONTENT, note: str = "") -> list[Event]:
    cmd = access.PublishSop(
        role="editor", topic="product_copy", content=content, change_note=note, actor="dana"
    )
    return access.decide_publish(rollout, site(), cmd)


# SOPs ----------------------------------------------------------------------------------------


def test_an_sop_without_its_parts_is_refused_naming_each() -> None:
    with pytest.raises(InvalidCommand) as err:
        publish(given(), CONTENT.model_copy(update={"when_to_stop": " ", "examples": ("",)}))
    assert err.value.missing == ["content.when_to_stop", "content.examples"]


def test_publishing_again_makes_a_new_version_and_needs_a_change_note() -> None:
    first = publish(given())
    assert [type(e) for e in first] == [SopPublished]
    assert first[0].version == 1  # type: ignore[attr-defined]
    revised = CONTENT.model_copy(update={"when_to_stop": "Stop at any price change."})
    with pytest.raises(InvalidCommand) as err:
        publish(given(*first), revised)
    assert err.value.missing == ["change_note"]
    (second,) = publish(given(*first), revised, note="finding f-1: prices")
    assert isinstance(second, SopPublished)
    assert second.version == 2
    assert publish(given(*first)) == []  # the same content again is already current


# Acknowledgments and grants ------------------------------------------------------------------


def grant(rollout: Rollout, role: str = "editor", record: SiteRecord | None = None) -> list[Event]:
    return access.decide_grant(rollout, record or site(), "erin", role, "dana")


def test_no_grant_before_the_role_has_sops_and_the_site_is_ready() -> None:
    with pytest.raises(GateNotSatisfied) as err:
        grant(given())
    assert err.value.missing == ["sops.editor", *(f"readiness.{c}" for c in READINESS_CHECKS)]


def test_no_grant_before_every_current_sop_is_acknowledged() -> None:
    rollout = given(*ready(), published(), published("support_drafts"), acked())
    with pytest.raises(GateNotSatisfied) as err:
        grant(rollout)
    assert err.value.missing == ["acknowledgments.editor.support_drafts.v1"]
    events = grant(given(*ready(), published(), acked()))
    assert events == [AccessGranted(site_id=SITE, subject="erin", role="editor", granted_by="dana")]


def test_an_administrator_needs_no_readiness_and_a_repeat_grant_is_a_no_op() -> None:
    (granted,) = grant(given(), "administrator")
    assert isinstance(granted, AccessGranted)
    assert grant(given(granted), "administrator") == []


def test_acknowledging_needs_the_role_and_the_current_version() -> None:
    rollout = given(published(), published(version=2))
    with pytest.raises(InvalidCommand) as err:
        access.decide_acknowledge(
            rollout, site(), "erin", ["marketer"], "editor", "product_copy", 2
        )
    assert err.value.missing == ["role"]
    with pytest.raises(StateConflict, match="version 2 is"):
        access.decide_acknowledge(rollout, site(), "erin", ["editor"], "editor", "product_copy", 1)


def test_a_revision_suspends_the_grant_until_the_new_version_is_acknowledged() -> None:
    history = [*ready(), published(), acked()]
    history += grant(given(*history))
    revised = CONTENT.model_copy(update={"when_to_stop": "Stop at any price change."})
    events = publish(given(*history), revised, note="prices")
    assert events[1] == GrantSuspended(
        site_id=SITE, subject="erin", role="editor",
        missing=["acknowledgments.editor.product_copy.v2"],
    )  # fmt: skip
    history += events
    assert given(*history).grant("erin", "editor").status == "suspended"  # type: ignore[union-attr]
    again = access.decide_acknowledge(
        given(*history), site(), "erin", ["editor"], "editor", "product_copy", 2
    )
    assert again == [acked(version=2), GrantReinstated(site_id=SITE, subject="erin", role="editor")]
    assert given(*history, *again).grant("erin", "editor").status == "active"  # type: ignore[union-attr]


def test_revoking_needs_a_reason_and_a_grant() -> None:
    with pytest.raises(StateConflict):
        access.decide_revoke(given(), site(), "erin", "editor", "dana", "left the team")
    (granted,) = grant(given(), "administrator")
    with pytest.raises(InvalidCommand) as err:
        access.decide_revoke(given(granted), site(), "erin", "administrator", "dana", " ")
    assert err.value.missing == ["reason"]


def test_enforcement_on_needs_the_owner_to_hold_a_grant_first() -> None:
    def enforce(rollout: Rollout) -> list[Event]:
        return access.decide_set_enforcement(
            rollout, site(), True, "rollout", "erin", ["administrator"], platform=False
        )

    with pytest.raises(GateNotSatisfied) as err:
        enforce(given())
    assert err.value.missing == ["grants.erin.administrator"]
    (granted,) = grant(given(), "administrator")
    (changed,) = enforce(given(granted))
    assert isinstance(changed, GrantEnforcementChanged)
    assert enforce(given(granted, changed)) == []


# Readiness -----------------------------------------------------------------------------------


def test_an_admin_page_load_is_not_evidence_and_a_note_is_required() -> None:
    with pytest.raises(InvalidCommand) as err:
        review.decide_verify_check(given(), site(), "backups", "admin_page_load", "ok", "d", AT)
    assert err.value.missing == ["method"]
    with pytest.raises(InvalidCommand) as err:
        review.decide_verify_check(given(), site(), "backups", "restore_test", " ", "d", AT)
    assert err.value.missing == ["note"]


def test_a_hosting_change_makes_every_check_stale_until_verified_again() -> None:
    rollout, moved = given(*ready()), site(hosting_change())
    assert missing_for_readiness(rollout, site()) == []
    assert missing_for_readiness(rollout, moved) == [
        f"readiness.{c}.stale" for c in READINESS_CHECKS
    ]
    (again,) = review.decide_verify_check(
        rollout, moved, "backups", "restore_test", "restored last night's backup", "dana", AT
    )
    assert check_status(given(*ready(), again), moved, "backups") == "verified"
    with pytest.raises(GateNotSatisfied) as err:
        grant(given(*ready(), published(), acked()), record=moved)
    assert "readiness.outbound_https.stale" in err.value.missing


# First-week review ---------------------------------------------------------------------------


def finding(n: int, cited: tuple[str, ...] = ()) -> review.RecordFinding:
    return review.RecordFinding(
        finding_id=f"f-{n}", subject="erin", role="editor", topic="product_copy",
        kind="skipped_context", source="prompts", note="asked without the product page",
        cited_event_ids=cited, actor="sam",
    )  # fmt: skip


def test_a_finding_cites_events_of_the_site_only_and_marks_the_sop() -> None:
    with pytest.raises(InvalidCommand) as err:
        review.decide_record_finding(given(published()), site(), finding(1, ("a", "b")), {"a"})
    assert err.value.missing == ["cited_event_ids[1]"]
    (recorded,) = review.decide_record_finding(
        given(published()), site(), finding(1, ("a",)), {"a"}
    )
    assert isinstance(recorded, ReviewFindingRecorded)
    assert recorded.sop_version == 1
    rollout = given(published(), recorded)
    assert rollout.coverage("editor", "product_copy") == "needs_update"
    assert rollout.coverage("editor", "support_drafts") == "missing"
    assert given(published(), recorded, published(version=2)).open_findings() == []


def test_repeated_findings_of_one_kind_escalate_to_the_sop_owner() -> None:
    history: list[Event] = [published()]
    for n in (1, 2):
        history += review.decide_record_finding(given(*history), site(), finding(n), set())
    assert not any(isinstance(e, RepeatedFindingsEscalated) for e in history)
    third = review.decide_record_finding(given(*history), site(), finding(3), set())
    assert third[1] == RepeatedFindingsEscalated(
        site_id=SITE, subject="erin", kind="skipped_context",
        finding_ids=["f-1", "f-2", "f-3"], threshold=3, sop_owner="dana",
    )  # fmt: skip
    fourth = review.decide_record_finding(given(*history, *third), site(), finding(4), set(), 2)
    assert len(fourth) == 1  # counting starts again after an escalation
    with pytest.raises(StateConflict):
        review.decide_record_finding(given(*history), site(), finding(1), set())


def test_a_grant_a_revocation_or_a_finding_names_a_person_not_blank() -> None:
    """A blank subject was granted nothing only because the gate stopped it first, and a finding
    about "  " was recorded: blank is missing for the person too."""
    for blank in (" ", "\u00a0\u3000"):
        with pytest.raises(InvalidCommand) as err:
            access.decide_grant(given(), site(), blank, "administrator", "dana")
        assert err.value.missing == ["subject"]
        with pytest.raises(InvalidCommand) as err:
            access.decide_revoke(given(), site(), blank, "editor", "dana", " ")
        assert err.value.missing == ["subject", "reason"]
        nobody = finding(1).model_copy(update={"subject": blank})
        with pytest.raises(InvalidCommand) as err:
            review.decide_record_finding(given(published()), site(), nobody, set())
        assert err.value.missing == ["subject"]
