"""What one export record proves on its own (payload digest, hash, writer signatures), and the
few fields the checks in leaf order need from it (events/integrity.py). Needs nothing from the
records before it, so verify runs it on every core, a chunk of lines at a time.

A record is StoredEvent.export_record() plus `leaf_index` (and, on the first record of a
transaction in a log, that transaction's `commit_signatures`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from events.commit_signing import HASH_SIZE, signed_hashes
from events.envelope import HASH_VERSION, canonical_json, parse_json
from events.keys import Keyring, event_signature_holds

_V1_KEYS = (
    "event_id", "stream_id", "stream_type", "stream_version", "site_id", "agency_id", "type",
    "schema_version", "data", "metadata", "occurred_at", "recorded_at",
)  # fmt: skip
_V2_KEYS = (*tuple(k for k in _V1_KEYS if k != "data"), "data_hash", "hash_version")

UNSIGNED = "the writer signature does not verify: the service did not write it"


class Content(NamedTuple):
    """A record's own checks: what needs nothing from the records before it."""

    reason: str | None
    """Why it fails, or None."""
    legacy: bool = False
    """An unsigned event of hash version 1, admitted only before the log's first signed one."""
    by_commit: bool = False
    """Vouched for by a commit signature of its transaction, not a signature of its own."""
    vouched: frozenset[bytes] | None = None
    """The hashes the commit signatures it carries vouch for (those that verified)."""

    def __reduce__(self) -> str | tuple[Any, ...]:
        """A common answer pickles as its name, so a worker's arrive as the very objects of
        this module: the ordered checks know BY_COMMIT, most records' answer, by identity."""
        return _COMMON.get(self) or (Content, tuple(self))


# The common answers as one object each: a chunk of them crosses to the verify process as
# references to these.
_LEGACY = Content(None, legacy=True)  # version 1 without a signature: before signatures existed
BY_COMMIT = Content(None, by_commit=True)
_SIGNED = Content(None)
MALFORMED = Content("the record is not a well-formed event")
_COMMON = {_LEGACY: "_LEGACY", BY_COMMIT: "BY_COMMIT", _SIGNED: "_SIGNED", MALFORMED: "MALFORMED"}

Leaf = tuple[int | None, Any, int, int, str, Any, bytes, bytes, Any, bytes]
"""What the checks in leaf order read of a record: given leaf index (None: not given),
agency_id, transaction_id, position, stream_id, stream_version, prev_hash, hash, event_id and
the Merkle leaf hash of the hash."""


def record_envelope(record: dict[str, Any]) -> dict[str, Any]:
    keys = _V1_KEYS if record.get("hash_version", 1) == 1 else _V2_KEYS
    return {key: record.get(key) for key in keys}


def _plain_json(value: Any) -> bytes | None:
    """Sorted, compact orjson output: RFC 8785 itself unless the value holds a float (JCS formats
    numbers the ECMAScript way) or a key beyond the Basic Multilingual Plane (JCS sorts by UTF-16
    units); None for what orjson refuses (a lone surrogate, an integer past 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None


def digest_matches(prefix: bytes, value: Any, expected: str) -> bool:
    """Whether sha256(prefix || JCS(value)) is `expected` (hex). Tried first with orjson's bytes,
    then, only if they do not match, with the exact RFC 8785 bytes. Sound: the writer hashes only
    RFC 8785 text, and text that parses to this value and hashes to `expected` is the text the
    writer hashed (so its value is this one), whatever form the first try gave."""
    plain = _plain_json(value)
    if plain is not None and hashlib.sha256(prefix + plain).hexdigest() == expected:
        return True
    exact = canonical_json(value)
    return exact != plain and hashlib.sha256(prefix + exact).hexdigest() == expected


def content_check(record: dict[str, Any], keyring: Keyring) -> Content:
    """What one record proves on its own: payload digest, hash, the signature of its own or the
    commit signatures it carries. Leaves `record` as it was."""
    prev, entry = bytes.fromhex(record["prev_hash"]), bytes.fromhex(record["hash"])
    return _own_checks(dict(record), keyring, prev, entry)


_NOT_HASHED = ("position", "transaction_id", "prev_hash", "hash", "leaf_index")


def _own_checks(record: dict[str, Any], keyring: Keyring, prev: bytes, entry: bytes) -> Content:
    """content_check of a record nothing reads afterwards: it is taken apart until what is left
    is the hashed envelope, which saves building one (a tenth of verify's cost per record). The
    envelope built key by key (record_envelope) is tried too before a hash is called wrong, so
    the answer is content_check's own: an extra or a missing key decides as it always did."""
    hash_version = record.get("hash_version", 1)
    manifests = record.pop("commit_signatures", None)
    signature = record.pop("signature", None)
    expected = record["hash"]
    if hash_version == HASH_VERSION:
        data = record.pop("data", None)
        erased = data is None  # a tombstone keeps only the digest
        if not erased and not digest_matches(b"", data, record["data_hash"]):
            return Content("data does not match data_hash")
    elif hash_version == 1:
        record.pop("hash_version", None)
    else:
        return Content(f"unknown hash version {hash_version}")
    for key in _NOT_HASHED:
        record.pop(key, None)
    if not digest_matches(prev, record, expected) and not digest_matches(
        prev, record_envelope({**record, "hash_version": hash_version}), expected
    ):
        return Content("hash does not match the event's content")
    vouched = None if manifests is None else frozenset(signed_hashes(manifests, keyring)[0])
    if signature is None:
        if hash_version == 1:
            return _LEGACY if vouched is None else Content(None, True, False, vouched)
        return BY_COMMIT if vouched is None else Content(None, False, True, vouched)
    if not event_signature_holds(keyring, entry, bytes.fromhex(signature)):
        return Content(UNSIGNED, vouched=vouched)
    return _SIGNED if vouched is None else Content(None, vouched=vouched)


_INT64 = (-(1 << 63), (1 << 63) - 1)
"""The range of the store's transaction and position columns (bigint), which the ordered checks
keep in int64 arrays (CheckedChunk, integrity.CommitOrder)."""


def leaf_of(record: dict[str, Any]) -> Leaf:
    """The record's Leaf; KeyError, TypeError or ValueError when a field it needs is missing or
    of a type the ordered checks cannot compare."""
    given, transaction, position = (
        record.get("leaf_index"),
        record["transaction_id"],
        record["position"],
    )
    stream_id = record["stream_id"]
    if not (
        isinstance(transaction, int)
        and isinstance(position, int)
        and _INT64[0] <= transaction <= _INT64[1]
        and _INT64[0] <= position <= _INT64[1]
        and isinstance(stream_id, str)
        and (given is None or isinstance(given, int))
    ):
        raise TypeError("a leaf index, transaction, position or stream of the wrong type")
    entry = bytes.fromhex(record["hash"])
    return (
        given,
        record.get("agency_id"),
        transaction,
        position,
        stream_id,
        record["stream_version"],
        bytes.fromhex(record["prev_hash"]),
        entry,
        record.get("event_id"),
        hashlib.sha256(b"\x00" + entry).digest(),  # merkle.leaf_hash, without the call
    )


NO_INDEX = -1
"""In CheckedChunk.givens: a record that gives no leaf index (or one the column cannot hold)."""
_NO_HASH = bytes(HASH_SIZE)


@dataclass(frozen=True, slots=True)
class CheckedChunk:
    """Checked records, field by field: what crosses from a worker process to the ordered checks
    (events/integrity.py) as a dozen objects a chunk, where ten objects a record cost the two
    processes as much to pickle and unpickle as the ordered checks themselves."""

    givens: array[int]
    """The given leaf index, or NO_INDEX."""
    agencies: list[Any]
    transactions: array[int]
    positions: array[int]
    streams: list[str]
    versions: list[Any]
    prevs: bytes
    """prev_hash, HASH_SIZE bytes a record; a record whose hashes are of another size is in
    `odd`, which the ordered checks read instead (all-zero here)."""
    entries: bytes
    """hash, as prevs."""
    event_ids: list[Any]
    leaves: bytes
    """The Merkle leaf hash of `hash`, HASH_SIZE bytes a record."""
    contents: list[Content]
    odd: dict[int, Leaf | None]
    """By position in the chunk: the Leaf of a record the columns cannot hold (a hash of
    another size, a leaf index that is negative or wider than int64), None for a record that is
    no well-formed event; their columns hold placeholders."""

    def __len__(self) -> int:
        return len(self.contents)


def checked_chunk(leaves: Sequence[Leaf | None], contents: list[Content]) -> CheckedChunk:
    """The columns of records' Leaf (None: no well-formed event) and Content."""
    givens, transactions, positions = array("q"), array("q"), array("q")
    prevs, entries, hashes = bytearray(), bytearray(), bytearray()
    agencies: list[Any] = []
    streams: list[str] = []
    versions: list[Any] = []
    event_ids: list[Any] = []
    odd: dict[int, Leaf | None] = {}
    same: dict[str, str] = {}  # one object a string, so pickle sends a repeat as a reference
    share = same.setdefault
    for at, leaf in enumerate(leaves):
        if leaf is None:
            odd[at] = None
            leaf = (None, None, 0, 0, "", None, _NO_HASH, _NO_HASH, None, _NO_HASH)
        given, agency, transaction, position, stream, version, prev, entry, event_id, hashed = leaf
        if (
            (given is not None and not 0 <= given <= _INT64[1])
            or len(prev) != HASH_SIZE
            or len(entry) != HASH_SIZE
        ):
            odd[at], given, prev, entry = leaf, None, _NO_HASH, _NO_HASH
        givens.append(NO_INDEX if given is None else given)
        agencies.append(share(agency, agency) if type(agency) is str else agency)
        transactions.append(transaction)
        positions.append(position)
        streams.append(share(stream, stream))
        versions.append(version)
        prevs += prev
        entries += entry
        event_ids.append(event_id)
        hashes += hashed
    return CheckedChunk(
        givens, agencies, transactions, positions, streams, versions, bytes(prevs),
        bytes(entries), event_ids, bytes(hashes), contents, odd,
    )  # fmt: skip


def check_lines(lines: Iterable[str | bytes], keyring: Keyring) -> CheckedChunk:
    """Every non-blank line of an export, parsed and checked on its own, in order."""
    leaves: list[Leaf | None] = []
    contents: list[Content] = []
    for line in lines:
        if not line or line.isspace():
            continue
        try:
            record = parse_json(line)
            leaf = leaf_of(record)
            content = _own_checks(record, keyring, leaf[6], leaf[7])
        except (ValueError, KeyError, TypeError, AttributeError):
            leaf, content = None, MALFORMED
        leaves.append(leaf)
        contents.append(content)
    return checked_chunk(leaves, contents)
