"""deploy/wordpress/verify-webhook.php, run by a real php-cli, against the ledger's signatures."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from service.webhooks import signing

SNIPPET = Path(__file__).parents[3] / "deploy" / "wordpress" / "verify-webhook.php"
DRIVER = r"""
require $argv[1];
$headers = json_decode(getenv('HEADERS'), true);
$result = sophmate_ledger_verify_webhook(getenv('BODY'), $headers, getenv('SECRET'), 300,
    (int) getenv('NOW'));
echo $result === null ? 'refused' : 'ok:' . ($result['id'] ?? '');
"""
NOW = 1_796_126_400

pytestmark = pytest.mark.skipif(
    shutil.which("php") is None, reason="php-cli is not installed (apt-get install php-cli)"
)


async def _php(body: bytes, headers: dict[str, str], secret: str, now: int = NOW) -> str:
    php = await asyncio.create_subprocess_exec(
        "php",
        "-r",
        DRIVER,
        "--",
        str(SNIPPET),
        env={
            "PATH": os.environ.get("PATH", ""),
            "BODY": body.decode(),
            "HEADERS": json.dumps(headers),
            "SECRET": secret,
            "NOW": str(now),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(php.communicate(), timeout=30)
    assert php.returncode == 0, err.decode()
    return out.decode().strip()


async def test_php_accepts_what_the_ledger_signs_and_refuses_the_rest() -> None:
    secret, other = signing.new_secret(), signing.new_secret()
    body = json.dumps({"id": "e-1", "type": "RunApproved", "data": {"note": "ünïcode"}}).encode()
    headers = signing.headers([secret], "e-1", NOW, body)
    assert await _php(body, headers, secret) == "ok:e-1"
    rotated = signing.headers([other, secret], "e-1", NOW, body)
    assert await _php(body, rotated, secret) == "ok:e-1"
    assert await _php(body.replace(b"Approved", b"Rejected"), headers, secret) == "refused"
    assert await _php(body, headers, other) == "refused"
    assert await _php(body, headers, secret, now=NOW + 301) == "refused"
    assert await _php(body, headers | {"webhook-id": "e-2"}, secret) == "refused"
    assert await _php(body, headers | {"webhook-timestamp": "12a"}, secret) == "refused"


async def test_the_spec_vector_verifies_in_php() -> None:
    from tests.service.webhooks.test_signing import (
        SPEC_BODY,
        SPEC_ID,
        SPEC_SECRET,
        SPEC_SIGNATURE,
        SPEC_TIMESTAMP,
    )

    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert await _php(SPEC_BODY, headers, SPEC_SECRET, SPEC_TIMESTAMP) == "ok:"
    changed = SPEC_BODY.replace(b"2432232314", b"2432232315")
    assert await _php(changed, headers, SPEC_SECRET, SPEC_TIMESTAMP) == "refused"
