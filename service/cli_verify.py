"""`sophmate-ledger verify`: an auditor's check of an export file, or of the live database.

    sophmate-ledger verify EXPORT.ndjson --public-key KEY [--checkpoint OLDER]
    sophmate-ledger verify --database

KEY is a public key (base64, or a signed-note vkey) or a file of them, one a line: the current
and retired keys. Exit 0 only when every check holds; 1 names the first bad leaf and why; 2 for
unusable arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from events.keys import KeyFormatError, Keyring, parse_public_key
from service.audit.parallel import default_jobs
from service.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from service.audit.verify import Outcome


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = sub.add_parser(
        "verify",
        help="verify an audit export offline, or the live log with --database",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("export", nargs="?", help="an NDJSON file from export-audit-log")
    verify.add_argument("--public-key", action="append", default=[], help="key or key file")
    verify.add_argument("--checkpoint", help="an older checkpoint of the same log")
    verify.add_argument("--database", action="store_true", help="verify the live database")
    verify.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: one per core; 1 checks in this process)",
    )
    verify.set_defaults(run=cmd_verify)


def read_keyring(values: list[str]) -> Keyring:
    publics: list[bytes] = []
    for value in values:
        lines = (
            Path(value).read_text(encoding="utf-8").split() if os.path.isfile(value) else [value]
        )
        publics.extend(parse_public_key(line) for line in lines if line.strip())
    return Keyring(publics)


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    try:
        if args.database:
            from service.audit.keys import keyring as settings_keyring

            keyring = (
                read_keyring(args.public_key) if args.public_key else settings_keyring(settings)
            )
        elif not args.export or not args.public_key:
            console.print("verify needs EXPORT and --public-key, or --database")
            return 2
        else:
            keyring = read_keyring(args.public_key)
        older = Path(args.checkpoint).read_text(encoding="utf-8") if args.checkpoint else None
    except (OSError, KeyFormatError) as error:
        console.print(f"unusable argument: {error}")
        return 2
    outcomes = (
        _database(settings, keyring, console)
        if args.database
        else [_file(args.export, keyring, older, console, args.jobs or default_jobs())]
    )
    bad = [o for o in outcomes if not o.ok]
    for outcome in outcomes:
        if outcome.problem is None:
            print(f"OK {outcome.origin}: {outcome.size} leaves, chains, signatures and root hold")
        else:
            where = outcome.problem.leaf_index
            at = f"first bad leaf {where}" if where is not None else "the export as a whole"
            origin = outcome.origin or "(no log named)"
            print(f"FAILED {origin}: {at}: {outcome.problem.reason}")
    return 1 if bad else 0


def _file(path: str, keyring: Keyring, older: str | None, console: Console, jobs: int) -> Outcome:
    from rich.progress import Progress

    from service.audit.verify import verify_export_file

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("verifying", total=None)
        return verify_export_file(
            path, keyring, older, lambda n: progress.advance(task, n), jobs=jobs
        )


def _database(settings: Settings, keyring: Keyring, console: Console) -> list[Outcome]:
    from rich.progress import Progress

    from service.audit.verify import verify_database
    from service.cli_database import database_urls, runtime_pool

    async def run(url: str) -> list[Outcome]:
        async with runtime_pool(url, settings, max_size=2) as pool:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("verifying the live log", total=None)
                return list(
                    await verify_database(pool, keyring, lambda n: progress.advance(task, n))
                )

    with database_urls(settings) as (_, app_url):
        return asyncio.run(run(app_url))


if __name__ == "__main__":
    sys.exit(2)
