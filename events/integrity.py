"""Verification of a Merkle log's leaves in leaf order: the check the sealer runs as it seals,
`verify --database` runs over the live log and `verify EXPORT` runs offline.

Per leaf: the leaf index is the next one (a gap is a deleted event), the commit order rises (a
reorder), the stream's chain links (prev_hash is the hash of the stream's version before), and
the record's own checks hold (events/record_checks.py: payload digest, hash, and the writer
vouching for it by the event's own signature, for events written before commit signatures, or
by a commit signature of its transaction that lists its hash, events/commit_signing.py). At the
end the root of the leaves must be the signed checkpoint's.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from events.envelope import GENESIS_HASH, StoredEvent, chain_hash
from events.keys import Keyring
from events.merkle import HASH_SIZE, CompactRange
from events.record_checks import (
    BY_COMMIT,
    NO_INDEX,
    UNSIGNED,
    CheckedChunk,
    Content,
    checked_chunk,
    content_check,
    leaf_of,
)


@dataclass(frozen=True)
class Problem:
    leaf_index: int | None
    """The first leaf that does not hold; None when only the whole tree's root is wrong."""
    reason: str
    event_id: str | None = None


class LogVerifier:
    """Feeds a log's records in leaf order; `problem` is the first thing found wrong."""

    def __init__(
        self, keyring: Keyring, agency_id: str | None, *, bounded: bool = False, first_leaf: int = 0
    ) -> None:
        """bounded: keep no state per leaf (the sealer, which runs for ever and bounds the
        stream heads itself, seal_checks.STREAM_HEADS); a reorder is then named where it is
        seen rather than where it began. Unbounded, naming where it began costs 16 bytes a
        leaf (CommitOrder)."""
        self.keyring = keyring
        self.bounded = bounded
        self.agency_id = agency_id
        self.tree = CompactRange()
        self.next_leaf = first_leaf
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.order = CommitOrder(first_leaf)
        self.signed_seen = False
        self.problem: Problem | None = None
        self.commit: int | None = None
        """The transaction of the commit signatures in `vouched`: the last one seen."""
        self.vouched: set[bytes] = set()

    @property
    def size(self) -> int:
        return self.next_leaf

    def seed_streams(self, heads: Iterable[tuple[str, int, bytes]]) -> None:
        """Stream heads from before the first record fed (the sealer starts mid-log)."""
        for stream_id, version, head in heads:
            self.heads[stream_id] = (version, head)

    def add(self, record: dict[str, Any], content: Content | None = None) -> Problem | None:
        """Checks one record and appends its leaf; stops at the first problem. `content` is
        content_check's answer when it was computed elsewhere."""
        if self.problem is not None:
            return self.problem
        found = content_check(record, self.keyring) if content is None else content
        return self.add_checked(checked_chunk([leaf_of(record)], [found]))

    def add_checked(
        self, chunk: CheckedChunk, begin: int = 0, end: int | None = None
    ) -> Problem | None:
        """add() of records checked on their own already (record_checks.check_lines), those of
        chunk[begin:end], in one loop: offline verify runs every leaf through here, so the loop
        keeps its state in locals, reads the chunk's columns in step and hashes the Merkle
        nodes in one go at the end."""
        if self.problem is not None:
            return self.problem
        end = len(chunk) if end is None else end
        index, heads, order, bounded = self.next_leaf, self.heads, self.order, self.bounded
        agency, commit, vouched, signed_seen = (
            self.agency_id,
            self.commit,
            self.vouched,
            self.signed_seen,
        )
        last_transaction, last_position = order.last
        prevs, entries, odd, first = chunk.prevs, chunk.entries, chunk.odd, index
        at = begin * HASH_SIZE
        found: tuple[int, str] | None = None
        went_back = False
        columns = zip(
            chunk.givens[begin:end], chunk.agencies[begin:end], chunk.transactions[begin:end],
            chunk.positions[begin:end], chunk.streams[begin:end], chunk.versions[begin:end],
            chunk.contents[begin:end], strict=True,
        )  # fmt: skip
        for given, agency_id, transaction, position, stream_id, version, content in columns:
            prev, entry = prevs[at : at + HASH_SIZE], entries[at : at + HASH_SIZE]
            at += HASH_SIZE
            if odd and index - first + begin in odd:
                leaf = odd[index - first + begin]
                if leaf is None:
                    found = (index, content.reason or "")
                    break
                prev, entry = leaf[6], leaf[7]
                if leaf[0] is not None and leaf[0] != index:  # its given is not in `givens`
                    found = (index, _wrong_index(leaf[0], index))
                    break
            if given != index and given != NO_INDEX:
                found = (index, _wrong_index(given, index))
                break
            if agency_id != agency:
                found = (index, "the event belongs to another log")
                break
            common = content is BY_COMMIT  # most records: the checks below reduce to one
            if not common and content.vouched is not None:
                # Taken before any check can stop here: the transaction's later records need them.
                if commit != transaction:
                    commit, vouched = transaction, set()
                vouched |= content.vouched
            if transaction < last_transaction or (
                transaction == last_transaction and position <= last_position
            ):
                went_back = True
                break
            last_transaction, last_position = transaction, position
            head_version, head = heads.get(stream_id, (0, GENESIS_HASH))
            if version != head_version + 1:
                found = (index, f"stream {stream_id} skips from version {head_version}")
                break
            if prev != head:
                found = (index, "prev_hash does not link to the stream's previous event")
                break
            if common:
                if commit != transaction or entry not in vouched:
                    found = (index, UNSIGNED)
                    break
                signed_seen = True
            else:
                if content.reason is not None:
                    found = (index, content.reason)
                    break
                if (content.by_commit and (commit != transaction or entry not in vouched)) or (
                    content.legacy and signed_seen
                ):
                    found = (index, UNSIGNED)
                    break
                signed_seen = signed_seen or not content.legacy
            heads[stream_id] = (version, entry)
            index += 1
        self.commit, self.vouched, self.signed_seen = commit, vouched, signed_seen
        self.next_leaf, order.last = index, (last_transaction, last_position)
        passed = index - first
        if not bounded:
            order.extend(chunk, begin, begin + passed)
            self.tree.extend(chunk.leaves[begin * HASH_SIZE : (begin + passed) * HASH_SIZE])
        if went_back:
            at = begin + passed
            where = chunk.transactions[at], chunk.positions[at]
            found = (index if bounded else order.first_after(*where), REORDERED)
        if found is not None:
            self.problem = Problem(found[0], found[1], chunk.event_ids[begin + passed])
        return self.problem


class CommitOrder:
    """The commit order, (transaction, position), of every leaf so far: rising in leaf order, so
    a leaf that goes back in it belongs before the first leaf after it, where the reorder
    began. Two arrays of int64 (what the store's columns hold: leaf_of refuses anything wider)
    take 16 bytes a leaf, where a list of tuples took ~120 (over 1 GB for a 10M-leaf log);
    bounded, only the last leaf's."""

    __slots__ = ("first_leaf", "last", "positions", "transactions")

    def __init__(self, first_leaf: int) -> None:
        self.first_leaf = first_leaf
        self.last: tuple[float, float] = (-math.inf, -math.inf)
        self.transactions, self.positions = array("q"), array("q")

    def extend(self, chunk: CheckedChunk, begin: int, end: int) -> None:
        self.transactions.extend(chunk.transactions[begin:end])
        self.positions.extend(chunk.positions[begin:end])

    def first_after(self, transaction: int, position: int) -> int:
        """The leaf index of the first leaf later than (transaction, position) in commit order."""
        begin = bisect.bisect_left(self.transactions, transaction)
        end = bisect.bisect_right(self.transactions, transaction, begin)
        return self.first_leaf + bisect.bisect_right(self.positions, position, begin, end)


REPEAT = "a leaf index repeats"


def _wrong_index(given: int, index: int) -> str:
    return f"leaf {index} is missing" if given > index else REPEAT


REORDERED = "out of commit order: the log was reordered"


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
