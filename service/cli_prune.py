"""`sophmate-ledger prune-idempotency`: forget idempotency records past their retention.

A client that retries a command later than LEDGER_IDEMPOTENCY_RETENTION_DAYS after the first
attempt gets a new command instead of the stored answer. The event log is never pruned; this
touches only the idempotency table. Safe to run from several places at once (a CronJob, a
timer): each run deletes what is older than the retention, nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from service.cli_database import database_urls, runtime_pool
from service.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prune = sub.add_parser(
        "prune-idempotency",
        help="delete idempotency records older than LEDGER_IDEMPOTENCY_RETENTION_DAYS "
        "(never events)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prune.set_defaults(run=cmd_prune)


async def prune_idempotency(settings: Settings, url: str) -> int:
    async with runtime_pool(url, settings, max_size=1) as pool:
        pruned = await pool.fetchval(
            "SELECT ledger_prune_idempotency($1::interval)",
            timedelta(days=settings.idempotency_retention_days),
        )
    return int(pruned)


def cmd_prune(args: argparse.Namespace, settings: Settings) -> int:
    with database_urls(settings) as (_, app_url):
        pruned = asyncio.run(prune_idempotency(settings, app_url))
    days = settings.idempotency_retention_days
    print(f"pruned {pruned} idempotency record(s) older than {days} day(s)")
    return 0
