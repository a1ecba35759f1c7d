"""The fast path of canonical_json gives exactly the bytes of the rfc8785 reference."""

from __future__ import annotations

import random
from typing import Any

import rfc8785

from events.envelope import canonical_json

ALPHABET = [
    "a",
    "Z",
    "é",
    "\u00ff",
    "\u2028",
    "\u007f",
    "\n",
    "\t",
    '"',
    "\\",
    "\x01",
    "€",
    "😀",
    "\ud7ff",
    "\ue000",
    "ß",
    " ",
    "/",
    "<",
]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 8)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 7, 2**53 - 1, -(2**53) + 1, rng.randrange(-(10**12), 10**12)])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e21, 1.0, 3.14159, 1e-7, 123456789.125])
    if kind in (4, 5):
        return random_text(rng)
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))}


def test_fast_path_matches_the_reference_on_ten_thousand_random_documents() -> None:
    rng = random.Random(8785)
    for _ in range(10_000):
        value = {"data": random_value(rng), "metadata": random_value(rng)}
        assert canonical_json(value) == bytes(rfc8785.dumps(value)), value
