"""Prometheus metrics. One registry per app, so tests and replicas do not share counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from projections import ALL, generations
from service.audit.status import integrity
from service.supervisor import HEALTHY

router = APIRouter(tags=["health"])


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        # Memory, CPU seconds, open file descriptors and start time of this process (Linux).
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.events_appended = Counter(
            "ledger_events_appended", "Events appended, by type.", ["type"], registry=self.registry
        )
        self.command_seconds = Histogram(
            "ledger_command_seconds",
            "Command latency by operationId.",
            ["operation_id"],
            registry=self.registry,
        )
        self.http_responses = Counter(
            "ledger_http_responses", "HTTP responses by status.", ["status"], registry=self.registry
        )
        self.projection_lag = Gauge(
            "ledger_projection_lag_events",
            "Committed events a projection has not applied yet.",
            ["projection"],
            registry=self.registry,
        )

        self.subscriber_up = Gauge(
            "ledger_subscriber_up",
            "1 while a subscriber of this process runs (or stands by), 0 while it is down.",
            ["subscriber"],
            registry=self.registry,
        )
        self.subscriber_failures = Gauge(
            "ledger_subscriber_failures",
            "Failures (each followed by a restart) of a subscriber since the process started.",
            ["subscriber"],
            registry=self.registry,
        )
        self.subscriber_lag = Gauge(
            "ledger_subscriber_lag_events",
            "Committed events a subscriber of this process has not processed yet.",
            ["subscriber"],
            registry=self.registry,
        )
        self.verified_tree_size = Gauge(
            "ledger_verified_tree_size",
            "Leaves the sealer has verified, all logs.",
            registry=self.registry,
        )
        self.integrity_failures = Gauge(
            "ledger_integrity_failures",
            "Sealed leaves that did not verify.",
            registry=self.registry,
        )

        self.webhook_attempts = Gauge(
            "ledger_webhook_attempts",
            "Webhook delivery attempts this process made since it started, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_due = Gauge(
            "ledger_webhook_deliveries_due",
            "Webhook deliveries due now and not delivered yet (all senders).",
            registry=self.registry,
        )
        self.webhook_lag = Gauge(
            "ledger_webhook_delivery_lag_seconds",
            "How long the oldest delivery due now has been waiting (0 when none is).",
            registry=self.registry,
        )
        self.webhook_dead = Gauge(
            "ledger_webhook_dead_letters",
            "Deliveries whose every attempt failed, waiting for a redelivery.",
            registry=self.registry,
        )

    def observe_command(self, operation_id: str, types: list[str], seconds: float) -> None:
        self.command_seconds.labels(operation_id).observe(seconds)
        for type_ in types:
            self.events_appended.labels(type_).inc()

    def observe_response(self, status: int) -> None:
        self.http_responses.labels(str(status)).inc()


async def projection_lag(pool: asyncpg.Pool) -> dict[str, dict[str, object]]:
    """Each projection's live checkpoint and how many committed events lie beyond it."""
    report: dict[str, dict[str, object]] = {}
    for projection in ALL:
        gen = await generations.live(pool, projection.name)
        if gen is None:
            report[projection.name] = {"status": "not started", "lag": None}
            continue
        lag = await pool.fetchval(
            "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2)",
            str(gen.transaction_id),
            gen.position,
        )
        report[projection.name] = {
            "generation": gen.generation,
            "version": gen.version,
            "checkpoint": f"{gen.transaction_id}.{gen.position}",
            "lag": int(lag),
        }
    return report


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    state = request.app.state
    for name, entry in (await projection_lag(state.pool)).items():
        if isinstance(entry["lag"], int):
            state.metrics.projection_lag.labels(name).set(entry["lag"])
    supervisor = state.supervisor
    _, report = await supervisor.report(state.pool, state.settings.subscriber_max_lag_events)
    for name, sub in supervisor.states.items():
        state.metrics.subscriber_up.labels(name).set(1 if sub.status in HEALTHY else 0)
        state.metrics.subscriber_failures.labels(name).set(sub.failures)
        lag = report[name]["lag"]
        if isinstance(lag, int):
            state.metrics.subscriber_lag.labels(name).set(lag)
    await _webhooks(state)
    sealed = await integrity(state.pool)
    state.metrics.verified_tree_size.set(sealed["verified_tree_size"])
    state.metrics.integrity_failures.set(sealed["failures"])
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def _webhooks(state: Any) -> None:
    sender = state.dispatcher[1]
    state.metrics.webhook_attempts.labels("delivered").set(sender.delivered)
    state.metrics.webhook_attempts.labels("failed").set(sender.failed)
    row = await state.pool.fetchrow(
        "SELECT count(*) AS due, coalesce(extract(epoch FROM now() - min(CASE WHEN attempts = 0 "
        "THEN created_at ELSE next_attempt_at END)), 0) AS lag FROM webhook_deliveries "
        "WHERE state = 'pending' AND (attempts = 0 OR next_attempt_at <= now())"
    )
    state.metrics.webhook_due.set(row["due"])
    state.metrics.webhook_lag.set(max(0.0, float(row["lag"])))
    dead = await state.pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'dead'")
    state.metrics.webhook_dead.set(dead)
