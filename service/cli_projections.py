"""`sophmate-ledger projections list | rebuild NAME`: the read models' generations, and a
blue/green rebuild with a progress bar."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

from service.cli_database import database_urls, runtime_pool
from service.settings import Settings

if TYPE_CHECKING:
    from projections.base import Projection
    from projections.generations import Generation


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("projections", help="list the read models, or rebuild one")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list", help="each projection's live generation, version, checkpoint and lag"
    )
    listing.set_defaults(run=cmd_list)
    rebuild = actions.add_parser(
        "rebuild",
        help="replay the whole log into a fresh copy of a read model and swap it in when caught "
        "up; queries answer from the old copy meanwhile",
    )
    rebuild.add_argument("name", help="the projection, e.g. site_activity (see `projections list`)")
    rebuild.set_defaults(run=cmd_rebuild)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    from projections import ALL
    from service.database import SchemaBehind

    with database_urls(settings) as (_, app_url):
        try:
            report = asyncio.run(_lag_report(app_url, settings))
        except SchemaBehind as behind:
            print(f"refusing: {behind}", file=sys.stderr)
            return 2
    table = Table("projection", "generation", "version", "checkpoint", "lag")
    for projection in ALL:
        entry = report[projection.name]
        if "generation" not in entry:
            table.add_row(projection.name, "-", f"(code {projection.version})", "not started", "-")
            continue
        version = str(entry["version"])
        if entry["version"] != projection.version:
            version += f" (code {projection.version}: rebuilds on start)"
        table.add_row(
            projection.name,
            str(entry["generation"]),
            version,
            str(entry["checkpoint"]),
            f"{entry['lag']:,} events",
        )
    Console().print(table)
    return 0


async def _lag_report(url: str, settings: Settings) -> dict[str, dict[str, Any]]:
    from service.metrics import projection_lag

    async with runtime_pool(url, settings, max_size=1) as pool:
        return await projection_lag(pool)


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from projections import ALL, by_name
    from projections.rebuild import RebuildRunning
    from service.database import SchemaBehind

    try:
        projection = by_name(args.name)
    except KeyError:
        known = ", ".join(p.name for p in ALL)
        print(f"unknown projection {args.name!r}; the projections are: {known}", file=sys.stderr)
        return 2
    with database_urls(settings) as (_, app_url):
        try:
            built, seconds = asyncio.run(_rebuild(app_url, settings, projection))
        except SchemaBehind as behind:
            print(f"refusing to rebuild: {behind}", file=sys.stderr)
            return 2
        except RebuildRunning as running:
            print(f"{running}; try again when it has finished", file=sys.stderr)
            return 1
    print(
        f"{projection.name}: generation {built.generation} (version {built.version}) is live, "
        f"{built.events_applied:,} events replayed in {seconds:.1f} s"
    )
    return 0


async def _rebuild(
    url: str, settings: Settings, projection: Projection
) -> tuple[Generation, float]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from projections.rebuild import rebuild

    async with runtime_pool(url, settings) as pool:
        # Events appended during the rebuild are replayed too, so the bar may end past 100 %.
        total = await pool.fetchval("SELECT count(*) FROM events")
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"rebuilding {projection.name}", total=total)
            began = time.perf_counter()
            built = await rebuild(pool, projection, progress=lambda n: bar.advance(task, n))
            return built, time.perf_counter() - began
