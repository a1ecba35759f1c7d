"""Offline verify's memory grows by a few bytes a leaf, not by a Python object per leaf: what it
keeps of every leaf (the commit order, to name where a reorder began) is two int64 arrays, so a
10M-leaf export verifies in a couple of hundred MB where a list of tuples took over a GB."""

from __future__ import annotations

import io
import json
import tracemalloc

from bench.verify_export import KEY, write_export
from events.keys import Keyring
from service.audit.verify import verify_export

LEAVES = 8_000
TUPLE_BYTES = 120
"""What a (transaction, position) tuple in a list took a leaf."""


def _peak(lines: list[str]) -> int:
    tracemalloc.start()
    try:
        problem = verify_export(lines, Keyring([KEY.public])).problem
        assert problem is None or problem.leaf_index == LEAVES  # the half ends at its checkpoint
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_per_leaf_stays_a_few_bytes() -> None:
    body = io.StringIO()
    checkpoint = write_export(body, 2 * LEAVES, streams=50)
    lines = [json.dumps({"checkpoint": checkpoint.signed(KEY)}), *body.getvalue().splitlines()]
    half, whole = _peak(lines[: LEAVES + 1]), _peak(lines)
    assert whole - half < LEAVES * TUPLE_BYTES / 4  # 16 bytes a leaf, and a chunk's worth more
