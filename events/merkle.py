"""RFC 9162 Merkle trees: hashing, proofs and their verification, written from the RFC.

leaf = sha256(0x00 || input), node = sha256(0x01 || left || right), the empty tree's root is
sha256(""). Proofs are built from the hashes of *perfect* subtrees (2**level leaves starting at
index * 2**level): that is all a store has to keep (events/tiles.py keeps them as C2SP tiles),
and a proof for any size then needs O(log n) of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from hashlib import sha256

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""(level, index): the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

PerfectHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not prove what it claims; the message says why."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than size (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_pieces(begin: int, end: int) -> list[Node]:
    """The perfect subtrees whose fold from the right is MTH(D[begin:end]), largest first.

    Every range a proof names starts at a multiple of the largest power of two not above its
    size, so the binary digits of its size give the pieces."""
    pieces: list[Node] = []
    size = end - begin
    while size:
        level = size.bit_length() - 1
        if begin % (1 << level):
            raise ValueError(f"range [{begin}, {end}) is not a Merkle subtree")
        pieces.append((level, begin >> level))
        begin += 1 << level
        size -= 1 << level
    return pieces


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range given its perfect pieces' hashes, largest first."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for piece in reversed(hashes[:-1]):
        result = node_hash(piece, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]) as the leaf ranges whose MTHs make the proof, in order."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    path: list[tuple[int, int]] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index - begin < k:
            path.append((begin + k, end))
            end = begin + k
        else:
            path.append((begin, begin + k))
            begin += k
    return path[::-1]


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 PROOF(m, D[n]) as leaf ranges, in order (empty when m is 0 or n)."""
    if not 0 <= old <= new:
        raise ValueError("sizes out of order")
    if old in (0, new):
        return []
    proof: list[tuple[int, int]] = []
    begin, end, complete = 0, new, True
    m = old
    while True:
        size = end - begin
        if m == size:
            if not complete:
                proof.append((begin, end))
            break
        k = _split(size)
        if m <= k:
            proof.append((begin + k, end))
            end = begin + k
        else:
            proof.append((begin, begin + k))
            begin += k
            m -= k
            complete = False
    return proof[::-1]


def needed_nodes(ranges: Sequence[tuple[int, int]]) -> list[Node]:
    """Every perfect subtree the ranges need: what a store must read to build the proof."""
    return [node for begin, end in ranges for node in perfect_pieces(begin, end)]


def range_hashes(ranges: Sequence[tuple[int, int]], perfect: PerfectHash) -> list[bytes]:
    return [fold([perfect(*node) for node in perfect_pieces(b, e)]) for b, e in ranges]


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root the proof leads to from the leaf."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    fn, sn, result = index, size - 1, leaf
    for element in proof:
        _check_hash(element, "a proof hash")
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(element, result)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return result


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    _check_hash(root, "the root")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof leads to another root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2, with the edge cases verifiers agree on (transparency-dev): equal sizes
    take an empty proof and equal roots; nothing is consistent "from" the empty tree, since any
    tree is, so asking is refused as a mistake."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == new:
        if proof:
            raise ProofError("equal sizes take an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots")
        return
    _check_hash(old_root, "the first root")
    _check_hash(new_root, "the second root")
    if not proof:
        raise ProofError("the proof is empty")
    for element in proof:
        _check_hash(element, "a proof hash")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(element, fr), node_hash(element, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the trees are deep")
    if fr != old_root:
        raise ProofError("the proof does not lead to the first root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the second root")


class CompactRange:
    """The roots of the perfect subtrees of a growing tree: the root of every prefix at O(log n)
    memory, at one leaf hash and on average one node hash per leaf (what verify streams with)."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        stack = self._stack
        stack.append(leaf)
        size = self.size
        while size & 1:
            right = stack.pop()
            stack[-1] = hashlib.sha256(b"\x01" + stack[-1] + right).digest()
            size >>= 1
        self.size += 1

    def extend(self, leaves: bytes) -> None:
        """append() of each leaf hash in `leaves` (HASH_SIZE bytes each, one after the other),
        in blocks: the largest perfect subtree that fits at the current size is hashed level
        by level over a list (no Python step per node), then joins the stack as append()
        would join it."""
        count, done = len(leaves) // HASH_SIZE, 0
        while done < count:
            size = self.size
            level = (count - done).bit_length() - 1
            if size:
                level = min(level, (size & -size).bit_length() - 1)
            begin, end = done * HASH_SIZE, (done + (1 << level)) * HASH_SIZE
            if level:
                starts = range(begin, end, 2 * HASH_SIZE)
                nodes = [
                    sha256(b"\x01" + leaves[at : at + 2 * HASH_SIZE]).digest() for at in starts
                ]
            else:
                nodes = [leaves[begin:end]]
            for _ in range(level - 1):
                pairs = zip(nodes[::2], nodes[1::2], strict=True)
                nodes = [sha256(b"\x01" + left + right).digest() for left, right in pairs]
            stack = self._stack
            stack.append(nodes[0])
            size >>= level
            while size & 1:
                right = stack.pop()
                stack[-1] = node_hash(stack[-1], right)
                size >>= 1
            self.size += 1 << level
            done += 1 << level

    def root(self) -> bytes:
        return fold(self._stack) if self._stack else EMPTY_ROOT


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of leaf hashes held in memory (tests and small trees)."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()
