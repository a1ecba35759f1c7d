"""What a secret shape is, and the small checks shapes share (service/redaction_patterns.py
orders them; service/redaction_families.py and service/redaction_personal.py hold most of them).

A pattern starts behind a negative look-behind or at a literal, so the engine tries it only where
a match could begin; that, and the literal hints, keep a 1 MB document fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MARKER_PREFIX = "[REDACTED:"
# A marker already in the text (a re-scan of redacted evidence) is never matched again.
MARKER = re.compile(r"\[REDACTED:[a-z_]+\](?: \(\d+\))?")

Accepts = Callable[[re.Match[str]], bool]

BEFORE = r"(?<![\w-])"
"""A token starts here: not inside a word, an identifier or a longer token."""
AFTER = r"(?![A-Za-z0-9_-])"
"""A token ends here."""
DIGITS = tuple("0123456789")
"""The hints of a shape whose every match holds a digit."""


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


def shape(kind: str, pattern: str, accepts: Accepts = always, hints: tuple[str, ...] = ()) -> Shape:
    return Shape(kind, re.compile(pattern), accepts, hints)


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


def not_placeholder(match: re.Match[str]) -> bool:
    return not is_placeholder(masked_part(match))


def has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def mixed(match: re.Match[str]) -> bool:
    """A generated token has a letter and a digit; a word or a slug of the same shape rarely."""
    text = masked_part(match)
    return has_digit(text) and any(c.isalpha() for c in text)


def mixed_case(match: re.Match[str]) -> bool:
    """Both small and capital letters, as a random base62 token almost surely has."""
    text = masked_part(match)
    return any(c.isupper() for c in text) and any(c.islower() for c in text)


def digit_count(low: int, high: int) -> Accepts:
    def accepts(match: re.Match[str]) -> bool:
        return low <= sum(c.isdigit() for c in masked_part(match)) <= high

    return accepts
