"""Offline verify on every core: each record's own checks (parsing, JCS, hashes, the Ed25519
commit signatures: nearly all the cost) run in worker processes a chunk of lines at a time; the
checks that depend on order (leaf indices, commit order, stream chains, the Merkle tree) stay in
order in the main process, on the columns of the records' fields the workers send back
(record_checks.CheckedChunk). The answer is the same as in one process, first bad leaf
included.

A file's lines never pass through the main process: it hands a worker where a block of whole
lines lies and the worker reads it (reading, splitting and pickling every line here cost the
main process, the one that does not scale with cores, as much as its ordered checks)."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager

from events.keys import Keyring
from events.record_checks import CheckedChunk, check_lines

CHUNK = 2048
"""Lines a task: large enough that a task's overhead is nothing, small enough that the first
bad leaf is found soon and memory stays flat."""
BLOCK = 1 << 22
"""Bytes a task of a file (about 3,000 records), for the same reasons."""

Chunk = list[str | bytes] | tuple[str, int, int]
"""Lines, or where whole lines lie in a file: (path, offset, length)."""


def file_chunks(path: str, start: int) -> Iterator[Chunk]:
    """The file from `start` (a line's start) on, as blocks of whole lines."""
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        while start < size:
            source.seek(start + BLOCK)
            source.readline()  # to the end of the line the block's last byte is in
            end = min(source.tell(), size)
            yield path, start, end - start
            start = end


def _lines(chunk: Chunk) -> Sequence[str | bytes]:
    if isinstance(chunk, list):
        return chunk
    path, offset, length = chunk
    with open(path, "rb") as source:
        source.seek(offset)
        return source.read(length).split(b"\n")


def default_jobs() -> int:
    """Worker processes worth starting: on 2 cores two workers keep both busy while the main
    process, whose ordered checks cost a tenth of a record's own, takes its share between."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 1


_keyring: Keyring | None = None


def _start(publics: list[bytes]) -> None:
    global _keyring
    _keyring = Keyring(publics)
    gc.disable()  # a worker only checks records: see no_cyclic_gc


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off while records are checked: records, their answers and the
    verifier's state hold no reference cycles, so reference counting frees all of it, and the
    collector's passes over every chunk's young objects (the answers wait a while for their
    turn in the ordered checks, so they age into older generations) cost a tenth of verify."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_chunk(chunk: Chunk) -> CheckedChunk:
    assert _keyring is not None
    return check_lines(_lines(chunk), _keyring)


def checked_chunks(chunks: Iterable[Chunk], keyring: Keyring, jobs: int) -> Iterator[CheckedChunk]:
    """check_lines of every chunk, in order: in this process for one job, else in `jobs`
    worker processes with at most 2 * jobs chunks in flight."""
    if jobs <= 1:
        yield from (check_lines(_lines(chunk), keyring) for chunk in chunks)
        return
    source = iter(chunks)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=(keyring.publics,)
    ) as pool:
        pending: deque[Future[CheckedChunk]] = deque()
        while True:
            while len(pending) < 2 * jobs and (chunk := next(source, None)) is not None:
                pending.append(pool.submit(_check_chunk, chunk))
            if not pending:
                return
            yield pending.popleft().result()
