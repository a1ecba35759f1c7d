"""The project's own RFC 9162 verifier against the transparency-dev vectors, and the proofs it
builds against the RFC's definitions."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from events import merkle

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "rfc9162"
if not VECTORS.is_dir():  # the worktree layout: /work/wt/<name>/tests/events
    VECTORS = Path("/work/shared/vectors/rfc9162")
TREES = json.loads((VECTORS / "trees.json").read_text())
LEAVES = [bytes.fromhex(entry) for entry in TREES["leaf_inputs_hex"]]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def test_every_vector_file_is_found() -> None:
    assert len(_files("inclusion")) + len(_files("consistency")) > 150


@pytest.mark.parametrize("size", range(9))
def test_tree_roots_match_trees_json(size: int) -> None:
    root = merkle.tree_root([merkle.leaf_hash(leaf) for leaf in LEAVES[:size]])
    assert root.hex() == TREES["root_hashes_hex_by_tree_size"][size]


def _inclusion(case: dict[str, Any]) -> None:
    merkle.verify_inclusion(
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        [_b64(p) for p in case["proof"] or []],
        _b64(case["root"]),
    )


def _consistency(case: dict[str, Any]) -> None:
    merkle.verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        [_b64(p) for p in case["proof"] or []],
    )


@pytest.mark.parametrize(
    "path", _files("inclusion") + _files("consistency"), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_vector_gives_exactly_its_want_err(path: Path) -> None:
    case = json.loads(path.read_text())
    check = _inclusion if "leafIdx" in case else _consistency
    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check(case)
    else:
        check(case)


def _perfect(leaves: list[bytes]) -> merkle.PerfectHash:
    def perfect(level: int, index: int) -> bytes:
        return merkle.tree_root(leaves[index << level : (index + 1) << level])

    return perfect


@pytest.mark.parametrize("size", range(1, 40))
def test_built_proofs_verify_for_every_leaf_and_every_older_size(size: int) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    perfect = _perfect(leaves)
    root = merkle.tree_root(leaves)
    for index in range(size):
        proof = merkle.range_hashes(merkle.inclusion_ranges(index, size), perfect)
        merkle.verify_inclusion(index, size, leaves[index], proof, root)
    for old in range(1, size + 1):
        proof = merkle.range_hashes(merkle.consistency_ranges(old, size), perfect)
        merkle.verify_consistency(old, size, merkle.tree_root(leaves[:old]), root, proof)


def test_a_proof_for_another_leaf_is_refused() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(7)]
    proof = merkle.range_hashes(merkle.inclusion_ranges(2, 7), _perfect(leaves))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(2, 7, leaves[3], proof, merkle.tree_root(leaves))
