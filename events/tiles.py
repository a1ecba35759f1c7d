"""A Merkle log stored as C2SP tlog-tiles (c2sp.org/tlog-tiles): tile L/N holds the hashes of
the perfect subtrees of 2**(8L) leaves numbered N*256 .. N*256+255; level 0 holds leaf hashes.
Tiles only grow at the right edge, so a tile stored for size n serves every smaller size as its
prefix, and any subtree hash is at most 128 stored hashes of one tile: a proof in a tree of
10M leaves reads at most two tiles per level (three levels), in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from events.merkle import EMPTY_ROOT, HASH_SIZE, Node, fold, node_hash, perfect_pieces

WIDTH = 256
HEIGHT = 8

TileKey = tuple[int, int]
"""(level, index) of a tile."""


def subtree_of_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two run of same-level hashes."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def tile_for(node: Node) -> tuple[TileKey, int, int]:
    """Where a perfect subtree's hashes lie: the tile, the first offset in it, how many."""
    level, index = node
    tile_level, rest = divmod(level, HEIGHT)
    first = index << rest
    return (tile_level, first // WIDTH), first % WIDTH, 1 << rest


def split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


class TileSet:
    """Tiles read from the store, answering subtree hashes for the proof builders."""

    def __init__(self, tiles: dict[TileKey, bytes]) -> None:
        self.tiles = tiles

    def perfect(self, level: int, index: int) -> bytes:
        key, offset, count = tile_for((level, index))
        blob = self.tiles.get(key, b"")
        hashes = split_hashes(blob[offset * HASH_SIZE : (offset + count) * HASH_SIZE])
        if len(hashes) != count:
            raise LookupError(f"tile {key} does not hold subtree {(level, index)}")
        return subtree_of_hashes(hashes)


async def read_tiles(
    db: asyncpg.Connection | asyncpg.Pool, log_id: int, nodes: Iterable[Node]
) -> TileSet:
    keys = sorted({tile_for(node)[0] for node in nodes})
    if not keys:
        return TileSet({})
    rows = await db.fetch(
        "SELECT t.level, t.index, t.hashes FROM merkle_tiles t "
        "JOIN unnest($2::smallint[], $3::bigint[]) AS k(level, index) "
        "ON t.level = k.level AND t.index = k.index WHERE t.log_id = $1",
        log_id,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return TileSet({(row["level"], row["index"]): bytes(row["hashes"]) for row in rows})


async def read_tile(
    db: asyncpg.Connection | asyncpg.Pool, log_id: int, level: int, index: int
) -> bytes | None:
    blob = await db.fetchval(
        "SELECT hashes FROM merkle_tiles WHERE log_id = $1 AND level = $2 AND index = $3",
        log_id,
        level,
        index,
    )
    return bytes(blob) if blob is not None else None


class Edge:
    """The right edge of a log's tiles in memory: the partial tile of every level. Enough to
    append leaves and to compute the root, whatever the size (the sealer keeps one per log)."""

    def __init__(self, size: int, partial: dict[int, list[bytes]]) -> None:
        self.size = size
        self.partial = partial
        self.changed: dict[TileKey, bytes] = {}

    @classmethod
    async def load(cls, db: asyncpg.Connection, log_id: int, size: int) -> Edge:
        partial: dict[int, list[bytes]] = {}
        keys, level = [], 0
        while size >> (HEIGHT * level):
            count = size >> (HEIGHT * level)
            if count % WIDTH:
                keys.append((level, count // WIDTH, count % WIDTH))
            level += 1
        for tile_level, index, width in keys:
            blob = await read_tile(db, log_id, tile_level, index) or b""
            hashes = split_hashes(blob)[:width]
            if len(hashes) != width:
                raise LookupError(f"tile {tile_level}/{index} is shorter than the log's size")
            partial[tile_level] = hashes
        return cls(size, partial)

    def append(self, leaf: bytes) -> None:
        level, value = 0, leaf
        while True:
            hashes = self.partial.setdefault(level, [])
            hashes.append(value)
            index = (self.size >> (HEIGHT * level)) // WIDTH
            self.changed[(level, index)] = b"".join(hashes)
            if len(hashes) < WIDTH:
                break
            value = subtree_of_hashes(hashes)
            self.partial[level] = []
            level += 1
            if (self.size + 1) % (WIDTH**level):
                break
        self.size += 1

    def root(self) -> bytes:
        if self.size == 0:
            return EMPTY_ROOT
        hashes = []
        for level, index in perfect_pieces(0, self.size):
            (tile_level, _), offset, count = tile_for((level, index))
            run = self.partial[tile_level][offset : offset + count]
            hashes.append(subtree_of_hashes(run))
        return fold(hashes)

    def take_changes(self) -> dict[TileKey, bytes]:
        changed, self.changed = self.changed, {}
        return changed


async def write_tiles(conn: asyncpg.Connection, log_id: int, changed: dict[TileKey, bytes]) -> None:
    if not changed:
        return
    keys = list(changed)
    await conn.execute(
        "INSERT INTO merkle_tiles (log_id, level, index, hashes) "
        "SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) "
        "ON CONFLICT (log_id, level, index) DO UPDATE SET hashes = EXCLUDED.hashes "
        "WHERE length(EXCLUDED.hashes) > length(merkle_tiles.hashes)",
        log_id,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [changed[k] for k in keys],
    )


def tile_path_index(parts: Sequence[str]) -> int:
    """N from its path elements (`x001`, `x234`, `067`); ValueError when not in that form."""
    if not parts or len(parts) > 7:
        raise ValueError("bad tile index")
    value = 0
    for i, part in enumerate(parts):
        digits = part[1:] if i < len(parts) - 1 else part
        if (i < len(parts) - 1) != part.startswith("x") or len(digits) != 3 or not digits.isdigit():
            raise ValueError("bad tile index")
        value = value * 1000 + int(digits)
    return value


def tile_path(index: int) -> str:
    groups = []
    while True:
        index, rest = divmod(index, 1000)
        groups.append(f"{rest:03d}")
        if index == 0:
            break
    return "/".join([f"x{g}" for g in reversed(groups[1:])] + [groups[0]])
