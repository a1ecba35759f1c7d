"""The secret and personal-data shapes the redaction module looks for, in priority order.

Order matters: a match that overlaps one an earlier shape already claimed is dropped, so a specific
shape (an Anthropic key, a JWT) wins over a generic one (an OpenAI `sk-`, a `password=` pair, a
bearer header). A pattern starts behind a negative look-behind or at a literal, so the engine
tries it only where a match could begin; that, and the literal hints, keep a 1 MB document fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MARKER_PREFIX = "[REDACTED:"
# A marker already in the text (a re-scan of redacted evidence) is never matched again.
MARKER = re.compile(r"\[REDACTED:[a-z_]+\](?: \(\d+\))?")

Accepts = Callable[[re.Match[str]], bool]


def always(_: re.Match[str]) -> bool:
    return True


@dataclass(frozen=True)
class Shape:
    """One kind of secret. The named group `secret`, when present, is the only part masked."""

    kind: str
    pattern: re.Pattern[str]
    accepts: Accepts = always
    # Lowercase literals of which a match always contains one; () means always run.
    hints: tuple[str, ...] = ()


def masked_part(match: re.Match[str]) -> str:
    return match.group("secret") if "secret" in match.re.groupindex else match.group(0)


def is_placeholder(value: str) -> bool:
    """`<your-password>`, `${DB_PASSWORD}`, `********` and our own markers are not secrets."""
    stripped = value.strip()
    return (
        not stripped
        or stripped.startswith(("<", "${", "{{", "%(", "["))
        or re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*|[*x•.]+", stripped) is not None
    )


def _openai(match: re.Match[str]) -> bool:
    # A slug such as "sk-marketing-plan-2024" is not a key: real keys mix both cases and digits.
    body = match.group(0)[3:]
    return any(c.isupper() for c in body) and any(c.islower() for c in body) and _has_digit(body)


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _aws_secret(match: re.Match[str]) -> bool:
    # A git SHA is 40 hex characters too; a real secret is base64 with both cases.
    body = masked_part(match)
    return any(c.isupper() for c in body) and any(c.islower() for c in body)


def _not_placeholder(match: re.Match[str]) -> bool:
    return not is_placeholder(masked_part(match))


def _unquoted_pair(match: re.Match[str]) -> bool:
    # "password=hunter2" is always a value; after a colon, prose ("Password: required") is common,
    # so a colon value must look like a password: a digit, a symbol, inner capitals or length.
    value = masked_part(match)
    if is_placeholder(value):
        return False
    if match.group("sep") == "=":
        return True
    inner_capital = value[1:] != value[1:].lower()
    return _has_digit(value) or not value.isalpha() or inner_capital or len(value) >= 12


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


def _digit_count(low: int, high: int) -> Accepts:
    def accepts(match: re.Match[str]) -> bool:
        return low <= sum(c.isdigit() for c in match.group(0)) <= high

    return accepts


def _wordpress(match: re.Match[str]) -> bool:
    # Six groups of four English words are prose; a generated password mixes letters and digits.
    text = match.group(0)
    return _has_digit(text) and any(c.isalpha() for c in text)


def _north_american(match: re.Match[str]) -> bool:
    # A North American area code never starts with 0 or 1.
    area = match.group("area") or match.group("area2")
    return area[0] in "23456789"


_CREDENTIAL_NAMES = (
    r"password|passwd|pwd|passphrase|secret|api[_-]?key|access[_-]?token|auth[_-]?token"
    r"|refresh[_-]?token|client[_-]?secret|private[_-]?key|secret[_-]?(?:access[_-]?)?key|token"
)
# A key such as `DB_PASSWORD` or `"pwd"` followed by `=` or `:` on the same line. Only the value
# is masked, so the match starts at the credential word; the look-ahead lets the engine skip fast.
_PAIR_KEY = rf"(?=[PpSsAaCcRrTt])(?i:{_CREDENTIAL_NAMES})[\"']?[ \t]*"
_AFTER = r"(?![A-Za-z0-9_-])"


_DIGITS = tuple("0123456789")
_PAIR_HINTS = ("pass", "pwd", "secret", "key", "token")
_AUTH_HEADER = r"(?<![\w-])(?i:(?:proxy-)?authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"


def _shape(
    kind: str, pattern: str, accepts: Accepts = always, hints: tuple[str, ...] = ()
) -> Shape:
    return Shape(kind, re.compile(pattern), accepts, hints)


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
    _shape("jwt", rf"(?<![\w-])eyJ[\w-]{{5,}}\.[\w-]{{5,}}\.[\w-]*{_AFTER}", hints=("eyj",)),
    _shape("anthropic_key", rf"(?<![\w-])sk-ant-[\w-]{{20,}}{_AFTER}", hints=("sk-ant-",)),
    _shape("openai_key", rf"(?<![\w-])sk-[\w-]{{20,}}{_AFTER}", _openai, ("sk-",)),
    _shape(
        "stripe_key",
        rf"(?<![\w-])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{16,}}|whsec_[A-Za-z0-9]{{24,}}){_AFTER}",
        hints=("_live_", "_test_", "whsec_"),
    ),
    _shape(
        "github_token",
        rf"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{{36,251}}|github_pat_\w{{22,}}){_AFTER}",
        hints=("gh",),
    ),
    _shape("slack_token", rf"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{{10,}}{_AFTER}", hints=("xox",)),
    _shape("google_api_key", rf"(?<![\w-])AIza[\w-]{{35}}{_AFTER}", hints=("aiza",)),
    _shape("woocommerce_key", rf"(?<![\w-])c[ks]_[0-9a-f]{{40}}{_AFTER}", hints=("ck_", "cs_")),
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
        _not_placeholder,
        ("://",),
    ),
    _shape(
        "authorization_header",
        _AUTH_HEADER + r"(?i:bearer|basic|token|bot|apikey|negotiate|ntlm|sso-key)[ \t]+"
        r"(?P<secret>[^\s\"',;]{4,})",
        _not_placeholder,
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
    _shape(
        "wordpress_app_password",
        r"(?<![A-Za-z0-9])[A-Za-z0-9]{4}(?: [A-Za-z0-9]{4}){5}(?![A-Za-z0-9])",
        _wordpress,
        (" ",),
    ),
    _shape(
        "password_pair",
        _PAIR_KEY + r"[:=][ \t]*\"(?P<secret>[^\"\r\n]+)\"",
        _not_placeholder,
        _PAIR_HINTS,
    ),
    _shape(
        "password_pair",
        _PAIR_KEY + r"[:=][ \t]*'(?P<secret>[^'\r\n]+)'",
        _not_placeholder,
        _PAIR_HINTS,
    ),
    _shape(
        "password_pair",
        _PAIR_KEY + r"(?P<sep>[:=])[ \t]*(?P<secret>[^\s\"'&,;]+)",
        _unquoted_pair,
        _PAIR_HINTS,
    ),
    _shape(
        "iban",
        r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}"
        r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])",
        _iban,
        _DIGITS,
    ),
    _shape(
        "card_number",
        r"(?<![\w.,/+-])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![\w]|[ -]\d|[.,]\d)",
        _card,
        _DIGITS,
    ),
    _shape(
        "email",
        r"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}"
        r"(?![\w-])",
        hints=("@",),
    ),
    _shape(
        "phone",
        r"(?<![\w+])\+(?:\d{8,15}|\d{1,3}(?:[ .-]?\(\d{1,4}\))?[ .-]?\d{1,8}(?:[ .-]\d{1,8}){0,5})"
        r"(?![\w+]|[ .-]\d)",
        _digit_count(8, 15),
        ("+",),
    ),
    _shape(
        "phone",
        r"(?<![\w+.-])(?:\((?P<area>\d{3})\)[ ]?|(?P<area2>\d{3})[-.])\d{3}[-.]\d{4}"
        r"(?![\w]|[.-]\d)",
        _north_american,
        _DIGITS,
    ),
    _shape(
        "phone",
        r"(?<![\w+.,/-])0\d{2,4}[ /-]\d{3,4}[ -]?\d{3,4}(?![\w]|[ .,/-]\d)",
        _digit_count(10, 12),
        ("0",),
    ),
    _shape("phone", r"(?<![\w+.,/-])0[1-9](?:[ .]\d{2}){4}(?![\w]|[ .,/-]\d)", hints=("0",)),
)
