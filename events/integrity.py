"""Verification of a Merkle log's leaves, one record at a time: the check the sealer runs as it
seals, `verify --database` runs over the live log and `verify EXPORT` runs offline.

A record is an export record (StoredEvent.export_record() plus `leaf_index`), read in leaf
order. Per leaf: the leaf index is the next one (a gap is a deleted event), the commit order
rises (a reorder), the stream's chain links (prev_hash is the hash of the stream's version
before), the payload matches data_hash, the hash recomputes, and the writer vouches for it: by
the event's own signature (events written before commit signatures), or by a commit signature
of its transaction that lists its hash (events/commit_signing.py). The first record of a
transaction in a log carries that transaction's commit signatures (`commit_signatures`).
At the end the root of the leaves must be the signed checkpoint's.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from events.commit_signing import signed_hashes
from events.envelope import (
    GENESIS_HASH,
    HASH_VERSION,
    StoredEvent,
    canonical_json,
    chain_hash,
    parse_json,
)
from events.keys import Keyring, event_signature_holds
from events.merkle import CompactRange, leaf_hash

_V1_KEYS = (
    "event_id", "stream_id", "stream_type", "stream_version", "site_id", "agency_id", "type",
    "schema_version", "data", "metadata", "occurred_at", "recorded_at",
)  # fmt: skip
_V2_KEYS = (*tuple(k for k in _V1_KEYS if k != "data"), "data_hash", "hash_version")


@dataclass(frozen=True)
class Problem:
    leaf_index: int | None
    """The first leaf that does not hold; None when only the whole tree's root is wrong."""
    reason: str
    event_id: str | None = None


def record_envelope(record: dict[str, Any]) -> dict[str, Any]:
    keys = _V1_KEYS if record.get("hash_version", 1) == 1 else _V2_KEYS
    return {key: record.get(key) for key in keys}


class LogVerifier:
    """Feeds a log's records in leaf order; `problem` is the first thing found wrong."""

    def __init__(
        self, keyring: Keyring, agency_id: str | None, *, bounded: bool = False, first_leaf: int = 0
    ) -> None:
        """bounded: keep O(1) state per stream and none per leaf (the sealer, which runs for
        ever); a reorder is then named where it is seen rather than where it began."""
        self.keyring = keyring
        self.bounded = bounded
        self.agency_id = agency_id
        self.tree = CompactRange()
        self.next_leaf = first_leaf
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.order: list[tuple[int, int]] = []
        self.signed_seen = False
        self.problem: Problem | None = None
        self.commit: int | None = None
        """The transaction of the commit signatures in `vouched`: the last one seen."""
        self.vouched: set[str] = set()

    @property
    def size(self) -> int:
        return self.next_leaf

    def seed_streams(self, heads: Iterable[tuple[str, int, bytes]]) -> None:
        """Stream heads from before the first record fed (the sealer starts mid-log)."""
        for stream_id, version, head in heads:
            self.heads[stream_id] = (version, head)

    def add(self, record: dict[str, Any], content: Content | None = None) -> Problem | None:
        """Checks one record and appends its leaf; stops at the first problem. `content` is
        content_check's answer when it was computed elsewhere (another process)."""
        if self.problem is not None:
            return self.problem
        index = self.next_leaf
        found = self._check(record, index, content)
        entry = bytes.fromhex(record["hash"]) if found is None else None
        if found is not None:
            self.problem = Problem(found[0], found[1], record.get("event_id"))
            return self.problem
        assert entry is not None
        self.next_leaf += 1
        if not self.bounded:
            self.tree.append(leaf_hash(entry))
        self.heads[record["stream_id"]] = (record["stream_version"], entry)
        return None

    def _check(
        self, record: dict[str, Any], index: int, content: Content | None
    ) -> tuple[int, str] | None:
        given = record.get("leaf_index", index)
        if given != index:
            reason = f"leaf {index} is missing" if given > index else "a leaf index repeats"
            return index, reason
        if record.get("agency_id") != self.agency_id:
            return index, "the event belongs to another log"
        key = (record["transaction_id"], record["position"])
        found = content_check(record, self.keyring) if content is None else content
        if found.vouched is not None:
            # Taken before any check can stop here: the transaction's later records need them.
            if self.commit != key[0]:
                self.commit, self.vouched = key[0], set()
            self.vouched |= found.vouched
        if self.order and key <= self.order[-1]:
            first_after = bisect.bisect_right(self.order, key)
            return first_after, "out of commit order: the log was reordered"
        if self.bounded:
            self.order = [key]
            if len(self.heads) > 100_000:
                self.heads.clear()  # the sealer reads a missing head back from the log
        else:
            self.order.append(key)
        version, head = self.heads.get(record["stream_id"], (0, GENESIS_HASH))
        if record["stream_version"] != version + 1:
            gap = f"stream {record['stream_id']} skips from version {version}"
            return index, gap
        prev_hash = bytes.fromhex(record["prev_hash"])
        if prev_hash != head:
            return index, "prev_hash does not link to the stream's previous event"
        if found.reason is not None:
            return index, found.reason
        if found.by_commit and (self.commit != key[0] or record["hash"] not in self.vouched):
            return index, UNSIGNED
        if found.legacy and self.signed_seen:
            return index, UNSIGNED
        self.signed_seen = self.signed_seen or not found.legacy
        return None


UNSIGNED = "the writer signature does not verify: the service did not write it"


class Content(NamedTuple):
    """A record's own checks: what needs nothing from the records before it."""

    reason: str | None
    """Why it fails, or None."""
    legacy: bool = False
    """An unsigned event of hash version 1, admitted only before the log's first signed one."""
    by_commit: bool = False
    """Vouched for by a commit signature of its transaction, not a signature of its own."""
    vouched: frozenset[str] | None = None
    """The hashes the commit signatures it carries vouch for (those that verified)."""


# The common answers as one object each: a chunk of them crosses to the verify process as one
# pickled object and references to it.
_LEGACY = Content(None, legacy=True)  # version 1 without a signature: before signatures existed
_BY_COMMIT = Content(None, by_commit=True)
_SIGNED = Content(None)


def _plain_json(value: Any) -> bytes | None:
    """Sorted, compact orjson output: RFC 8785 itself unless the value holds a float (JCS formats
    numbers the ECMAScript way) or a key beyond the Basic Multilingual Plane (JCS sorts by UTF-16
    units); None for what orjson refuses (a lone surrogate)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None


def _digest_matches(prefix: bytes, value: Any, expected: str) -> bool:
    """Whether sha256(prefix || JCS(value)) is `expected` (hex). Tried first with orjson's bytes,
    then, only if they do not match, with the exact RFC 8785 bytes. Sound: the writer hashes only
    RFC 8785 text, and text that parses to this value and hashes to `expected` is the text the
    writer hashed (so its value is this one), whatever form the first try gave."""
    plain = _plain_json(value)
    if plain is not None and hashlib.sha256(prefix + plain).hexdigest() == expected:
        return True
    exact = canonical_json(value)
    return exact != plain and hashlib.sha256(prefix + exact).hexdigest() == expected


def parse_record(line: str | bytes) -> Any:
    """A line of an export (envelope.parse_json)."""
    return parse_json(line)


def content_check(record: dict[str, Any], keyring: Keyring) -> Content:
    """What one record proves on its own: payload digest, hash, the signature of its own or the
    commit signatures it carries. Needs nothing from the records before it, so verify can run
    it on every core."""
    hash_version = record.get("hash_version", 1)
    if hash_version == HASH_VERSION:
        data = record.get("data")
        erased = data is None  # a tombstone keeps only the digest
        if not erased and not _digest_matches(b"", data, record["data_hash"]):
            return Content("data does not match data_hash")
    elif hash_version != 1:
        return Content(f"unknown hash version {hash_version}")
    if not _digest_matches(
        bytes.fromhex(record["prev_hash"]), record_envelope(record), record["hash"]
    ):
        return Content("hash does not match the event's content")
    digest = bytes.fromhex(record["hash"])
    manifests = record.get("commit_signatures")
    vouched = None
    if manifests is not None:
        found, _ = signed_hashes(manifests, keyring)
        vouched = frozenset(found)
    signature = record.get("signature")
    if signature is None:
        if hash_version == 1:
            return _LEGACY if vouched is None else Content(None, True, False, vouched)
        return _BY_COMMIT if vouched is None else Content(None, False, True, vouched)
    if not event_signature_holds(keyring, digest, bytes.fromhex(signature)):
        return Content(UNSIGNED, vouched=vouched)
    return _SIGNED if vouched is None else Content(None, vouched=vouched)


def stream_record(event: StoredEvent, leaf_index: int) -> dict[str, Any]:
    return {**event.export_record(), "leaf_index": leaf_index}


@dataclass(frozen=True)
class ChainBreak:
    stream_id: str
    stream_version: int
    reason: str


def verify_stream(events: Iterable[StoredEvent]) -> ChainBreak | None:
    """One stream's chain on its own: the first event whose hash or link does not match."""
    prev, expected_version = GENESIS_HASH, 1
    for event in events:
        if event.stream_version != expected_version:
            return ChainBreak(event.stream_id, event.stream_version, "version gap")
        if event.prev_hash != prev:
            return ChainBreak(event.stream_id, event.stream_version, "prev_hash does not link")
        if chain_hash(prev, event.envelope()) != event.hash:
            return ChainBreak(event.stream_id, event.stream_version, "hash does not match content")
        prev, expected_version = event.hash, expected_version + 1
    return None
