"""The secret and personal-data shapes the redaction module looks for, in priority order.

Order matters: a match that overlaps one an earlier shape already claimed is dropped, so a specific
shape (an Anthropic key, a JWT, a provider's prefixed token) wins over a generic one (an OpenAI
`sk-`, a `password=` pair, a bearer header). The shapes themselves live by family:
service/redaction_families.py (provider tokens and webhook URLs), service/redaction_wordpress.py,
service/redaction_personal.py; the ones here are the core and the generic ones.
"""

from __future__ import annotations

import re

from service.redaction_families import PROVIDER_TOKENS
from service.redaction_personal import PERSONAL
from service.redaction_shapes import (
    AFTER,
    DIGITS,
    MARKER,
    MARKER_PREFIX,
    Shape,
    has_digit,
    is_placeholder,
    masked_part,
    not_placeholder,
)
from service.redaction_shapes import shape as _shape
from service.redaction_wordpress import WORDPRESS

__all__ = ["MARKER", "MARKER_PREFIX", "SHAPES", "Shape", "is_placeholder"]


def _openai(match: re.Match[str]) -> bool:
    # A slug such as "sk-marketing-plan-2024" is not a key: real keys mix both cases and digits.
    body = match.group(0)[3:]
    return any(c.isupper() for c in body) and any(c.islower() for c in body) and has_digit(body)


def _aws_secret(match: re.Match[str]) -> bool:
    # A git SHA is 40 hex characters too; a real secret is base64 with both cases.
    body = masked_part(match)
    return any(c.isupper() for c in body) and any(c.islower() for c in body)


def _unquoted_pair(match: re.Match[str]) -> bool:
    # "password=hunter2" is always a value; after a colon, prose ("Password: required") is common,
    # so a colon value must look like a password: a digit, a symbol, inner capitals or length.
    value = masked_part(match)
    if is_placeholder(value):
        return False
    if match.group("sep") in ("=", "=>"):
        return True
    inner_capital = value[1:] != value[1:].lower()
    return has_digit(value) or not value.isalpha() or inner_capital or len(value) >= 12


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card(match: re.Match[str]) -> bool:
    text = match.group(0)
    digits = "".join(c for c in text if c.isdigit())
    separators = {c for c in text if not c.isdigit()}
    # Issuer ranges keep epoch milliseconds and long order ids out: cards start 2-6.
    issuer = digits[0] in "3456" or 2221 <= int(digits[:4]) <= 2720
    return (
        13 <= len(digits) <= 19
        and len(separators) <= 1
        and issuer
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


# Country code and length of a full IBAN (SWIFT IBAN registry).
_IBAN_REGISTRY = """
AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18
DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23
IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31
MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27
SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30
"""
_IBAN_LENGTHS = {
    country: int(size) for country, size in re.findall(r"([A-Z]{2})(\d\d)", _IBAN_REGISTRY)
}


def iban_valid(candidate: str) -> bool:
    iban = candidate.replace(" ", "")
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban(match: re.Match[str]) -> bool:
    return iban_valid(match.group(0))


_CREDENTIAL_NAMES = (
    r"password|passwd|pwd|passphrase|secret|api[_-]?key|access[_-]?token|auth[_-]?token"
    r"|refresh[_-]?token|client[_-]?secret|private[_-]?key|secret[_-]?(?:access[_-]?)?key|token"
    r"|(?:secure_)?auth_(?:key|salt)|logged_in_(?:key|salt)|nonce_(?:key|salt)"
)
# A key such as `DB_PASSWORD` or `"pwd"` followed by `=`, `=>` or `:` on the same line. Only the
# value is masked, so the match starts at the credential word; the look-ahead lets the engine
# skip fast.
_PAIR_KEY = rf"(?=[PpSsAaCcRrTtLlNn])(?i:{_CREDENTIAL_NAMES})[\"']?[ \t]*"
_SEP = r"(?:=>|[:=])"
# A quote inside an escaped document: JSON in a JSON string (\"), HTML (&quot;), a URL (%22).
_ESCAPED_QUOTE = r"(?:\\{1,7}[\"']|&quot;|&#34;|%22)"
_PAIR_HINTS = ("pass", "pwd", "secret", "key", "token", "salt")
_AUTH_HEADER = r"(?<![\w-])(?i:(?:proxy-)?authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"


SHAPES: tuple[Shape, ...] = (
    _shape(
        "private_key",
        # Body: base64 lines (newlines maybe escaped) and "Proc-Type: ..." headers. The END line is
        # optional so a truncated paste is masked too; no lazy scan for it, which would be
        # quadratic on a text full of BEGIN lines.
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[A-Za-z0-9+/=\s\\]|[A-Za-z-]+:[^\r\n]*)*"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
        hints=("private key",),
    ),
    _shape("jwt", rf"(?<![\w-])eyJ[\w-]{{5,}}\.[\w-]{{5,}}\.[\w-]*{AFTER}", hints=("eyj",)),
    _shape("anthropic_key", rf"(?<![\w-])sk-ant-[\w-]{{20,}}{AFTER}", hints=("sk-ant-",)),
    *PROVIDER_TOKENS,
    _shape("openai_key", rf"(?<![\w-])sk-[\w-]{{20,}}{AFTER}", _openai, ("sk-",)),
    _shape(
        "stripe_key",
        rf"(?<![\w-])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{16,}}|whsec_[A-Za-z0-9]{{24,}}){AFTER}",
        hints=("_live_", "_test_", "whsec_"),
    ),
    _shape("slack_token", rf"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{{10,}}{AFTER}", hints=("xox",)),
    _shape("google_api_key", rf"(?<![\w-])AIza[\w-]{{35}}{AFTER}", hints=("aiza",)),
    _shape("woocommerce_key", rf"(?<![\w-])c[ks]_[0-9a-f]{{40}}{AFTER}", hints=("ck_", "cs_")),
    _shape(
        "aws_secret_key",
        r"(?=[Ss])(?i:secret)[\w.-]{0,40}[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        _aws_secret,
        ("secret",),
    ),
    _shape(
        "aws_secret_key",  # the secret right after its key id, as in the console's credentials CSV
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}[\s,;:|\"'=]{1,5}"
        r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        _aws_secret,
        ("akia", "asia"),
    ),
    _shape(
        "aws_access_key_id",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        hints=("akia", "asia", "abia", "acca"),
    ),
    _shape(
        "url_password",
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:(?P<secret>[^\s/?#@]+)@",
        not_placeholder,
        ("://",),
    ),
    _shape(
        "authorization_header",
        _AUTH_HEADER + r"(?i:bearer|basic|token|bot|apikey|negotiate|ntlm|sso-key)[ \t]+"
        r"(?P<secret>[^\s\"',;]{4,})",
        not_placeholder,
        ("authorization",),
    ),
    _shape(
        "authorization_header",
        _AUTH_HEADER + r"(?P<secret>(?=[\w.~+/=-]{0,512}?\d)[\w.~+/=-]{16,})",
        hints=("authorization",),
    ),
    _shape(
        "authorization_header",
        r"(?<![\w-])[Bb]earer[ \t]+(?P<secret>(?=[\w.~+/=-]{0,512}?\d)[\w.~+/=-]{16,})",
        hints=("bearer",),
    ),
    *WORDPRESS,
    _shape(
        "password_pair",
        _PAIR_KEY
        + _ESCAPED_QUOTE
        + r"[ \t]*(?:=>|[:=]|%3A)[ \t]*"
        + _ESCAPED_QUOTE
        + r"(?P<secret>(?:(?!"
        + _ESCAPED_QUOTE
        + r")[^\r\n]){1,256})"
        + _ESCAPED_QUOTE,
        not_placeholder,
        _PAIR_HINTS,
    ),
    _shape(
        "password_pair",
        _PAIR_KEY + _SEP + r"[ \t]*\"(?P<secret>[^\"\r\n]+)\"",
        not_placeholder,
        _PAIR_HINTS,
    ),
    _shape(
        "password_pair",
        _PAIR_KEY + _SEP + r"[ \t]*'(?P<secret>[^'\r\n]+)'",
        not_placeholder,
        _PAIR_HINTS,
    ),
    _shape(
        "password_pair",
        _PAIR_KEY + r"(?P<sep>=>|[:=])[ \t]*(?P<secret>[^\s\"'&,;>][^\s\"'&,;]*)",
        _unquoted_pair,
        _PAIR_HINTS,
    ),
    _shape(
        "iban",
        r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}"
        r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])",
        _iban,
        DIGITS,
    ),
    _shape(
        "card_number",
        r"(?<![\w.,/+-])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![\w]|[ -]\d|[.,]\d)",
        _card,
        DIGITS,
    ),
    _shape(
        "email",
        r"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}"
        r"(?![\w-])",
        hints=("@",),
    ),
    *PERSONAL,
)
