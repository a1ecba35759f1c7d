"""Verify's fast paths give the reference's answers: the orjson first try of a digest accepts
exactly the RFC 8785 digest (rfc8785, the reference encoder), and CompactRange.extend builds the
tree append() builds."""

from __future__ import annotations

import hashlib
import os
import random
from typing import Any

import pytest
import rfc8785

from events import merkle
from events.record_checks import _plain_json, digest_matches
from tests.events.test_canonical_json import random_value

PREFIX = bytes(range(32))

EDGES: list[Any] = [
    {"😀": 1, "\uffff": 2, "\ue000": 3, "a": 4},  # UTF-16 order is not code point order
    {"k😀x": {"k\U0001f600": [1, "😀"]}, "k\ud7ff": None},
    {"float": 0.1, "big": 1e21, "small": 1e-7, "whole": 1.0, "subnormal": 5e-324},
    {"negative zero": -0.0, "zero": 0, "minus": -1},
    {"safe": 2**53 - 1, "unsafe negative": -(2**53) + 1},
    {"\x00\x01\x1f": '\b\f\n\r\t\x7f"\\</\u2028\u2029', "é€ß": "\ud7ff\ue000"},
    [],
    {},
    "",
    [[[]], {"": {"": ""}}],
]


def _reference(value: Any) -> str:
    return hashlib.sha256(PREFIX + bytes(rfc8785.dumps(value))).hexdigest()


@pytest.mark.parametrize("value", EDGES, ids=range(len(EDGES)))
def test_the_digest_of_the_rfc8785_bytes_is_accepted_and_no_other(value: Any) -> None:
    assert digest_matches(PREFIX, value, _reference(value))
    other = hashlib.sha256(PREFIX + bytes(rfc8785.dumps(value)) + b" ").hexdigest()
    assert not digest_matches(PREFIX, value, other)
    assert not digest_matches(PREFIX, {"wrapped": value}, _reference(value))


def test_integers_beyond_the_safe_range_are_never_accepted() -> None:
    for big in (2**53, 2**63, 2**64, -(2**70)):
        plain = _plain_json({"n": big})
        guess = hashlib.sha256(PREFIX + (plain or b"")).hexdigest()
        with pytest.raises(ValueError):  # RFC 8785 has no form for it: a malformed record
            digest_matches(PREFIX, {"n": big}, guess if plain is None else guess + "0")


def test_a_lone_surrogate_is_left_to_the_reference() -> None:
    value = {"text": "\ud800"}
    assert _plain_json(value) is None
    with pytest.raises(ValueError):
        digest_matches(PREFIX, value, "00" * 32)


def _without_floats_or_astral_keys(value: Any) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, list):
        return all(_without_floats_or_astral_keys(item) for item in value)
    if isinstance(value, dict):
        return all(
            (not key or max(key) <= "\uffff") and _without_floats_or_astral_keys(item)
            for key, item in value.items()
        )
    return True


def test_orjson_is_the_rfc8785_form_of_documents_without_floats_or_astral_keys() -> None:
    """Where the first try is already exact (most events): ASCII or BMP text, safe integers."""
    rng = random.Random(9162)
    checked = 0
    for _ in range(5_000):
        value = {"data": random_value(rng), "metadata": random_value(rng)}
        if not _without_floats_or_astral_keys(value):
            continue  # covered by the digest tests
        assert _plain_json(value) == bytes(rfc8785.dumps(value)), value
        checked += 1
    assert checked > 1_000


def test_random_documents_are_accepted_by_their_rfc8785_digest_only() -> None:
    rng = random.Random(8785)
    for _ in range(3_000):
        value = {"data": random_value(rng), "metadata": random_value(rng)}
        assert digest_matches(PREFIX, value, _reference(value)), value
        assert not digest_matches(PREFIX, value, _reference([value]))


def test_extend_builds_the_tree_append_builds_over_any_split() -> None:
    rng = random.Random(15)
    for size in [*range(70), 1000, 4097]:
        leaves = [merkle.leaf_hash(os.urandom(8)) for _ in range(size)]
        built, done = merkle.CompactRange(), 0
        while done < size:
            step = rng.randint(1, 40)
            built.extend(b"".join(leaves[done : done + step]))
            done = min(size, done + step)
            assert built.size == done
            assert built.root() == merkle.tree_root(leaves[:done])
