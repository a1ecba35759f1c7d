"""Webhook signing secrets at rest: sealed under the key-encryption key, never in the log.

Each subscription has numbered secrets; a rotation adds the next one and gives the one before a
`valid_until`, and until then deliveries carry a signature by each secret in force. Opened
secrets are kept in memory by (subscription, version): a sealed row never changes meaning, so
the cache needs no invalidation beyond `valid_until`, which is read each time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import asyncpg

from service.secret_box import SecretUnreadable

log = logging.getLogger("sophmate.ledger.webhooks")


class Box(Protocol):
    def seal(self, plaintext: bytes, purpose: str) -> bytes: ...

    def open_sealed(self, sealed: bytes, purpose: str) -> bytes: ...


PURPOSE_PREFIX = "webhook_secrets.sealed"


def purpose(subscription_id: str, version: int) -> str:
    """Bound to the sealed value: a secret copied into another subscription's row does not open."""
    return f"{PURPOSE_PREFIX}:{subscription_id}:{version}"


async def store_secret(
    conn: asyncpg.Connection,
    box: Box,
    subscription_id: str,
    secret: str,
    now: datetime,
    previous_valid_until: datetime | None = None,
) -> None:
    """In the command's own transaction: the secret exists exactly when its event does."""
    version = await conn.fetchval(
        "SELECT coalesce(max(secret_version), 0) + 1 FROM webhook_secrets "
        "WHERE subscription_id = $1",
        subscription_id,
    )
    if previous_valid_until is not None:
        await conn.execute(
            "UPDATE webhook_secrets SET valid_until = least(coalesce(valid_until, $2), $2) "
            "WHERE subscription_id = $1",
            subscription_id,
            previous_valid_until,
        )
    await conn.execute(
        "INSERT INTO webhook_secrets (subscription_id, secret_version, sealed, created_at) "
        "VALUES ($1, $2, $3, $4)",
        subscription_id,
        version,
        box.seal(secret.encode(), purpose(subscription_id, version)),
        now,
    )


class SecretReader:
    def __init__(self, pool: asyncpg.Pool, box: Box) -> None:
        self.pool = pool
        self.box = box
        self._opened: dict[tuple[str, int], str] = {}

    async def in_force(
        self, subscription_ids: Iterable[str], now: datetime
    ) -> dict[str, list[str]]:
        """Each subscription's secrets valid now, newest first."""
        rows = await self.pool.fetch(
            "SELECT subscription_id, secret_version, sealed FROM webhook_secrets "
            "WHERE subscription_id = ANY($1::text[]) AND (valid_until IS NULL OR valid_until > $2) "
            "ORDER BY subscription_id, secret_version DESC",
            sorted(set(subscription_ids)),
            now,
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            key = (row["subscription_id"], row["secret_version"])
            if key not in self._opened:
                try:
                    opened = self.box.open_sealed(row["sealed"], purpose(*key))
                except SecretUnreadable:
                    # One subscription's secret sealed under a KEK dropped too early must not
                    # stop every other delivery: its own are retried (and say why).
                    log.error("webhook secret unreadable", extra={"subscription_id": key[0]})
                    continue
                self._opened[key] = opened.decode()
            found.setdefault(row["subscription_id"], []).append(self._opened[key])
        return found
