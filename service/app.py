"""The FastAPI application."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

import projections
from events.store import EventStore
from events.subscriber import Subscriber
from service import metrics
from service.audit import keys as audit_keys
from service.audit import routes as audit
from service.auth.grants import GrantIndex
from service.auth.keyring import key_sources
from service.auth.tokens import TokenVerifier
from service.clock import Clock
from service.conditional import ConditionalReads
from service.contract.document import install_contract
from service.dashboard import routes as dashboard
from service.database import check_schema, create_pool
from service.edge import EdgeMiddleware
from service.event_schemas import install_event_schemas
from service.health import routes as health
from service.history import routes as history
from service.incidents import board_routes as incident_boards
from service.incidents import routes as incidents
from service.input_guard import InputGuard
from service.ledger import Ledger
from service.location import CreatedLocation
from service.metrics import Metrics
from service.playbooks import catalogue_routes as playbook_catalogue
from service.playbooks import routes as playbooks
from service.playbooks.signing import PlaybookSigner
from service.problems import install_problem_handlers
from service.query_parameters import refuse_unknown_query_parameters
from service.read_models import rebuild_routes
from service.read_models.subscribers import projection_subscribers
from service.rollout import routes as rollout
from service.settings import Settings, get_settings, secret_box_of, serves_api_docs
from service.sites import activity_routes as site_activity
from service.sites import routes as sites
from service.supervisor import Backoff, Supervisor
from service.webhooks import routes as webhooks
from service.webhooks.dispatcher import dispatcher, secret_box
from service.workflows import board_routes as workflow_boards
from service.workflows import routes as workflows

DESCRIPTION = """The audit-and-approval ledger behind SophMate's AI automation on WordPress.

Every command appends immutable events; errors are RFC 9457 problem+json. Send a Bearer JWT on
every call but the health checks. Commands honour `Idempotency-Key` and `If-Match`, and answer
with the stream version as `ETag`."""


CLOSED_DOC_ROUTES = ("docs_url", "redoc_url", "openapi_url")
"""FastAPI's routes of the document and its pages, each None when the docs are closed."""

ROUTERS: list[APIRouter] = [
    health.router,
    metrics.router,
    sites.router,
    site_activity.router,
    history.router,
    workflows.router,
    workflow_boards.router,
    incidents.router,
    incident_boards.router,
    playbooks.router,
    playbook_catalogue.router,
    rebuild_routes.router,
    audit.router,
    rollout.router,
    webhooks.router,
]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database_url is None:
            raise RuntimeError("LEDGER_DATABASE_URL is not set; `sophmate-ledger serve` sets it")
        pool = await create_pool(settings.database_url, settings)
        read_pool = pool
        try:
            await check_schema(pool)
            app.state.pool = pool
            if settings.read_database_url is not None:
                read_pool = await create_pool(settings.read_database_url, settings)
            app.state.read_pool = read_pool
            app.state.ledger = Ledger(
                EventStore(pool), app.state.metrics.observe_command, projections.INLINE
            )
            app.state.verifier = TokenVerifier(settings, key_sources(settings, pool))
            subscribers: list[Subscriber] = (
                projection_subscribers(pool, settings.projection_poll_seconds)
                if settings.run_projections
                else []
            )
            # Loaded before the first request: a site that enforces grants never fails open.
            app.state.grant_index = GrantIndex(pool, settings.grant_index_poll_seconds)
            await app.state.grant_index.refresh()
            subscribers.append(app.state.grant_index)
            app.state.sealer = audit_keys.sealer(pool, settings)
            if settings.run_sealer:
                subscribers.append(app.state.sealer)
            app.state.dispatcher = dispatcher(pool, settings, app.state.webhook_box)
            if settings.run_webhooks:
                subscribers.extend(app.state.dispatcher)
            supervisor = Supervisor(
                subscribers, backoff=Backoff(max_seconds=settings.subscriber_retry_max_seconds)
            )
            app.state.supervisor = supervisor
            supervisor.start()
            try:
                yield
            finally:
                # After the server has finished the in-flight requests: each subscriber stops
                # at its next checkpoint.
                await supervisor.stop()
                for task in list(app.state.background):
                    task.cancel()
                await app.state.dispatcher[1].close()
        finally:
            for each in {pool, read_pool}:
                try:
                    await asyncio.wait_for(each.close(), timeout=10)
                except TimeoutError:
                    each.terminate()

    # Swagger UI and ReDoc from the files the fastapi-offline wheel ships (/docs works
    # offline); closed (production's default), the document is still built for
    # `sophmate-ledger openapi`, but no route serves it.
    served = serves_api_docs(settings)
    closed: dict[str, Any] = {} if served else dict.fromkeys(CLOSED_DOC_ROUTES)
    app = (FastAPIOffline if served else FastAPI)(
        title="SophMate Ops Ledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        **closed,
    )
    app.state.settings = settings
    app.state.clock = clock or Clock()
    app.state.metrics = Metrics()
    app.state.background = set()
    app.state.rebuilds = {}
    app.state.playbook_signer = PlaybookSigner.from_settings(settings)
    app.state.secret_box = secret_box_of(settings)
    audit_keys.install(settings)
    app.state.log_keyring = audit_keys.keyring(settings)
    app.state.webhook_box = secret_box(settings)
    app.state.request_hash_key = hashlib.sha256(
        b"sophmate-ledger idempotency\n" + settings.jwt_secret.encode()
    ).digest()
    install_problem_handlers(app)
    # Inside the edge: the guard reads the body through the edge's size cap.
    app.add_middleware(CreatedLocation, routes=api_routes())
    app.add_middleware(ConditionalReads)
    app.add_middleware(InputGuard)
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_body_bytes,
        on_response=app.state.metrics.observe_response,
    )
    for router in ROUTERS:
        # One refusal of undeclared query parameters for the whole API (not the HTML pages).
        app.include_router(router, dependencies=[Depends(refuse_unknown_query_parameters)])
    app.include_router(dashboard.router)
    install_event_schemas(app)
    install_contract(app, api_routes())
    return app


def api_routes() -> list[APIRoute]:
    """The route table: what the role matrix, the README and the contract tests are checked by."""
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
