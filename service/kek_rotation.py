"""`sophmate-ledger rotate-kek`: re-seal every secret at rest under the current KEK.

Rotation, step by step (README, "Secrets at rest"):
1. generate a new KEK; set LEDGER_SECRET_KEK to it and move the old one to
   LEDGER_SECRET_KEK_PREVIOUS; restart (secrets sealed under either KEK open);
2. run `sophmate-ledger rotate-kek` (as the owner role: LEDGER_MIGRATION_DATABASE_URL): every
   sealed value not under the current KEK is opened and sealed again, one compare-and-swap
   UPDATE per row, so a concurrent run or a new row is never lost;
3. once it reports 0 left under other KEKs, drop the old KEK from LEDGER_SECRET_KEK_PREVIOUS.

A table that holds sealed secrets adds one SealedColumn below; nothing else changes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass

import asyncpg

from service.auth.keyring import SITE_KEY_PURPOSE
from service.cli_database import database_urls
from service.secret_box import SecretBox, SecretUnreadable
from service.settings import Settings, secret_box_of
from service.webhooks.secrets import PURPOSE_PREFIX as SECRETS_PURPOSE


@dataclass(frozen=True)
class SealedColumn:
    table: str
    key_columns: tuple[str, ...]
    sealed_column: str
    purpose_prefix: str
    """The purpose of a row's value is this prefix and the row's key columns, colon-separated."""

    def purpose(self, key: tuple[object, ...]) -> str:
        return ":".join([self.purpose_prefix, *(str(part) for part in key)])


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("site_keys", ("kid",), "sealed_secret", SITE_KEY_PURPOSE),
    SealedColumn(
        "webhook_secrets", ("subscription_id", "secret_version"), "sealed", SECRETS_PURPOSE
    ),
)


@dataclass
class Rotation:
    resealed: int = 0
    current: int = 0
    unreadable: int = 0
    """Rows no configured KEK opens: their KEK was dropped too early. They are left untouched."""


async def rotate(conn: asyncpg.Connection, box: SecretBox) -> Rotation:
    done = Rotation()
    for column in SEALED_COLUMNS:
        keys = ", ".join(column.key_columns)
        rows = await conn.fetch(
            f"SELECT {keys}, {column.sealed_column} AS sealed "  # noqa: S608
            f"FROM {column.table} ORDER BY {keys}"
        )
        width = len(column.key_columns)
        matches = " AND ".join(f"{name} = ${n}" for n, name in enumerate(column.key_columns, 3))
        update = (
            f"UPDATE {column.table} SET {column.sealed_column} = $2 "  # noqa: S608 (constants)
            f"WHERE {column.sealed_column} = $1 AND {matches}"
        )
        for row in rows:
            sealed: bytes = row["sealed"]
            if box.sealed_under_current(sealed):
                done.current += 1
                continue
            key = tuple(row[n] for n in range(width))
            purpose = column.purpose(key)
            try:
                plaintext = box.open_sealed(sealed, purpose)
            except SecretUnreadable:
                done.unreadable += 1
                continue
            await conn.execute(update, sealed, box.seal(plaintext, purpose), *key)
            done.resealed += 1
    return done


async def rotate_at(url: str, box: SecretBox) -> Rotation:
    conn = await asyncpg.connect(url)
    try:
        return await rotate(conn, box)
    finally:
        await conn.close()


def cmd_rotate_kek(args: argparse.Namespace, settings: Settings) -> int:
    box = secret_box_of(settings)
    with database_urls(settings) as (owner_url, _):
        done = asyncio.run(rotate_at(owner_url, box))
    print(
        f"KEK {box.current_id}: re-sealed {done.resealed}, already current {done.current}, "
        f"unreadable {done.unreadable}"
    )
    if done.unreadable:
        print(
            "some secrets open under no configured KEK: put the KEK that sealed them back in "
            "LEDGER_SECRET_KEK_PREVIOUS and run again",
            file=sys.stderr,
        )
        return 2
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rotate_parser = sub.add_parser(
        "rotate-kek",
        help="re-seal every secret at rest under LEDGER_SECRET_KEK (run as the owner role)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rotate_parser.set_defaults(run=cmd_rotate_kek)
