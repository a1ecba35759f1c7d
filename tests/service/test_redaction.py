"""Redaction finds every secret and personal-data shape, says where and what kind, never the value,
and leaves ordinary shop and ops text alone. Pure functions: no database."""

from __future__ import annotations

import json

import pytest

from service.redaction import Finding, redact, redact_text, scan
from tests.service.redaction_corpus import (
    ANTHROPIC,
    AWS_ID,
    GITHUB_CLASSIC,
    JWT,
    OPENAI,
    ORDINARY_SAMPLES,
    SECRET_SAMPLES,
    STRIPE_LIVE,
    SecretSample,
    luhn_complete,
)


def test_the_corpora_are_big_enough_and_cover_every_kind() -> None:
    kinds = set().union(*(s.kinds for s in SECRET_SAMPLES))
    assert len(SECRET_SAMPLES) >= 40
    assert len(ORDINARY_SAMPLES) >= 30
    assert kinds >= {
        "openai_key", "anthropic_key", "aws_access_key_id", "aws_secret_key", "stripe_key",
        "github_token", "slack_token", "google_api_key", "jwt", "private_key", "url_password",
        "password_pair", "authorization_header", "woocommerce_key", "wordpress_app_password",
        "card_number", "iban", "email", "phone",
    }  # fmt: skip


@pytest.mark.parametrize("secret", SECRET_SAMPLES, ids=lambda s: s.name)
def test_every_secret_is_found_with_its_kind_and_masked(secret: SecretSample) -> None:
    masked, kinds = redact_text(secret.text)

    assert set(kinds) == secret.kinds
    for raw in secret.raw:
        assert raw not in masked
    for kind in secret.kinds:
        assert f"[REDACTED:{kind}]" in masked


@pytest.mark.parametrize("secret", SECRET_SAMPLES, ids=lambda s: s.name)
def test_findings_never_carry_the_value(secret: SecretSample) -> None:
    document = {"evidence": {"note": secret.text}}

    copy, findings = redact(document)

    assert findings == [Finding("/evidence/note", kind) for kind in sorted(secret.kinds)]
    assert scan(document) == findings
    for raw in secret.raw:
        assert raw not in repr(findings)
        assert raw not in json.dumps(copy)


@pytest.mark.parametrize("secret", SECRET_SAMPLES, ids=lambda s: s.name)
def test_redacting_twice_finds_nothing_new(secret: SecretSample) -> None:
    masked, _ = redact_text(secret.text)
    assert redact_text(masked) == (masked, [])


@pytest.mark.parametrize("text", ORDINARY_SAMPLES)
def test_ordinary_text_comes_through_unchanged(text: str) -> None:
    assert redact_text(text) == (text, [])
    assert redact({"line": text}) == ({"line": text}, [])


def test_a_playbook_secret_anywhere_is_reported_by_pointer_and_kind() -> None:
    playbook = {
        "name": "Refund a disputed order",
        "steps": [
            {"id": 1, "prompt": "Look up order #10482 and summarise it."},
            {"id": 2, "prompt": f"Call the model with {ANTHROPIC} and report."},
            {
                "id": 3,
                "actions": [["noop", {"cmd": ["curl", "-H", f"Authorization: Bearer {JWT}"]}]],
            },
        ],
        "inputs": {"stripe": {"type": "string", "default": STRIPE_LIVE}},
        GITHUB_CLASSIC: {"note": "a token pasted as a key name"},
    }

    findings = scan(playbook)

    assert findings == [
        Finding("/[REDACTED:github_token]", "github_token", in_key=True),
        Finding("/inputs/stripe/default", "stripe_key"),
        Finding("/steps/1/prompt", "anthropic_key"),
        Finding("/steps/2/actions/0/1/cmd/2", "jwt"),
    ]
    copy, _ = redact(playbook)
    for raw in (ANTHROPIC, JWT, STRIPE_LIVE, GITHUB_CLASSIC):
        assert raw not in repr(findings)
        assert raw not in json.dumps(copy)
    assert scan(copy) == []


def test_the_redacted_copy_masks_keys_and_values_and_leaves_the_original_alone() -> None:
    original = {"steps": [{OPENAI: "x", "prompt": f"key {AWS_ID}"}], "count": 3, "ok": True}
    before = json.dumps(original)

    copy, findings = redact(original)

    assert copy == {
        "steps": [{"[REDACTED:openai_key]": "x", "prompt": "key [REDACTED:aws_access_key_id]"}],
        "count": 3,
        "ok": True,
    }
    assert findings == [
        Finding("/steps/0/[REDACTED:openai_key]", "openai_key", in_key=True),
        Finding("/steps/0/prompt", "aws_access_key_id"),
    ]
    assert json.dumps(original) == before


def test_two_secret_keys_that_mask_alike_both_survive() -> None:
    copy, findings = redact({OPENAI: 1, OPENAI[:-1] + "Z": 2})

    assert copy == {"[REDACTED:openai_key]": 1, "[REDACTED:openai_key] (2)": 2}
    assert [f.pointer for f in findings] == ["/[REDACTED:openai_key]", "/[REDACTED:openai_key] (2)"]


def test_pointers_escape_tilde_and_slash() -> None:
    findings = scan({"a/b": {"m~n": ["jane@example.com"]}})
    assert findings == [Finding("/a~1b/m~0n/0", "email")]


def test_a_bare_string_has_the_empty_pointer() -> None:
    assert scan("write to jane@example.com") == [Finding("", "email")]


def test_findings_are_sorted_and_de_duplicated() -> None:
    findings = scan({"b": "a@example.com and b@example.com", "a": ["+44 20 7946 0958", "x@y.io"]})
    assert findings == [
        Finding("/a/0", "phone"),
        Finding("/a/1", "email"),
        Finding("/b", "email"),
    ]


def test_a_field_named_like_a_credential_is_masked_whatever_its_value() -> None:
    document = {
        "db": {"password": "hunter2", "dbPassword": "letmein", "client_secret": "abc"},
        "headers": {"X-Api-Key": "plain-value", "Authorization": f"Bearer {JWT}"},
    }

    copy, findings = redact(document)

    assert copy == {
        "db": {
            key: "[REDACTED:secret_field]" for key in ("password", "dbPassword", "client_secret")
        },
        "headers": {key: "[REDACTED:secret_field]" for key in ("X-Api-Key", "Authorization")},
    }
    assert findings == [
        Finding("/db/client_secret", "secret_field"),
        Finding("/db/dbPassword", "secret_field"),
        Finding("/db/password", "secret_field"),
        Finding("/headers/Authorization", "jwt"),
        Finding("/headers/Authorization", "secret_field"),
        Finding("/headers/X-Api-Key", "secret_field"),
    ]


def test_credential_looking_names_without_a_secret_value_pass() -> None:
    document = {
        "max_tokens": 1024,
        "token_count": "5",
        "require_password": True,
        "password": "",
        "api_key": "${SHOP_API_KEY}",
        "secretary": "Ms Jones",
        "password_hint": "first pet",
    }
    assert redact(document) == (document, [])


def test_numbers_are_checked_too() -> None:
    card = int(luhn_complete("4", 16))
    document = {"card": card, "epoch_ms": 1717171717171, "total": 1299.0, "qty": 3, "none": None}

    copy, findings = redact(document)

    assert findings == [Finding("/card", "card_number")]
    assert copy == {**document, "card": "[REDACTED:card_number]"}


def test_a_card_number_must_pass_luhn() -> None:
    valid = luhn_complete("4", 16)
    broken = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert redact_text(f"card {valid}")[1] == ["card_number"]
    assert redact_text(f"card {broken}") == (f"card {broken}", [])


def test_an_iban_must_pass_mod_97() -> None:
    assert redact_text("GB82WEST12345698765432")[1] == ["iban"]
    assert redact_text("GB83WEST12345698765432")[1] == []


def test_forty_hex_is_a_commit_not_an_aws_secret() -> None:
    sha = "9fceb02d0ae598e95dc970b74764b9d9c1a0c7a3"
    assert redact_text(f"aws_secret_access_key = {sha}")[1] == ["password_pair"]
    assert redact_text(f"merged {sha}")[1] == []


def test_redact_text_lists_each_kind_once_in_order() -> None:
    masked, kinds = redact_text(f"{OPENAI} jane@example.com {OPENAI} +44 20 7946 0958")
    assert kinds == ["email", "openai_key", "phone"]
    assert masked.count("[REDACTED:openai_key]") == 2


def shop_order(number: int) -> dict[str, object]:
    return {
        "order": f"#{10_000 + number}",
        "customer": {"note": f"Leave at door {number % 40}", "email": f"c{number}@example.com"},
        "items": [{"sku": f"WC-HOODIE-{number % 7}-XL", "price": f"${number % 90}.90", "qty": 2}],
        "placed": f"2024-05-{number % 28 + 1:02d}T12:{number % 60:02d}:00Z",
        "log": f"GET /wp-json/wc/v3/orders?page={number} 200 in {number % 97} ms",
    }


# Speed is measured in bench/, never asserted here; these only check large inputs come through.
def test_a_one_megabyte_document_finds_only_the_emails() -> None:
    orders = [shop_order(n) for n in range(4_200)]
    assert len(json.dumps(orders)) >= 1_000_000
    findings = scan({"orders": orders})
    assert set(findings) == {Finding(f"/orders/{n}/customer/email", "email") for n in range(4_200)}


def test_a_one_megabyte_ordinary_string_comes_through_unchanged() -> None:
    line = "Order #10482 shipped; total $1,299.00; v6.6.2 on 2024-05-01 " + "a" * 200 + "\n"
    text = line * (1_000_000 // len(line) + 1)
    assert redact_text(text) == (text, [])


@pytest.mark.parametrize(
    "unit",
    [
        "-----BEGIN PRIVATE KEY-----",
        "authorization=",
        "Bearer ",
        "secret",
        "password=",
        "pwd: '",
        "https://a:",
        "x@",
        "+1 ",
        "4111 ",
        "eyJhbGciOi.",
    ],
)
def test_pathological_repetition_finishes(unit: str) -> None:
    # These once took minutes (quadratic backtracking); a regression shows as a stalled suite.
    text = unit * (300_000 // len(unit))
    masked, _ = redact_text(text)
    assert len(masked) > 0
