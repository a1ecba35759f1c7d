"""`sophmate-ledger worker`: the subscribers (projection runners, the sealer, the webhook
dispatcher) without the HTTP API.

In production the API replicas run with LEDGER_RUN_PROJECTIONS=false and leave the subscribers
to one or more workers; several workers are safe (one runner per projection is active, by an
advisory lock, and a standby takes over when it stops). A subscriber that fails (the database
went away) is restarted with backoff, as in `serve`; the worker does not exit for it. SIGTERM or
SIGINT stops the subscribers at their next checkpoint and the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from service.cli_database import database_urls, runtime_pool
from service.settings import Settings

log = logging.getLogger("sophmate.ledger.worker")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser(
        "worker",
        help="run the subscribers (projections, sealer, webhooks) without HTTP, until SIGTERM "
        "or SIGINT "
        "(the API replicas then run with LEDGER_RUN_PROJECTIONS=false)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worker.add_argument("--migrate", action="store_true", help="apply migrations first")
    worker.set_defaults(run=cmd_worker)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from service.database import SchemaBehind, migrate
    from service.logs import configure_logging

    configure_logging(settings.log_level)
    with database_urls(settings) as (owner_url, app_url):
        if args.migrate:
            migrate(owner_url, settings.app_role)
        try:
            return asyncio.run(_work(app_url, settings))
        except SchemaBehind as behind:
            print(f"refusing to start the worker: {behind}", file=sys.stderr)
            return 2


async def _work(url: str, settings: Settings) -> int:
    from events.subscriber import Subscriber
    from projections import ALL
    from service.audit import keys as audit_keys
    from service.read_models.subscribers import projection_subscribers
    from service.supervisor import Backoff, Supervisor
    from service.webhooks.dispatcher import dispatcher, secret_box

    # Each runner holds a connection for its lock while it steps on another.
    async with runtime_pool(url, settings, max_size=2 * len(ALL) + 12) as pool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        fanout, sender = dispatcher(pool, settings, secret_box(settings))
        hooks: list[Subscriber] = [fanout, sender] if settings.run_webhooks else []
        supervisor = Supervisor(
            [
                *projection_subscribers(pool, settings.projection_poll_seconds),
                audit_keys.sealer(pool, settings),
                *hooks,
            ],
            backoff=Backoff(max_seconds=settings.subscriber_retry_max_seconds),
        )
        supervisor.start()
        log.info("worker started", extra={"projections": [p.name for p in ALL]})
        try:
            await stop.wait()
        finally:
            await supervisor.stop()
            await sender.close()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    log.info("worker stopped")
    return 0
