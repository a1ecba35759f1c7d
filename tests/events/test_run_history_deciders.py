"""Run history explains itself (issue 14, item 8; seed 001: "check run history, failures, cost,
affected records"): a run's state keeps what its result recorded, and the history row's
diagnostics summary is the domain's. Given events, then the state. No database."""

from __future__ import annotations

from events.domain.run_state import DIAGNOSTICS_SUMMARY_CHARS, diagnostics_summary
from events.domain.workflow_events import RunResultRecorded
from tests.events.workflow_fixtures import WF, approved, registered, requested, states

FAILED = RunResultRecorded(
    workflow_id=WF,
    run_id="r1",
    outcome="failed",
    recorded_by="plugin",
    affected_records=3,
    cost=0.12,
    diagnostics="\n  provider returned 500 on post 4  \nstack: ...",
    notification_sent=True,
)


def test_a_run_keeps_its_cost_records_diagnostics_and_notification() -> None:
    _, run = states([registered(), requested("r1"), approved("r1"), FAILED])
    assert (run.outcome, run.affected_records, run.cost, run.notification_sent) == (
        "failed",
        3,
        0.12,
        True,
    )
    assert diagnostics_summary(run.diagnostics) == "provider returned 500 on post 4"


def test_a_run_without_a_result_has_none_of_them() -> None:
    _, run = states([registered(), requested("r1")])
    assert (run.affected_records, run.cost, run.diagnostics, run.notification_sent) == (
        None,
        None,
        None,
        None,
    )
    assert diagnostics_summary(run.diagnostics) is None
    assert diagnostics_summary(" \n\t") is None


def test_a_long_first_line_is_cut_with_an_ellipsis() -> None:
    summary = diagnostics_summary("x" * 500)
    assert summary is not None
    assert len(summary) == DIAGNOSTICS_SUMMARY_CHARS
    assert summary.endswith("\u2026")
