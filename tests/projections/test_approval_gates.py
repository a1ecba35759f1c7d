"""The approval queue and the decider's gates, against real Postgres: no run of a paused
workflow, or of one a kill switch of its site covers, is listed as waiting for approval (the
approve decider refuses it); it is listed again once the pause is lifted or the switch released.
A switch covers its category (or every category, "*") on its own site only. Given the log, when
the queue has caught up, then what it lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain.kill_switches import KillSwitchEngaged, KillSwitchReleased
from events.domain.workflow_events import (
    WorkflowPaused,
    WorkflowResumed,
    WorkflowRevised,
    run_stream_id,
)
from events.store import EventStore, StreamAppend
from projections import generations
from projections.approval_queue import ApprovalQueue
from projections.base import Tables
from projections.runner import Runner
from service.workflows.board_queries import pending_approvals, runs_awaiting_approval
from tests.projections.test_approval_queue import (
    DEFINITION,
    approver,
    registered,
    rows_read_applying,
    waiting,
    workflow_with_open_runs,
)
from tests.service.test_run_streams import AT, META, SITE, requested

QUEUE = ApprovalQueue()
BILLING = DEFINITION.model_copy(update={"category": "billing"})


class Log:
    """The log as commands would have written it, each stream at its next version."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.versions: dict[str, int] = {}

    async def append(
        self, stream_id: str, stream_type: str, events: Iterable[Event], site: str = SITE
    ) -> list[int]:
        new = [CATALOGUE.to_new_event(event, META) for event in events]
        version = self.versions.get(stream_id, 0)
        self.versions[stream_id] = version + len(new)
        (done,) = await self.store.append_streams(
            [StreamAppend(stream_id, stream_type, version, new, site, None)]
        )
        return list(done.positions)

    async def workflow(self, workflow: str, *events: Event) -> list[int]:
        return await self.append(f"workflow-{workflow}", "workflow", events)

    async def switch(self, event: KillSwitchEngaged | KillSwitchReleased) -> list[int]:
        return await self.append(
            f"killswitch-{event.site_id}", "killswitch", [event], event.site_id
        )


def engaged(category: str, site: str = SITE) -> KillSwitchEngaged:
    return KillSwitchEngaged(site_id=site, category=category, engaged_by="sam", reason="outage")


def released(category: str, site: str = SITE) -> KillSwitchReleased:
    return KillSwitchReleased(site_id=site, category=category, released_by="sam", reason="ok")


PAUSED = WorkflowPaused(workflow_id="flow", paused_by="dana", reason="odd output")
RESUMED = WorkflowResumed(workflow_id="flow", resumed_by="dana", reason="fixed")


class Queue:
    """One live generation of the queue, caught up on demand."""

    def __init__(self, pool: asyncpg.Pool, generation: generations.Generation) -> None:
        self.pool, self.generation = pool, generation

    @classmethod
    async def live(cls, pool: asyncpg.Pool) -> Queue:
        async with pool.acquire() as conn:
            return cls(pool, await generations.create(conn, QUEUE, "live"))

    @property
    def tables(self) -> Tables:
        return self.generation.tables

    async def waiting(self, who: str = "olga", now: datetime = AT) -> list[str]:
        await Runner(self.pool, QUEUE).catch_up(self.generation.generation)
        return await waiting(self.pool, self.tables, who, now)

    async def pending_on(self, site: str = SITE) -> int:
        await Runner(self.pool, QUEUE).catch_up(self.generation.generation)
        return (await runs_awaiting_approval(self.pool, self.tables, [site], AT))[site]


async def test_a_paused_workflows_run_leaves_the_queue_and_returns_on_resume(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    log, queue = Log(store), await Queue.live(pool)
    await workflow_with_open_runs(store, "flow", 1)
    log.versions["workflow-flow"] = 1
    assert await queue.waiting() == ["r0:"]
    await log.workflow("flow", PAUSED)
    assert await queue.waiting() == [], "approve-run refuses it: workflow.resumed"
    assert await queue.pending_on() == 0
    await log.workflow("flow", RESUMED)
    assert await queue.waiting() == ["r0:"]
    assert await queue.pending_on() == 1


async def test_a_revision_while_paused_keeps_the_workflow_paused(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    log, queue = Log(store), await Queue.live(pool)
    await workflow_with_open_runs(store, "flow", 1)
    log.versions["workflow-flow"] = 1
    await log.workflow("flow", PAUSED)
    revised = WorkflowRevised(
        workflow_id="flow",
        revision=2,
        definition=DEFINITION,
        defined_by="devon",
        invalidated_approvals=[],
    )
    await log.workflow("flow", revised)
    assert await queue.waiting() == []
    await log.workflow("flow", RESUMED)
    assert await queue.waiting() == ["r0:"]


async def test_a_kill_switch_of_its_category_on_its_site_holds_a_run_back_until_released(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    log, queue = Log(store), await Queue.live(pool)
    await workflow_with_open_runs(store, "content", 1)
    await workflow_with_open_runs(store, "billing", 1, BILLING)
    assert await queue.waiting() == ["r0:", "r0:"]
    await log.switch(engaged("content"))
    assert await _workflows_waiting(queue) == ["billing"], "another category is not covered"
    await log.switch(engaged("*"))
    assert await _workflows_waiting(queue) == []
    await log.switch(engaged("content", site="other-shop"))
    await log.switch(released("*"))
    assert await _workflows_waiting(queue) == ["billing"]
    await log.switch(released("content"))
    assert await _workflows_waiting(queue) == ["billing", "content"]
    await log.switch(engaged("*", site="other-shop"))
    assert await _workflows_waiting(queue) == ["billing", "content"], "another site's switch"


async def test_a_workflow_registered_under_an_engaged_switch_is_held_back_from_the_start(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    log, queue = Log(store), await Queue.live(pool)
    await log.switch(engaged("content"))
    assert await queue.waiting() == []
    await log.workflow("flow", registered("flow"))
    await log.append(run_stream_id("flow", "r0"), "run", [requested("flow", "r0")])
    assert await queue.waiting() == []
    await log.switch(released("content"))
    assert await queue.waiting() == ["r0:"]


async def test_a_kill_switch_reads_the_sites_workflows_never_their_2000_runs(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    log, queue = Log(store), await Queue.live(pool)
    await workflow_with_open_runs(store, "long", 2000)
    await workflow_with_open_runs(store, "billing", 3, BILLING)
    assert len(await queue.waiting(now=AT + timedelta(days=1))) == 10
    positions = await log.switch(engaged("content"))
    reads = await rows_read_applying(pool, QUEUE, queue.tables, positions)
    # The site's two workflows' rows, read and found again by the upsert that rewrites them (the
    # site has no switches' row yet): none of the runs.
    assert reads == 4
    await Runner(pool, QUEUE).catch_up(queue.generation.generation)
    log.versions["workflow-long"] = 1
    positions = await log.workflow("long", PAUSED.model_copy(update={"workflow_id": "long"}))
    # Its workflow's row and its site's switches, each read and found again by its upsert.
    assert await rows_read_applying(pool, QUEUE, queue.tables, positions) == 3


async def _workflows_waiting(queue: Queue) -> list[str]:
    """The workflows whose run the queue lists for an approver at AT, by workflow id."""
    await Runner(queue.pool, QUEUE).catch_up(queue.generation.generation)
    found = await pending_approvals(queue.pool, queue.tables, approver("olga"), None, 10, AT)
    return sorted(run.workflow_id for _, run in found)
