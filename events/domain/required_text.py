"""Blank is missing: the one rule for required values across every command, and for URL fields.

A value that is whitespace only says nothing, so every decider asks this module whether a
required value is there, and the refusal names the field (`missing`). URL fields must be http or
https URLs with a host: a site's production and staging URLs are where people and checks go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from events.errors import InvalidCommand


def is_blank(value: object) -> bool:
    """None, a whitespace-only text, or an empty collection (or one of blank texts only)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping):
        return not value
    if isinstance(value, Sequence | set | frozenset):
        return all(is_blank(item) for item in value)
    return False


def missing_values(fields: Mapping[str, object]) -> list[str]:
    """The paths of the blank ones, in order. A list that has some text but also blank items
    names those items (`gaps[1]`): a blank entry is no entry."""
    missing: list[str] = []
    for name, value in fields.items():
        if is_blank(value):
            missing.append(name)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            missing += [f"{name}[{i}]" for i, item in enumerate(value) if is_blank(item)]
    return missing


def require(detail: str, **fields: object) -> None:
    """Refuse the command, naming every blank field at once."""
    missing = missing_values(fields)
    if missing:
        raise InvalidCommand(detail, missing=missing)


def is_url(value: str) -> bool:
    """An absolute http or https URL with a host, and no whitespace anywhere in it."""
    if any(char.isspace() for char in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


def invalid_urls(fields: Mapping[str, str | None]) -> list[str]:
    """The URL fields that are given but are not http(s) URLs with a host (a blank one is the
    required rule's to name)."""
    return [
        name
        for name, value in fields.items()
        if value is not None and not is_blank(value) and not is_url(value)
    ]
