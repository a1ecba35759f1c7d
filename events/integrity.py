"""Recompute a stream's hash chain from its rows: the check an auditor runs offline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from events.envelope import GENESIS_HASH, StoredEvent, chain_hash


@dataclass(frozen=True)
class ChainBreak:
    stream_id: str
    stream_version: int
    reason: str


def verify_stream(events: Iterable[StoredEvent]) -> ChainBreak | None:
    """The first event whose hash or link does not match, or None when the chain holds."""
    prev = GENESIS_HASH
    expected_version = 1
    for event in events:
        if event.stream_version != expected_version:
            return ChainBreak(event.stream_id, event.stream_version, "version gap")
        if event.prev_hash != prev:
            return ChainBreak(event.stream_id, event.stream_version, "prev_hash does not link")
        if chain_hash(prev, event.envelope()) != event.hash:
            return ChainBreak(event.stream_id, event.stream_version, "hash does not match content")
        prev = event.hash
        expected_version += 1
    return None
