"""The webhook dispatcher as a process runs it: the fan-out and a sender, both subscribers."""

from __future__ import annotations

import asyncpg

from service.settings import Settings, secret_box_of
from service.webhooks.fanout import FanOut
from service.webhooks.secrets import Box, SecretReader
from service.webhooks.sender import Sender, SenderSettings


def sender_settings(settings: Settings) -> SenderSettings:
    return SenderSettings(
        timeout_seconds=settings.webhook_timeout_seconds,
        max_response_bytes=settings.webhook_max_response_bytes,
        allow_private=settings.webhook_allow_private,
        concurrency=settings.webhook_concurrency,
    )


def dispatcher(pool: asyncpg.Pool, settings: Settings, box: Box) -> tuple[FanOut, Sender]:
    return FanOut(pool), Sender(pool, SecretReader(pool, box), sender_settings(settings))


def secret_box(settings: Settings) -> Box:
    """What seals the subscriptions' signing secrets: the one box of this configuration, under
    the key-encryption key (service/secret_box.py), as site-key secrets are."""
    return secret_box_of(settings)
