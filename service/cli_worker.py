"""`sophmate-ledger worker`: the projection runners without the HTTP API.

In production the API replicas run with LEDGER_RUN_PROJECTIONS=false and leave the runners to
one or more workers; several workers are safe (one runner per projection is active, by an
advisory lock, and a standby takes over when it stops). SIGTERM or SIGINT stops the runners
between batches and the process exits 0; a runner that fails makes it exit 1, so the process
supervisor restarts it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from service.cli_database import database_urls, runtime_pool
from service.settings import Settings

log = logging.getLogger("sophmate.ledger.worker")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser(
        "worker",
        help="run the projection runners without HTTP, until SIGTERM or SIGINT "
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
    from projections import ALL
    from service.audit import keys as audit_keys
    from service.read_models.supervisor import Supervisor

    # Each runner holds a connection for its lock while it steps on another.
    async with runtime_pool(url, settings, max_size=2 * len(ALL) + 4) as pool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        supervisor = Supervisor(pool, settings.projection_poll_seconds)
        supervisor.runners.append(audit_keys.sealer(pool, settings))  # type: ignore[arg-type]
        supervisor.start()
        log.info("worker started", extra={"projections": [p.name for p in ALL]})
        try:
            failure = await _until_stopped_or_failed(supervisor.tasks, stop)
        finally:
            await supervisor.stop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    if failure is not None:
        log.error("a projection runner failed", exc_info=failure)
        return 1
    log.info("worker stopped")
    return 0


async def _until_stopped_or_failed(
    tasks: list[asyncio.Task[None]], stop: asyncio.Event
) -> BaseException | None:
    """None once `stop` is set; the error of the first task that fails before that."""
    stopped = asyncio.create_task(stop.wait())
    pending: set[asyncio.Future[Any]] = {stopped, *tasks}
    try:
        while True:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if stopped in done:
                return None
            # A task that ends cleanly (the start-up rebuild check) is no failure.
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    return task.exception()
    finally:
        stopped.cancel()
