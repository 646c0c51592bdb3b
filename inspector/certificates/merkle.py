"""Append-only Merkle tree hashing and proofs from RFC 6962 / RFC 9162 (SHA-256).

Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right). Proof
generation follows the recursive PATH / SUBPROOF definitions (RFC 9162 2.1.3.1, 2.1.4.1);
verification follows the iterative algorithms of RFC 9162 2.1.3.2 and 2.1.4.2.
Subtree hashes of complete power-of-two blocks are memoised, so proofs cost O(log n) hashes
after the first computation over a tree. Verifiers refuse any hash that is not 32 bytes: a
longer or shorter proof element would let bytes shift between a node's two halves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32  # SHA-256


def _all_hashes(*hashes: bytes, proof: Sequence[bytes]) -> bool:
    """True when every given value and proof element is a SHA-256 hash (32 bytes)."""
    return all(len(h) == HASH_SIZE for h in (*hashes, *proof))


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


class MerkleTree:
    """A tree over a list of leaf hashes; caches hashes of complete power-of-two subtrees."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.leaves: list[bytes] = list(leaf_hashes)
        self._cache: dict[tuple[int, int], bytes] = {}

    def append(self, leaf_hash_: bytes) -> int:
        self.leaves.append(leaf_hash_)
        return len(self.leaves) - 1

    def __len__(self) -> int:
        return len(self.leaves)

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaves[lo]
        complete = n & (n - 1) == 0
        if complete and (lo, hi) in self._cache:
            return self._cache[(lo, hi)]
        k = _split(n)
        h = node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))
        if complete:
            self._cache[(lo, hi)] = h
        return h

    def root(self, size: int | None = None) -> bytes:
        size = len(self.leaves) if size is None else size
        self._check_size(size)
        return self._mth(0, size)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= len(self.leaves):
            raise ValueError(f"tree size {size} is outside 0..{len(self.leaves)}")

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
        size = len(self.leaves) if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")

        def path(m: int, lo: int, hi: int) -> list[bytes]:
            n = hi - lo
            if n == 1:
                return []
            k = _split(n)
            if m < k:
                return [*path(m, lo, lo + k), self._mth(lo + k, hi)]
            return [*path(m - k, lo + k, hi), self._mth(lo, lo + k)]

        return path(index, 0, size)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1."""
        second = len(self.leaves) if second is None else second
        self._check_size(second)
        if not 0 < first <= second:
            raise ValueError(f"consistency needs 0 < first ({first}) <= second ({second})")

        def subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
            n = hi - lo
            if m == n:
                return [] if b else [self._mth(lo, hi)]
            k = _split(n)
            if m <= k:
                return [*subproof(m, lo, lo + k, b), self._mth(lo + k, hi)]
            return [*subproof(m - k, lo + k, hi, False), self._mth(lo, lo + k)]

        return subproof(first, 0, second, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``leaf`` (a leaf hash) sit at ``index`` of the tree with ``root``?"""
    if not 0 <= index < size or not _all_hashes(leaf, root, proof=proof):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree of size ``second`` an append-only extension of ``first``?"""
    if not 0 < first <= second or not _all_hashes(first_root, second_root, proof=proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # first is an exact power of two
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
