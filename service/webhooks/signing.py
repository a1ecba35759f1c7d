"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what a consumer verifies.

`webhook-signature` is `v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">`,
keyed with the bytes of the base64 text after `whsec_`. While a rotated-away secret is still
valid, both signatures are sent, separated by a space, so a consumer can switch at leisure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def fingerprint(secret: str) -> str:
    """Names a secret in the log and in answers without revealing it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_force: Sequence[str], webhook_id: str, timestamp: int, body: bytes
) -> str:
    return " ".join(sign(s, webhook_id, timestamp, body) for s in secrets_in_force)


def headers(
    secrets_in_force: Sequence[str], webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_force, webhook_id, timestamp, body),
    }
