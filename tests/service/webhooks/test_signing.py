"""Signatures as the Standard Webhooks spec gives them, checked by its own Python library."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.webhooks import signing

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_spec_known_answer() -> None:
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_library_verifies_what_we_sign_and_refuses_tampering() -> None:
    secret = signing.new_secret()
    now = int(datetime.now(UTC).timestamp())
    body = b'{"id":"e1","type":"RunApproved"}'
    headers = signing.headers([secret], "e1", now, body)
    assert Webhook(secret).verify(body, headers) == {"id": "e1", "type": "RunApproved"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"Approved", b"Rejected"), headers)
    old = signing.headers([secret], "e1", now - 3600, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, old)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_during_a_rotation_both_secrets_verify() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers([new, old], "e2", now, b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(b"{}", headers)
    Webhook(new).verify(b"{}", headers)


def test_fingerprints_name_a_secret_without_revealing_it() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(signing.fingerprint(secret)) == 16
    assert signing.fingerprint(secret) not in secret
