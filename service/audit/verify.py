"""What `sophmate-ledger verify` checks, offline (an export file) and online (the database)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import asyncpg

from events.checkpoint import Checkpoint, CheckpointError, open_note
from events.integrity import LogVerifier, Problem
from events.keys import Keyring
from events.record_checks import CheckedChunk, checked_chunk, content_check, leaf_of
from events.sealer import PLATFORM
from service.audit import queries
from service.audit.parallel import CHUNK, Chunk, checked_chunks, file_chunks, no_cyclic_gc

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Outcome:
    origin: str
    size: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def agency_of(origin: str) -> str | None:
    prefix, sep, agency = origin.rpartition("/agency/")
    if sep and prefix and agency:
        return agency
    return None


class _Run:
    """One log's leaves through the verifier, then the checks of whole trees."""

    def __init__(self, keyring: Keyring, checkpoint: Checkpoint, older: Checkpoint | None) -> None:
        self.checkpoint = checkpoint
        self.older = older
        self.verifier = LogVerifier(keyring, agency_of(checkpoint.origin))
        self.roots_at: dict[int, bytes] = {}
        self.watch = {older.size} if older else set()

    def add(self, record: dict[str, Any]) -> Problem | None:
        return self.add_checked(
            checked_chunk([leaf_of(record)], [content_check(record, self.verifier.keyring)])
        )

    def add_checked(self, chunk: CheckedChunk) -> Problem | None:
        """The leaves in order, cut where the tree's root is wanted (the older checkpoint's
        size); a leaf past the checkpoint's size is a problem of its own."""
        verifier = self.verifier
        room = self.checkpoint.size - verifier.size
        take = min(room, len(chunk))
        cuts = sorted(size - verifier.size for size in self.watch)
        start = 0
        for cut in [*(c for c in cuts if 0 < c < take), take]:
            problem = verifier.add_checked(chunk, start, cut)
            if problem is not None:
                return problem
            if verifier.size in self.watch:
                self.roots_at[verifier.size] = verifier.tree.root()
            start = cut
        if len(chunk) > room:
            return Problem(verifier.size, "the export holds leaves past its checkpoint")
        return None

    def finish(self) -> Problem | None:
        if self.verifier.problem is not None:
            return self.verifier.problem
        size = self.verifier.size
        if size < self.checkpoint.size:
            return Problem(size, f"leaf {size} is missing: the export ends before the checkpoint")
        if self.verifier.tree.root() != self.checkpoint.root:
            return Problem(None, "the leaves' root is not the checkpoint's root")
        if self.older is not None:
            if self.older.origin != self.checkpoint.origin:
                return Problem(None, "the older checkpoint is of another log")
            if self.older.size > size:
                return Problem(None, "the older checkpoint is larger than the export")
            root = self.roots_at.get(self.older.size)
            if root != self.older.root:
                return Problem(
                    None,
                    f"history was rewritten: the first {self.older.size} leaves do not have "
                    "the older checkpoint's root",
                )
        return None


def verify_export(
    lines: Iterable[str | bytes],
    keyring: Keyring,
    older_note: str | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Outcome:
    """An export of `export-audit-log`: its checkpoint, every leaf, the root, and consistency
    with an older checkpoint of the same log when one is given."""
    iterator = iter(lines)
    header = next(iterator, None)
    chunks = iter(lambda: list(islice(iterator, CHUNK)), [])
    return _verify(header, chunks, keyring, older_note, progress, jobs)


def verify_export_file(
    path: str,
    keyring: Keyring,
    older_note: str | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Outcome:
    """verify_export of an export file, whose lines the workers read themselves."""
    with open(path, "rb") as source:
        header = source.readline()
        start = source.tell()
    chunks = file_chunks(path, start)
    return _verify(header or None, chunks, keyring, older_note, progress, jobs)


def _verify(
    header: str | bytes | None,
    chunks: Iterable[Chunk],
    keyring: Keyring,
    older_note: str | None,
    progress: Progress | None,
    jobs: int,
) -> Outcome:
    if header is None:
        return Outcome("", 0, Problem(None, "the export is empty"))
    try:
        checkpoint = open_note(json.loads(header)["checkpoint"], keyring)
        older = open_note(older_note, keyring) if older_note is not None else None
    except (ValueError, KeyError, TypeError) as error:
        reason = (
            str(error) if isinstance(error, CheckpointError) else "the first line is no checkpoint"
        )
        return Outcome("", 0, Problem(None, reason))
    run = _Run(keyring, checkpoint, older)
    with no_cyclic_gc():
        for chunk in checked_chunks(chunks, keyring, jobs):
            problem = run.add_checked(chunk)
            if problem is not None:
                return Outcome(checkpoint.origin, checkpoint.size, problem)
            if progress is not None:
                progress(len(chunk))
    return Outcome(checkpoint.origin, checkpoint.size, run.finish())


async def verify_log(
    pool: asyncpg.Pool, keyring: Keyring, log: queries.LogRow, progress: Progress | None = None
) -> Outcome:
    """The live log: as offline, plus the sealed leaf entries against the events table and the
    stored tiles against the leaves (a tampered tile would serve proofs of another tree)."""
    latest = await queries.latest_checkpoint(pool, log.log_id)
    if latest is None:
        return Outcome(log.origin, 0, None)
    try:
        checkpoint = open_note(latest["note"], keyring)
    except CheckpointError as error:
        return Outcome(log.origin, latest["tree_size"], Problem(None, str(error)))
    run = _Run(keyring, checkpoint, None)
    async for chunk in _records(pool, log.log_id, checkpoint.size):
        for record in chunk:
            sealed = record.pop("sealed_entry")
            problem = run.add(record)
            if problem is None and sealed != record["hash"]:
                problem = Problem(run.verifier.size - 1, "the event's hash is not the sealed leaf")
            if problem is not None:
                return Outcome(log.origin, checkpoint.size, problem)
        if progress is not None:
            progress(len(chunk))
    problem = run.finish()
    if (
        problem is None
        and await queries.root_at(pool, log.log_id, checkpoint.size) != checkpoint.root
    ):
        problem = Problem(None, "the stored tiles do not give the checkpoint's root")
    return Outcome(log.origin, checkpoint.size, problem)


def _records(pool: asyncpg.Pool, log_id: int, size: int) -> AsyncIterator[list[dict[str, object]]]:
    return queries.records(pool, log_id, size)


async def verify_database(
    pool: asyncpg.Pool, keyring: Keyring, progress: Progress | None = None
) -> list[Outcome]:
    return [await verify_log(pool, keyring, log, progress) for log in await queries.all_logs(pool)]


def log_name(origin: str) -> str:
    return agency_of(origin) or PLATFORM
