"""Seed data over HTTP, as the plugin would make it: a site, workflows, pending runs.

A requester asks for every run and a different person approves them later (the four-eyes rule),
so the approver's token is never the requester's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

SITE = "bench-shop"
CONCURRENCY = 32


@dataclass(frozen=True)
class Tokens:
    admin: str
    requester: str
    approver: str


@dataclass(frozen=True)
class Seeded:
    workflows: list[str]
    approvals: list[str]
    """"POST /v1/workflows/W/runs/R/approve" lines, one per pending run, workflows interleaved so
    that concurrent requests land on different workflows."""
    commands: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0


SITE_BODY = {
    "site_id": SITE,
    "setup_owner": "dana@bench.example",
    "production_url": "https://shop.bench.example",
    "staging_url": "https://staging.shop.bench.example",
    "sophmate_version": "2.4.1",
    "wordpress_version": "6.6.2",
    "php_version": "8.2",
    "active_theme": "storefront",
}


def workflow_body(workflow_id: str) -> dict[str, Any]:
    return {
        "workflow_id": workflow_id,
        "site_id": SITE,
        "owner": "dana@bench.example",
        "category": "content",
        "trigger": "nightly at 02:00 site time",
        "input_scope": "posts published in the last 7 days without a meta description",
        "expected_output": "a meta description on each post, at most 155 characters",
        "writes_data": True,
        "contacts_customers": False,
        "approvals_required": 1,
        "retry_limit": 3,
        "notification_path": "#bench-ops in Slack",
        "pause_rule": "pause after provider changes, plugin updates or 3 failed runs",
        "rollback_path": "restore the previous post revisions from WordPress history",
    }


def run_id(number: int) -> str:
    return f"run-{number:05d}"


def approve_line(workflow_id: str, number: int) -> str:
    return f"POST /v1/workflows/{workflow_id}/runs/{run_id(number)}/approve"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _post(client: httpx.AsyncClient, path: str, token: str, body: dict[str, Any]) -> None:
    answer = await client.post(path, json=body, headers=_bearer(token))
    if answer.status_code != 201:
        # The problem's title only: bodies may carry what the bench sent.
        title = answer.json().get("title") if answer.content else ""
        raise RuntimeError(f"seeding POST {path}: {answer.status_code} {title}")


def client(base_url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=300)


async def register_site(base_url: str, tokens: Tokens) -> None:
    async with client(base_url) as http:
        await _post(http, "/v1/sites", tokens.admin, SITE_BODY)


async def _workflow(http: httpx.AsyncClient, tokens: Tokens, workflow_id: str, runs: int) -> int:
    await _post(http, "/v1/workflows", tokens.requester, workflow_body(workflow_id))
    for number in range(1, runs + 1):
        body = {"run_id": run_id(number), "inputs": f"{number} posts in scope"}
        await _post(http, f"/v1/workflows/{workflow_id}/runs", tokens.requester, body)
    return runs + 1


async def seed_workflows(
    base_url: str, tokens: Tokens, workflow_ids: list[str], runs: int
) -> Seeded:
    """Each workflow registered and given `runs` pending runs, up to 32 workflows at a time (one
    workflow's commands in order: they extend one stream)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for workflow_id in workflow_ids:
        queue.put_nowait(workflow_id)
    commands = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal commands
        while not queue.empty():
            done = await _workflow(http, tokens, queue.get_nowait(), runs)
            commands += done

    began = time.perf_counter()
    async with client(base_url) as http:
        count = min(CONCURRENCY, len(workflow_ids))
        await asyncio.gather(*(worker(http) for _ in range(count)))
    seconds = time.perf_counter() - began
    lines = [approve_line(w, n) for n in range(1, runs + 1) for w in workflow_ids]
    return Seeded(workflow_ids, lines, commands, seconds)


async def seed_long_workflow(
    base_url: str, tokens: Tokens, workflow_id: str, runs: int, budget_seconds: float
) -> Seeded:
    """One workflow with `runs` pending runs, requested one after the other, or as many as the
    budget allows: while each command replays the whole stream, the 2,000th run costs hundreds of
    times the 10th, and the bench must still end."""
    began = time.perf_counter()
    count = 0
    async with client(base_url) as http:
        await _post(http, "/v1/workflows", tokens.requester, workflow_body(workflow_id))
        while count < runs and time.perf_counter() - began < budget_seconds:
            count += 1
            body = {"run_id": run_id(count), "inputs": f"{count} posts in scope"}
            await _post(http, f"/v1/workflows/{workflow_id}/runs", tokens.requester, body)
    lines = [approve_line(workflow_id, n) for n in range(1, count + 1)]
    return Seeded([workflow_id], lines, count + 1, time.perf_counter() - began)
