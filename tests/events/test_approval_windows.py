"""The approvals a run has, and until when: the rule the approve decider and the approval queue
share (events/domain/run_state.py), with no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.domain.run_state import Approval, approval_windows, approved_until, valid_approvers

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def approval(by: str, hours: int, revision: int = 1) -> Approval:
    return Approval(
        approved_by=by, revision=revision, approved_at=AT, expires_at=AT + timedelta(hours=hours)
    )


def test_each_person_counts_once_until_their_latest_approval_expires() -> None:
    given = [approval("Olga", 2), approval("omar", 5), approval("olga", 8), approval("erin", 9)]
    windows = approval_windows(given, requested_by="ERIN", revision=1)
    assert windows == [("Olga", AT + timedelta(hours=8)), ("omar", AT + timedelta(hours=5))]
    assert approved_until(windows, required=2) == AT + timedelta(hours=5)
    assert approved_until(windows, required=1) == AT + timedelta(hours=8)
    assert approved_until(windows, required=3) is None


def test_approved_until_is_when_the_decider_stops_counting_enough_approvers() -> None:
    given = [approval("olga", 3), approval("omar", 6), approval("lena", 4)]
    until = approved_until(approval_windows(given, "erin", 1), required=2)
    assert until is not None
    just_before = until - timedelta(microseconds=1)
    assert len(valid_approvers(given, "erin", 1, just_before)) == 2
    assert len(valid_approvers(given, "erin", 1, until)) == 1


def test_approvals_of_another_revision_never_count() -> None:
    given = [approval("olga", 3, revision=1)]
    assert approval_windows(given, "erin", revision=2) == []
    assert approved_until([], required=1) is None
    assert approved_until(approval_windows(given, "erin", 1), required=0) is None
