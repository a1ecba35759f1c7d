"""The ledger's log key and keyring from the settings, and the sealer built from them."""

from __future__ import annotations

import asyncpg

from events.keys import Keyring, SigningKey, install_writer_key
from events.sealer import Sealer
from service.settings import Settings


def signing_key(settings: Settings) -> SigningKey:
    return SigningKey.from_text(settings.log_signing_key)


def keyring(settings: Settings) -> Keyring:
    retired = [p for p in settings.log_retired_public_keys.split(",") if p.strip()]
    return Keyring.of(signing_key(settings), retired)


def install(settings: Settings) -> None:
    """Every event this process appends is signed with the log key."""
    install_writer_key(signing_key(settings))


def sealer(pool: asyncpg.Pool, settings: Settings) -> Sealer:
    return Sealer(
        pool,
        signing_key(settings),
        keyring(settings),
        settings.log_origin,
        checkpoint_seconds=settings.checkpoint_seconds,
        poll_seconds=settings.projection_poll_seconds,
    )
