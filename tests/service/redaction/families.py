"""A generated corpus per secret family: random values (seeded per family, so every run sees the
same ones and no real-looking token sits in the source) in the contexts they are pasted in.

`raw` is what must never survive: the secret itself, or, for a value too short to search for on
its own (a CVV), the phrase that holds it.
"""

from __future__ import annotations

import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
BASE64 = ALNUM + "+/"
# What the WordPress salt generator draws from, less the quotes and backslash it leaves out.
WP_SALT = ALNUM + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
PER_FAMILY = 16


@dataclass(frozen=True)
class Sample:
    family: str
    text: str
    raw: str
    kinds: frozenset[str]


Rng = random.Random
Maker = Callable[[Rng], tuple[str, str]]
"""Makes one (text, raw) pair from the family's random source."""


def chars(rng: Rng, length: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def token(rng: Rng, length: int, alphabet: str = ALNUM) -> str:
    """Random characters with a capital, a small letter and a digit, as real keys have."""
    body = list(chars(rng, length - 3, alphabet))
    for must in ("Q", "m", "7"):
        if must in alphabet:
            body.insert(rng.randrange(len(body) + 1), must)
    while len(body) < length:
        body.append(rng.choice(alphabet))
    return "".join(body)


def in_context(rng: Rng, secret: str) -> str:
    """The secret as support people paste it: alone, in a sentence, in a config line, in JSON."""
    templates = (
        "{s}",
        "the plugin log shows {s} before the 401",
        "customer pasted: {s}.",
        "line one\n{s}\nline three",
        '{{"value": "{s}"}}',
        "(see {s})",
    )
    return rng.choice(templates).format(s=secret)


def _plain(make: Callable[[Rng], str]) -> Maker:
    def maker(rng: Rng) -> tuple[str, str]:
        secret = make(rng)
        return in_context(rng, secret), secret

    return maker


def _twilio(rng: Rng) -> str:
    return rng.choice(("SK", "AC")) + token(rng, 32, HEX)


def _square(rng: Rng) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return "sq0atp-" + token(rng, 22, URLSAFE)
    if choice == 1:
        return "sq0csp-" + token(rng, 43, URLSAFE)
    return "EAAA" + token(rng, 60, URLSAFE)


def _azure(rng: Rng) -> tuple[str, str]:
    key = token(rng, 86, BASE64) + "=="
    text = f"DefaultEndpointsProtocol=https;AccountName=shop{rng.randrange(99)};AccountKey={key};"
    return text + "EndpointSuffix=core.windows.net", key


def _app_password(rng: Rng) -> str:
    # The case: no digit at all, as WordPress sometimes draws.
    return " ".join(token(rng, 4, string.ascii_letters) for _ in range(6))


def _wp_config(rng: Rng) -> tuple[str, str]:
    name = rng.choice(
        ("DB_PASSWORD", "AUTH_KEY", "SECURE_AUTH_SALT", "NONCE_KEY", "LOGGED_IN_SALT")
    )
    value = token(rng, 12, ALNUM + "!#%") if name == "DB_PASSWORD" else token(rng, 64, WP_SALT)
    quote = rng.choice(("'", '"'))
    return f"define( {quote}{name}{quote}, {quote}{value}{quote} );", value


def _cookie(rng: Rng) -> tuple[str, str]:
    user = rng.choice(("admin", "shopmanager", "dana"))
    value = f"{user}%7C{rng.randrange(1_700_000_000, 1_900_000_000)}%7C{token(rng, 43)}%7C"
    value += chars(rng, 64, HEX)
    name = rng.choice(("wordpress_logged_in_", "wordpress_sec_"))
    return f"Cookie: {name}{chars(rng, 32, HEX)}={value}; wp-settings-1=mfold%3Do", value


def _cvv(rng: Rng) -> tuple[str, str]:
    code = chars(rng, rng.choice((3, 4)), string.digits)
    phrase = rng.choice(("CVV: {c}", "cvc {c}", "CVV2={c}", "security code is {c}", "CVC: {c}"))
    said = phrase.format(c=code)
    return f"card ending 4242, {said}, expires 12/29", said


def _ssn(rng: Rng) -> tuple[str, str]:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    ssn = f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10_000):04d}"
    return rng.choice(("SSN {s}", "tax form lists {s} for the owner", "ssn: {s}")).format(
        s=ssn
    ), ssn


def _phone(rng: Rng) -> tuple[str, str]:
    area, exchange = rng.randrange(201, 990), rng.randrange(200, 1000)
    line = f"{rng.randrange(10_000):04d}"
    number = rng.choice(
        (
            f"({area}) {exchange} {line}",
            f"{area} {exchange} {line}",
            f"+1 {area} {exchange} {line}",
            f"+44 20 {rng.randrange(7000, 8000)} {line}",
            f"+49 30 {rng.randrange(1000, 9999)} {line}",
            f"020 {rng.randrange(7000, 8000)} {line}",
        )
    )
    return rng.choice(("call me on {n}", "{n}", "phone {n} after 5pm")).format(n=number), number


_STREETS = ("Main", "Elm", "Oak Hill", "Pennsylvania", "Maple", "Sunset", "Cedar Ridge")
_TYPES = ("Street", "St", "Avenue", "Ave", "Road", "Drive", "Lane", "Boulevard", "Court", "Way")
_TOWNS = (("Springfield", "IL"), ("Portland", "OR"), ("Austin", "TX"), ("Albany", "NY"))


def _address(rng: Rng) -> tuple[str, str]:
    street = f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_TYPES)}"
    town, state = rng.choice(_TOWNS)
    if rng.random() < 0.2:
        street = f"{rng.choice(('Haupt', 'Linden', 'Berg'))}straße {rng.randrange(1, 200)}"
        return f"ship to {street}, {rng.randrange(10000, 99999)} Berlin", street
    text = f"{street}, {town}, {state} {rng.randrange(10000, 99999)}"
    return rng.choice(("ship to {a}", "{a}", "billing address: {a}")).format(a=text), street


def _escaped_password(rng: Rng) -> tuple[str, str]:
    password = token(rng, 14, ALNUM + "!#&*")
    key = rng.choice(("password", "db_password", "pwd", "client_secret"))
    return f'{{"body": "{{\\"user\\":\\"dana\\",\\"{key}\\":\\"{password}\\"}}"}}', password


def _split(rng: Rng) -> tuple[str, str]:
    """Another family's secret with zero-width characters inside it."""
    family = rng.choice(("github_pat_", "glpat-", "npm_", "sk-ant-api03-"))
    lengths = {"github_pat_": 82, "glpat-": 20, "npm_": 36, "sk-ant-api03-": 40}
    secret = family + token(rng, lengths[family])
    cut = sorted(rng.sample(range(1, len(secret)), 3))
    pieces = [secret[i:j] for i, j in zip([0, *cut], [*cut, len(secret)], strict=True)]
    return in_context(rng, "".join(p + rng.choice(ZERO_WIDTH) for p in pieces)[:-1]), secret


FAMILIES: dict[str, tuple[frozenset[str], Maker]] = {
    "github_fine_grained": (
        frozenset({"github_token"}),
        _plain(lambda r: f"github_pat_{token(r, 22)}_{token(r, 59)}"),
    ),
    "gitlab": (frozenset({"gitlab_token"}), _plain(lambda r: "glpat-" + token(r, 20, URLSAFE))),
    "npm": (frozenset({"npm_token"}), _plain(lambda r: "npm_" + token(r, 36))),
    "huggingface": (frozenset({"huggingface_token"}), _plain(lambda r: "hf_" + token(r, 34))),
    "sendgrid": (
        frozenset({"sendgrid_key"}),
        _plain(lambda r: f"SG.{token(r, 22, URLSAFE)}.{token(r, 43, URLSAFE)}"),
    ),
    "mailgun": (frozenset({"mailgun_key"}), _plain(lambda r: "key-" + token(r, 32, HEX))),
    "mailchimp": (
        frozenset({"mailchimp_key"}),
        _plain(lambda r: f"{token(r, 32, HEX)}-us{r.randrange(1, 21)}"),
    ),
    "twilio": (frozenset({"twilio_key"}), _plain(_twilio)),
    "shopify": (
        frozenset({"shopify_token"}),
        _plain(lambda r: r.choice(("shpat_", "shpss_", "shpca_", "shppa_")) + token(r, 32, HEX)),
    ),
    "square": (frozenset({"square_token"}), _plain(_square)),
    "braintree": (
        frozenset({"braintree_token"}),
        _plain(
            lambda r: f"access_token$production${chars(r, 16, LOWER_ALNUM)}${token(r, 32, HEX)}"
        ),
    ),
    "telegram": (
        frozenset({"telegram_bot_token"}),
        _plain(lambda r: f"{r.randrange(10**7, 10**10)}:AA{token(r, 33, URLSAFE)}"),
    ),
    "slack_webhook": (
        frozenset({"slack_webhook"}),
        _plain(
            lambda r: (
                f"https://hooks.slack.com/services/T{chars(r, 8, string.ascii_uppercase)}"
                f"/B{chars(r, 10, string.ascii_uppercase)}/{token(r, 24)}"
            )
        ),
    ),
    "discord_webhook": (
        frozenset({"discord_webhook"}),
        _plain(
            lambda r: (
                f"https://discord.com/api/webhooks/{r.randrange(10**17, 10**18)}/"
                + token(r, 68, URLSAFE)
            )
        ),
    ),
    "azure_storage": (frozenset({"azure_storage_key"}), _azure),
    "google_oauth": (
        frozenset({"google_oauth_secret"}),
        _plain(lambda r: "GOCSPX-" + token(r, 28, URLSAFE)),
    ),
    "wp_app_password_letters": (frozenset({"wordpress_app_password"}), _plain(_app_password)),
    "wp_config": (frozenset({"wp_config_secret"}), _wp_config),
    "wordpress_logged_in_cookie": (frozenset({"wordpress_cookie"}), _cookie),
    "cvv": (frozenset({"card_cvv"}), _cvv),
    "us_ssn": (frozenset({"us_ssn"}), _ssn),
    "phone_with_spaces": (frozenset({"phone"}), _phone),
    "postal_address": (frozenset({"postal_address"}), _address),
    "json_escaped_password": (frozenset({"password_pair", "secret_field"}), _escaped_password),
    "zero_width_split": (
        frozenset({"github_token", "gitlab_token", "npm_token", "anthropic_key"}),
        _split,
    ),
}


def corpus(per_family: int = PER_FAMILY) -> list[Sample]:
    samples = []
    for family, (kinds, make) in FAMILIES.items():
        rng = random.Random(zlib.crc32(family.encode()))
        for _ in range(per_family):
            text, raw = make(rng)
            samples.append(Sample(family, text, raw, kinds))
    return samples


CORPUS = corpus()


def visible(text: str) -> str:
    """What a reader sees: the text without zero-width characters (how a split secret is read)."""
    return text.translate({ord(c): None for c in ZERO_WIDTH})
