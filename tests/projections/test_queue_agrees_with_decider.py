"""The approval queue lists a run for an approver exactly when the approve decider would accept
that approver's approval, over a table of states (every combination of a workflow's pause, its
site's kill switches, the run's approvals and its closing, and the definition's approvals
needed), and a site's count of runs pending is the runs some new approver could approve. One
log holds every case (each its own workflow on its own site), against real Postgres."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain.kill_switches import KILL_SWITCHES
from events.domain.run_state import Run, run_aggregate
from events.domain.runs import decide_approve
from events.domain.workflow_events import (
    RunRejected,
    WorkflowDefinition,
    WorkflowPaused,
    WorkflowResumed,
    run_stream_id,
)
from events.domain.workflows import WORKFLOWS
from events.errors import LedgerError
from events.store import EventStore, StreamAppend
from service.workflows.board_queries import pending_approvals, runs_awaiting_approval
from tests.projections.test_approval_gates import engaged, released
from tests.projections.test_approval_queue import DEFINITION, approver, caught_up
from tests.service.test_run_streams import AT, META, approved, registered, requested, succeeded

NOW = AT + timedelta(hours=1)
APPROVERS = ("olga", "omar", "erin", "pat")
"""Two who may have approved, the requester, and one who never approved."""
PAUSES = ("running", "paused", "resumed")
SWITCHES = ("none", "own", "every", "other", "own released")
APPROVALS = ("none", "olga", "olga expired", "requester", "olga and omar")
NEEDED = (1, 2, 0)
CLOSED = ("open", "rejected", "succeeded")


@dataclass(frozen=True)
class Case:
    pause: str
    switch: str
    approvals: str
    needed: int
    closed: str
    n: int

    @property
    def workflow(self) -> str:
        return f"w{self.n}"

    @property
    def site(self) -> str:
        return f"site-{self.n}"

    def definition(self) -> WorkflowDefinition:
        if self.needed == 0:
            return DEFINITION.model_copy(update={"writes_data": False})
        return DEFINITION.model_copy(update={"approvals_required": self.needed})

    def workflow_events(self) -> list[Event]:
        wf = self.workflow
        events: list[Event] = [
            registered(wf, self.definition()).model_copy(update={"site_id": self.site})
        ]
        if self.pause != "running":
            events.append(WorkflowPaused(workflow_id=wf, paused_by="dana", reason="odd"))
        if self.pause == "resumed":
            events.append(WorkflowResumed(workflow_id=wf, resumed_by="dana", reason="fixed"))
        return events

    def switch_events(self) -> list[Event]:
        category = {"own": "content", "every": "*", "other": "billing"}.get(self.switch, "content")
        if self.switch == "none":
            return []
        events: list[Event] = [engaged(category, self.site)]
        return [*events, released(category, self.site)] if self.switch == "own released" else events

    def run_events(self) -> list[Event]:
        wf = self.workflow
        events: list[Event] = [requested(wf, "r0")]
        events += {
            "none": [],
            "olga": [approved(wf, "r0")],
            "olga expired": [approved(wf, "r0", at=AT - timedelta(days=2))],
            "requester": [approved(wf, "r0", by="erin")],
            "olga and omar": [approved(wf, "r0"), approved(wf, "r0", by="omar")],
        }[self.approvals]
        if self.closed == "rejected":
            events.append(RunRejected(workflow_id=wf, run_id="r0", rejected_by="olga", reason="no"))
        elif self.closed == "succeeded":
            events.append(succeeded(wf, "r0"))
        return events

    def approvable_by(self, who: str) -> bool:
        """What the approve decider answers, on the same events."""
        workflow = WORKFLOWS.fold(self.workflow_events())
        run = run_aggregate(Run()).fold(self.run_events())
        switches = KILL_SWITCHES.fold(self.switch_events())
        try:
            decide_approve(workflow, run, who, NOW, switches)
        except LedgerError:
            return False
        return True


CASES = [
    Case(*values, n=n)
    for n, values in enumerate(itertools.product(PAUSES, SWITCHES, APPROVALS, NEEDED, CLOSED))
]


def _appends(case: Case) -> list[StreamAppend]:
    streams = [
        (f"workflow-{case.workflow}", "workflow", case.workflow_events()),
        (f"killswitch-{case.site}", "killswitch", case.switch_events()),
        (run_stream_id(case.workflow, "r0"), "run", case.run_events()),
    ]
    return [
        StreamAppend(
            stream_id,
            stream_type,
            0,
            [CATALOGUE.to_new_event(event, META) for event in events],
            case.site,
            None,
        )
        for stream_id, stream_type, events in streams
        if events
    ]


async def test_the_queue_lists_what_the_decider_approves_over_every_state(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    for start in range(0, len(CASES), 100):
        await store.append_streams([a for c in CASES[start : start + 100] for a in _appends(c)])
    tables = await caught_up(pool)
    for who in APPROVERS:
        found = await pending_approvals(pool, tables, approver(who), None, len(CASES), NOW)
        listed = {run.workflow_id for _, run in found}
        expected = {case.workflow for case in CASES if case.approvable_by(who)}
        disagreeing = [
            case for case in CASES if (case.workflow in listed) != (case.workflow in expected)
        ]
        assert disagreeing == [], who
    assert any(case.approvable_by("olga") for case in CASES), "the table is not vacuous"
    counts = await runs_awaiting_approval(pool, tables, [case.site for case in CASES], NOW)
    pending = {case.site: int(case.approvable_by("pat")) for case in CASES}
    assert counts == pending
