"""Two corpora for the redaction module: secrets and personal data that must be caught, and
ordinary shop and ops text that must come through unchanged.

Every secret is fake and built at import time from a fixed seed, so no provider-shaped token sits
in the source for a secret scanner to trip over, and every run sees the same samples.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

_rng = random.Random(20240501)
ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
BASE64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def fake(length: int, alphabet: str = ALNUM) -> str:
    """Random characters, always with a capital, a small letter and a digit when the alphabet has
    them (a real key almost surely does)."""
    body = "".join(_rng.choice(alphabet) for _ in range(length - 3))
    must = [c for c in ("Q", "m", "7") if c in alphabet]
    return body + "".join(must) + "".join(_rng.choice(alphabet) for _ in range(3 - len(must)))


def luhn_complete(prefix: str, length: int) -> str:
    """A Luhn-valid card number of `length` digits starting with `prefix`."""
    body = prefix + "".join(_rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        digits = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable: one check digit always fits")


def b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def pem(label: str) -> str:
    lines = "\n".join(fake(64, BASE64) for _ in range(4))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


@dataclass(frozen=True)
class SecretSample:
    name: str
    text: str
    kinds: frozenset[str]
    raw: tuple[str, ...]  # the parts that must never survive redaction


def sample(name: str, template: str, kind: str | set[str], *raw: str) -> SecretSample:
    kinds = frozenset({kind} if isinstance(kind, str) else kind)
    return SecretSample(name, template.format(*raw), kinds, raw)


OPENAI = "sk-" + fake(48)
OPENAI_PROJECT = "sk-" + "proj-" + fake(120, URLSAFE)
ANTHROPIC = "sk-" + "ant-api03-" + fake(93, URLSAFE) + "AA"
AWS_ID = "AK" + "IA" + fake(16, UPPER_ALNUM)
AWS_SECRET = fake(40, BASE64)
STRIPE_LIVE = "sk_" + "live_" + fake(99)
GITHUB_CLASSIC = "gh" + "p_" + fake(36)
JWT = ".".join(
    [
        b64url({"alg": "HS256", "typ": "JWT"}),
        b64url({"sub": "ops-lead", "site": "acme-shop", "exp": 1767225600}),
        fake(43, URLSAFE),
    ]
)

SECRET_SAMPLES: list[SecretSample] = [
    sample("openai legacy", "export OPENAI_API_KEY={}", "openai_key", OPENAI),
    sample("openai project", "the agent used {} for the run", "openai_key", OPENAI_PROJECT),
    sample("openai in json text", '{{"model": "gpt-4o", "api_key": "{}"}}', "openai_key", OPENAI),
    sample("anthropic", "ANTHROPIC_API_KEY={}", "anthropic_key", ANTHROPIC),
    sample(
        "anthropic admin", "rotate {} today", "anthropic_key", "sk-" + "ant-admin01-" + fake(90)
    ),
    sample("aws key id", "aws_access_key_id = {}", "aws_access_key_id", AWS_ID),
    sample(
        "aws session id",
        "temporary id {} expires",
        "aws_access_key_id",
        "AS" + "IA" + fake(16, UPPER_ALNUM),
    ),
    sample("aws secret ini", "aws_secret_access_key = {}", "aws_secret_key", AWS_SECRET),
    sample("aws secret json", '"SecretAccessKey": "{}"', "aws_secret_key", fake(40, BASE64)),
    sample(
        "aws credentials csv",
        "ops-bot,{},{}",
        {"aws_access_key_id", "aws_secret_key"},
        "AK" + "IA" + fake(16, UPPER_ALNUM),
        fake(40, BASE64),
    ),
    sample("stripe live", "STRIPE_SECRET={}", "stripe_key", STRIPE_LIVE),
    sample("stripe restricted", "key {} in logs", "stripe_key", "rk_" + "live_" + fake(99)),
    sample("stripe test", "test mode: {}", "stripe_key", "sk_" + "test_" + fake(99)),
    sample(
        "github classic",
        "git clone https://{}@github.com/acme/shop",
        "github_token",
        GITHUB_CLASSIC,
    ),
    sample("github oauth", "token {}", "github_token", "gh" + "o_" + fake(36)),
    sample(
        "github fine grained",
        "GH_TOKEN={}",
        "github_token",
        "github_" + "pat_" + fake(22) + "_" + fake(59),
    ),
    sample(
        "slack bot",
        "SLACK_BOT_TOKEN={}",
        "slack_token",
        "xo" + "xb-" + fake(12, string.digits) + "-" + fake(13, string.digits) + "-" + fake(24),
    ),
    sample("slack user", "posted with {}", "slack_token", "xo" + "xp-" + fake(40, ALNUM + "-")),
    sample("google api key", "maps key={}", "google_api_key", "AI" + "za" + fake(35, URLSAFE)),
    sample("jwt", "id_token: {}", "jwt", JWT),
    sample("jwt in bearer header", "Authorization: Bearer {}", "jwt", JWT),
    sample("pem rsa", "key follows\n{}\nend of key", "private_key", pem("RSA PRIVATE KEY")),
    sample("pem openssh", "{}", "private_key", pem("OPENSSH PRIVATE KEY")),
    sample("pem pkcs8", "cert.key: {}", "private_key", pem("PRIVATE KEY")),
    sample(
        "url password postgres",
        "DATABASE_URL=postgresql://ledger:{}@db.internal:5432/ledger",
        "url_password",
        "s3cr3t-Pa55-" + fake(8),
    ),
    sample(
        "url password https",
        "https://admin:{}@shop.example.com/wp-admin",
        "url_password",
        "Hunter2x9",
    ),
    sample("password pair", "login failed for bob password={}", "password_pair", "Winter2024!"),
    sample("passwd colon", "passwd: {}", "password_pair", "hunter2-Secure"),
    sample(
        "pwd json quoted",
        '{{"user": "bob", "pwd": "{}"}}',
        "password_pair",
        "correct horse battery",
    ),
    sample("password env quoted", "DB_PASSWORD='{}'", "password_pair", "p@ssw0rd!"),
    sample("password in query", "/login?user=bob&password={}&next=/", "password_pair", "Spring24"),
    sample("authorization bearer", "Authorization: Bearer {}", "authorization_header", fake(40)),
    sample(
        "authorization basic",
        "curl -H 'Authorization: Basic {}' https://shop.example.com/wp-json",
        "authorization_header",
        base64.b64encode(b"shop_admin:Xk29 PqLm 3vBn 7rTw 4hJs 8dFa").decode(),
    ),
    sample(
        "proxy authorization",
        "Proxy-Authorization: Basic {}",
        "authorization_header",
        "dXNlcjpwYXNz",
    ),
    sample(
        "bare bearer token", "sent Bearer {} to the API", "authorization_header", fake(32, URLSAFE)
    ),
    sample(
        "woocommerce keys",
        "/wp-json/wc/v3/orders?consumer_key={}&consumer_secret={}",
        "woocommerce_key",
        "ck_" + fake(40, "0123456789abcdef"),
        "cs_" + fake(40, "0123456789abcdef"),
    ),
    sample(
        "wordpress app password",
        "Application password: {}",
        "wordpress_app_password",
        "Xk29 PqLm 3vBn 7rTw 4hJs 8dFa",
    ),
    sample(
        "wordpress lowercase",
        "use {} for the REST user",
        "wordpress_app_password",
        "xk3p 9qlm 2vbn 7rtw 4hjs 8dfa",
    ),
    sample(
        "visa spaced", "card 4111 1111 1111 1111 declined", "card_number", "4111 1111 1111 1111"
    ),
    sample("mastercard dashed", "paid with {}", "card_number", "5555-5555-5555-4444"),
    sample("amex", "amex {} exp 12/27", "card_number", "378282246310005"),
    sample("generated visa", "PAN={}", "card_number", luhn_complete("4", 16)),
    sample("generated mastercard 2-series", "card: {}", "card_number", luhn_complete("2221", 16)),
    sample("iban gb", "refund to {} please", "iban", "GB82WEST12345698765432"),
    sample("iban gb spaced", "IBAN: {}", "iban", "GB82 WEST 1234 5698 7654 32"),
    sample("iban de", "Konto {}", "iban", "DE89370400440532013000"),
    sample("iban fr", "RIB {}", "iban", "FR1420041010050500013M02606"),
    sample("email", "Customer {} asked for a refund", "email", "jane.doe+orders@example.co.uk"),
    sample("email mailto", "<a href='mailto:{}'>", "email", "ops@sophmate.dev"),
    sample("phone international", "call {} after 5pm", "phone", "+44 20 7946 0958"),
    sample("phone us", "phone: {}", "phone", "+1 (415) 555-2671"),
    sample("phone compact", "WhatsApp {}", "phone", "+4915112345678"),
    sample("phone north american", "call {}", "phone", "(415) 555-2671"),
    sample("phone dashed", "mobile {}", "phone", "415-555-2671"),
    sample("phone uk national", "tel {}", "phone", "020 7946 0958"),
    sample("phone french", "portable {}", "phone", "06 12 34 56 78"),
]

ORDINARY_SAMPLES: list[str] = [
    "Order #10482 shipped to the customer",
    "Order 2024-000123 was refunded in full",
    "request 550e8400-e29b-41d4-a716-446655440000 timed out",
    "Total: $1,299.00 incl. VAT",
    "Preis: €49,90 pro Monat",
    "£1,234.56 paid on 2024-05-01",
    "2024-05-01T12:30:00Z",
    "2024-05-01 12:30:00+02:00",
    "Bestellung Nr. 100234 vom 01.05.2024",
    "WordPress 6.6.2 with PHP 8.2.12 and SophMate 2.4.1",
    "WooCommerce 9.1.0-beta.2 changelog",
    "https://shop.example.com:8443/wp-json/wc/v3/orders?status=processing&per_page=50",
    "https://example.com/search?q=red+shoes&page=2#results",
    "http://10.0.0.12:8080/health and 192.168.1.10",
    "Reset your password in Settings > Security.",
    "Password: required",
    "The password field must be at least 12 characters.",
    "Forgot password? Click the link we e-mailed you.",
    "Use the API key from Settings > Integrations",
    "Authorization: required for all endpoints",
    "Bearer authentication is configured in the plugin settings",
    'token_type: "bearer"',
    "max_tokens=1024, prompt_tokens: 512",
    "SKU WC-HOODIE-BLK-XL and SKU: TSHIRT-RED-M-2024",
    "status changed from wc-processing to wc-completed (was wc-on-hold)",
    "brand colours #ff5733, #FFF and #1a2b3c",
    "commit 9fceb02d0ae598e95dc970b74764b9d9c1a0c7a3 fixed it",
    "Tracking number 1Z999AA10123456784",
    "Ticket INC-2024-0042 opened by the on-call engineer",
    "Run 3 of 5 took 1.25 s (p95 340 ms)",
    "epoch 1717171717171 ms",
    "years 2019 2020 2021 2022 2023 2024",
    "Deploy v2.4.1 to 3 of 12 sites at 14:05 UTC",
    "+5% conversion since 2024-05-01, +1 more item",
    "Invoice INV-000123-2024 due 30/06/2024",
    '{"status": "processing", "total": "49.90", "currency": "EUR"}',
    "the scikit package sk-learn is unrelated",
    "gh pr list --state open",
    "this is what they were like when",
    "ISO 8601 and RFC 3339 timestamps",
]
