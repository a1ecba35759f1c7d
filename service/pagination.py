"""Every list the API answers, in one shape: `items`, `next_cursor`, `limit`.

One cursor codec and one set of limit bounds for all of them. A list pages by keyset (the key
of the last item shown, never an OFFSET), so an item inserted or removed meanwhile neither
repeats nor skips the others. A cursor is opaque: base64url of a tag and the key as JSON. The
tag (a BLAKE2b MAC over the list's name and the key) is there to refuse garbage, a cursor
edited by hand and a cursor of another list with one clear 422, instead of a database error or
a silently wrong page. It is not a capability: tenancy applies to every page anyway, so the tag
key is a constant, and a cursor stays valid across restarts, replicas and releases.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from events.errors import InvalidCommand
from service.bounds import BIGINT_MAX

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_MAX_LENGTH = 8192
"""A key may hold free text (a playbook's name, an owner): up to what a URL carries in practice."""

_TAG_KEY = b"sophmate-ledger list cursor v1"
_TAG_BYTES = 8

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"At most this many items (1 to {MAX_LIMIT}; default {DEFAULT_LIMIT}).",
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=CURSOR_MAX_LENGTH,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page, exactly as given; omit for the first.",
    ),
]

T = TypeVar("T")
K = TypeVar("K", bound="CursorKey")


class Page(BaseModel, Generic[T]):
    """A page of a list. Follow `next_cursor` until it is null; the event feed alone always
    gives one (a reader at the end of the log continues from it later)."""

    items: list[T]
    next_cursor: str | None = Field(
        examples=[None], description="Pass as `cursor` for the next page; null after the last."
    )
    limit: int = Field(examples=[DEFAULT_LIMIT], description="The page size asked for.")


def _no_nul(text: str) -> str:
    # Postgres text cannot hold NUL; refused here rather than as a database error.
    if "\x00" in text:
        raise ValueError("NUL in a cursor key")
    return text


KeyText = Annotated[str, AfterValidator(_no_nul)]
KeyInt = Annotated[int, Field(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]
"""A key's parts: text Postgres can hold, and integers a bigint can."""


class CursorKey(BaseModel):
    """Where a page ends: the sort key of its last item. Each list declares its own."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class VersionKey(CursorKey):
    """Where a page of one stream's events ends: a stream version."""

    version: KeyInt


class CursorCodec(Generic[K]):
    """Cursors of one list, whose keys are `key`s."""

    def __init__(self, list_name: str, key: type[K]) -> None:
        self.list_name, self.key = list_name, key

    def _tag(self, body: bytes) -> bytes:
        message = self.list_name.encode() + b"\n" + body
        return hashlib.blake2b(message, key=_TAG_KEY, digest_size=_TAG_BYTES).digest()

    def encode(self, key: K) -> str:
        body = key.model_dump_json().encode()
        return base64.urlsafe_b64encode(self._tag(body) + body).rstrip(b"=").decode()

    def decode(self, cursor: str | None) -> K | None:
        """The key a cursor of this list names; None for no cursor (the first page)."""
        if cursor is None:
            return None
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        if len(tag) == _TAG_BYTES and hmac.compare_digest(tag, self._tag(body)):
            try:
                # JSON mode of strict validation still reads ISO dates into datetimes.
                return self.key.model_validate_json(body)
            except ValidationError:
                pass
        raise InvalidCommand(
            "cursor is not a `next_cursor` of this list: pass it exactly as it was given"
        )

    def page(self, found: Sequence[tuple[K, T]], limit: int) -> tuple[list[T], str | None]:
        """A page from up to `limit + 1` keyed rows: the row past the page says whether
        another page exists, so the last page is never followed by an empty one."""
        shown = list(found[:limit])
        if len(found) <= limit or not shown:
            return [item for _, item in shown], None
        return [item for _, item in shown], self.encode(shown[-1][0])
