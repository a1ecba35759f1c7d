"""Tiles in memory: the edge's root equals the RFC root at every size, the tiles it writes hold
every perfect subtree, and tile paths follow c2sp.org/tlog-tiles."""

from __future__ import annotations

import pytest

from events import merkle
from events.tiles import Edge, TileSet, tile_path, tile_path_index


def test_edge_root_and_tiles_agree_with_the_rfc_tree() -> None:
    edge = Edge(0, {})
    tiles: dict[tuple[int, int], bytes] = {}
    leaves = []
    for i in range(2_000):
        leaf = merkle.leaf_hash(i.to_bytes(4, "big"))
        leaves.append(leaf)
        edge.append(leaf)
        if i % 97 == 0 or i < 300:
            assert edge.root() == merkle.tree_root(leaves)
        tiles.update(edge.take_changes())
    assert edge.root() == merkle.tree_root(leaves)
    stored = TileSet(tiles)
    for size in (1, 255, 256, 257, 1000, 2000):
        for index in (0, size // 2, size - 1):
            ranges = merkle.inclusion_ranges(index, size)
            proof = merkle.range_hashes(ranges, stored.perfect)
            merkle.verify_inclusion(
                index, size, leaves[index], proof, merkle.tree_root(leaves[:size])
            )


@pytest.mark.parametrize(("index", "path"), [(0, "000"), (67, "067"), (1234067, "x001/x234/067")])
def test_tile_paths(index: int, path: str) -> None:
    assert tile_path(index) == path
    assert tile_path_index(path.split("/")) == index


@pytest.mark.parametrize("bad", ["1", "x000", "000/x001", "abc", "0001"])
def test_bad_tile_paths_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        tile_path_index(bad.split("/"))
