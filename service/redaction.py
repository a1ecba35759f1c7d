"""The one redaction module: finds secrets and personal data before anything reaches the event log.

Every command body passes it through the gate (service/redaction_gate.py), which masks or
refuses; a support handoff report and a playbook export are scanned again on their way out.
No function here returns, logs or raises with a matched value: a finding says where (an RFC 6901
pointer) and what kind, never what.

Pointers address the *redacted* document. A key that itself held a secret is replaced whole by
its marker, so a pointer can never carry the secret it points at (nor what surrounded it).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from service.redaction_patterns import MARKER, MARKER_PREFIX, SHAPES, Shape, is_placeholder

# A JSON key whose name says its value is a credential: `db_password`, `apiKey`, `client_secret`.
_SECRET_FIELD_NAME = re.compile(
    r"(?:password|passwd|pwd|passphrase|secret|api[-_ .]?key|token|(?:secret|private)[-_ .]?key"
    r"|secret[-_ .]?access[-_ .]?key|authorization|credentials?"
    r"|(?:secure_)?auth_(?:key|salt)|logged_in_(?:key|salt)|nonce_(?:key|salt)"
    r"|cvv2?|cvc2?|ssn|social[-_ .]?security[-_ .]?number)$",
    re.IGNORECASE,
)


IDENTITY_KINDS = frozenset({"email"})


@dataclass(frozen=True)
class Finding:
    """Where a secret was and what kind it was; never the secret itself."""

    pointer: str  # RFC 6901 pointer of the value (or of the key); "" for a bare string
    kind: str  # "openai_key", "card_number", "secret_field", ...
    in_key: bool = False  # the secret was in a dict KEY, not its value


def marker(kind: str) -> str:
    return f"{MARKER_PREFIX}{kind}]"


def scan(value: object) -> list[Finding]:
    """Every secret or personal-data shape in a string or nested JSON (dicts, lists, scalars), keys
    included. Never returns the matched text."""
    return redact(value)[1]


def redact(value: object) -> tuple[object, list[Finding]]:
    """A deep copy with every match replaced by "[REDACTED:<kind>]" (in keys too), and the
    findings."""
    findings: set[Finding] = set()
    masked = _redact_value(value, "", findings)
    return masked, sorted(findings, key=lambda f: (f.pointer, f.kind, f.in_key))


def redact_text(text: str) -> tuple[str, list[str]]:
    """Masked text and the kinds found (for log lines and Markdown reports)."""
    masked, kinds = _mask_text(text)
    return masked, sorted(kinds)


_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def safe_location_part(part: object) -> object:
    """A part of an error's location as a client may see it again: an index, or a name shaped
    like one of our field names with no secret shape in it. Anything else is a key the client
    chose (a name, an address, a secret) and is not echoed."""
    if isinstance(part, int) or (
        isinstance(part, str) and _FIELD_NAME.match(part) and not _mask_text(part)[1]
    ):
        return part
    return "<key>"


def escape_pointer_token(token: str) -> str:
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def _redact_value(value: object, pointer: str, findings: set[Finding]) -> object:
    if isinstance(value, str):
        masked, kinds = _mask_text(value)
        if kinds:
            findings.update(Finding(pointer, kind) for kind in kinds)
        return masked
    if isinstance(value, dict | Mapping):
        return _redact_mapping(value, pointer, findings)
    if isinstance(value, list | tuple):
        items = [_redact_value(item, f"{pointer}/{i}", findings) for i, item in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A card number can arrive as a JSON number; a masked number becomes the marker string.
        masked, kinds = _mask_text(str(value))
        if kinds:
            findings.update(Finding(pointer, kind) for kind in kinds)
            return masked
    return value


def _redact_mapping(
    mapping: Mapping[object, object], pointer: str, findings: set[Finding]
) -> dict[object, object]:
    copy: dict[object, object] = {}
    for key, item in mapping.items():
        masked_key: object = key
        key_kinds: set[str] = set()
        if isinstance(key, str):
            masked_key, key_kinds = _mask_text(key)
            if key_kinds:
                # The whole key goes: what surrounds a secret in a name ("Jane Roe, 12 Elm
                # Street") is as personal, and the pointer to it is shown to the client.
                whole = " ".join(marker(kind) for kind in sorted(key_kinds))
                masked_key = _unique_key(whole, copy)
        child = f"{pointer}/{escape_pointer_token(str(masked_key))}"
        if key_kinds:
            findings.update(Finding(child, kind, in_key=True) for kind in key_kinds)
        if isinstance(item, str) and _is_secret_field(key, item):
            # The whole value goes, whatever its shape; any recognisable kind is reported too.
            findings.add(Finding(child, "secret_field"))
            findings.update(Finding(child, kind) for kind in _mask_text(item)[1])
            copy[masked_key] = marker("secret_field")
        else:
            copy[masked_key] = _redact_value(item, child, findings)
    return copy


def _unique_key(masked_key: str, taken: Mapping[object, object]) -> str:
    # Two different secrets used as keys mask to the same text; neither entry may be lost.
    candidate, number = masked_key, 1
    while candidate in taken:
        number += 1
        candidate = f"{masked_key} ({number})"
    return candidate


def _is_secret_field(key: object, value: str) -> bool:
    return (
        isinstance(key, str)
        and _SECRET_FIELD_NAME.search(key) is not None
        and not is_placeholder(value)
    )


# Characters that render as nothing (zero-width spaces and joiners, soft hyphens, bidi controls,
# variation selectors): a secret split by them still works when pasted, so shapes are matched
# on the text without them. Fullwidth forms are folded to ASCII for the same reason.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
)
_DISGUISED = re.compile(f"[{_INVISIBLE}\uff01-\uff5e]")
_INVISIBLE_CHAR = re.compile(f"[{_INVISIBLE}]")


def _mask_text(text: str) -> tuple[str, set[str]]:
    if len(text) < 5 or text in _known_clean:
        return text, set()
    if not text.isascii() and _DISGUISED.search(text):
        return _mask_disguised(text)
    claimed = _claim(text)
    kinds = {kind for _, _, kind in claimed if kind}
    if not kinds:
        _remember_clean(text)
        return text, kinds
    pieces: list[str] = []
    position = 0
    for start, end, kind in claimed:
        if kind:
            pieces += [text[position:start], marker(kind)]
            position = end
    pieces.append(text[position:])
    return "".join(pieces), kinds


def _mask_disguised(text: str) -> tuple[str, set[str]]:
    """Match on the visible, ASCII-folded text; mask the original characters each span covers
    (the invisible ones inside it too)."""
    kept = [i for i, char in enumerate(text) if not _INVISIBLE_CHAR.match(char)]
    visible = "".join(text[i] for i in kept).translate(_FULLWIDTH)
    claimed = [span for span in _claim(visible) if span[2]]
    kinds = {kind for _, _, kind in claimed}
    if not kinds:
        return text, kinds
    pieces: list[str] = []
    position = 0
    for start, end, kind in claimed:
        pieces += [text[position : kept[start]], marker(kind)]
        position = kept[end - 1] + 1
    pieces.append(text[position:])
    return "".join(pieces), kinds


_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


# Keys and enum-like values repeat through a large document; a short text already found clean is
# not scanned again. Only clean texts are kept, so the cache never holds a secret.
_known_clean: dict[str, None] = {}
_KNOWN_CLEAN_LIMIT = 4096


def _remember_clean(text: str) -> None:
    if len(text) <= 64:
        if len(_known_clean) >= _KNOWN_CLEAN_LIMIT:
            _known_clean.clear()
        _known_clean[text] = None


def _claim(text: str) -> list[tuple[int, int, str]]:
    """Disjoint (start, end, kind) spans to mask, in text order; a kind of "" is an existing marker.

    Each shape runs over the original text, and a span overlapping one already claimed by an
    earlier shape is dropped; so priority is the order of SHAPES, whatever the position."""
    claimed: list[tuple[int, int, str]] = []
    if MARKER_PREFIX in text:
        claimed = [(*match.span(), "") for match in MARKER.finditer(text)]
    for shape in _shapes_for(text):
        has_secret_group = "secret" in shape.pattern.groupindex
        fresh: list[tuple[int, int, str]] = []
        for match in shape.pattern.finditer(text):
            start, end = match.span("secret") if has_secret_group else match.span()
            if not _overlaps(claimed, start, end) and shape.accepts(match):
                fresh.append((start, end, shape.kind))
        if fresh:
            # Both lists are sorted and disjoint from each other: sorting merges them in O(n).
            claimed = sorted(claimed + fresh)
    return claimed


def _overlaps(claimed: list[tuple[int, int, str]], start: int, end: int) -> bool:
    at = bisect.bisect_left(claimed, (start,))
    return (at > 0 and claimed[at - 1][1] > start) or (at < len(claimed) and claimed[at][0] < end)


_ALL_HINTS = sorted({hint for shape in SHAPES for hint in shape.hints}, key=len, reverse=True)
# On a short text one regex call is cheaper than a substring test per hint. The look-ahead tries
# every position; the longest hint wins there, and a shorter one matching there is its prefix.
_HINT_FINDER = re.compile("(?=(" + "|".join(re.escape(hint) for hint in _ALL_HINTS) + "))")


def _shapes_for(text: str) -> tuple[Shape, ...]:
    """The shapes worth running on `text`, in priority order."""
    # casefold, as re.IGNORECASE does: a long s (U+017F) must still hint "secret".
    lowered = text.casefold()
    if len(lowered) > 512:
        return _shapes_given(frozenset(hint for hint in _ALL_HINTS if hint in lowered))
    return _shapes_given(frozenset(_HINT_FINDER.findall(lowered)), prefixes=True)


@lru_cache(maxsize=1024)
def _shapes_given(found: frozenset[str], prefixes: bool = False) -> tuple[Shape, ...]:
    present = (
        {hint for hint in _ALL_HINTS if any(seen.startswith(hint) for seen in found)}
        if prefixes
        else found
    )
    return tuple(shape for shape in SHAPES if not shape.hints or present & set(shape.hints))
