"""Transparency log proofs checked against an independent, literal RFC 6962 implementation."""

from __future__ import annotations

import hashlib

import pytest

from inspector.certificates.merkle import (
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

# ---- independent implementation: the recursive definitions of RFC 6962 section 2.1, verbatim ----


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]  # noqa: RUF005 - RFC notation
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]  # noqa: RUF005 - RFC notation


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]  # noqa: RUF005 - RFC notation
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]  # noqa: RUF005 - RFC notation


def _data(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


def _tree(d: list[bytes]) -> MerkleTree:
    return MerkleTree([leaf_hash(x) for x in d])


@pytest.mark.parametrize("n", range(0, 34))
def test_roots_match_reference(n: int) -> None:
    """The log's root hash is RFC 6962's MTH for every size, including the empty tree."""
    d = _data(n)
    assert _tree(d).root() == ref_mth(d)


@pytest.mark.parametrize("n", range(1, 34))
def test_inclusion_proofs_match_reference_and_verify(n: int) -> None:
    """Every audit path equals RFC 6962 PATH(m, D[n]) and passes RFC 9162 verification."""
    d = _data(n)
    tree = _tree(d)
    root = ref_mth(d)
    for m in range(n):
        proof = tree.inclusion_proof(m)
        assert proof == ref_path(m, d)
        assert verify_inclusion(leaf_hash(d[m]), m, n, proof, root)
        assert not verify_inclusion(leaf_hash(b"forged"), m, n, proof, root)
        if proof:
            bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
            assert not verify_inclusion(leaf_hash(d[m]), m, n, bad, root)
        if n > 1:
            assert not verify_inclusion(leaf_hash(d[m]), (m + 1) % n, n, proof, root)


@pytest.mark.parametrize("n", range(1, 26))
def test_consistency_proofs_match_reference_and_verify(n: int) -> None:
    """Every consistency proof equals RFC 6962 PROOF(m, D[n]) and passes RFC 9162 verification."""
    d = _data(n)
    tree = _tree(d)
    for m in range(1, n + 1):
        proof = tree.consistency_proof(m, n)
        assert proof == ref_subproof(m, d, True)
        assert verify_consistency(m, n, ref_mth(d[:m]), ref_mth(d), proof)
        # a rewritten history (entry 0 replaced) is detected
        rewritten = [b"rewritten", *d[1:m]]
        assert not verify_consistency(m, n, ref_mth(rewritten), ref_mth(d), proof)


def test_tree_grows_append_only_with_historic_sizes() -> None:
    """Proofs for an older size stay available after appends (the STH history is checkable)."""
    d = _data(20)
    tree = MerkleTree()
    for x in d:
        tree.append(leaf_hash(x))
    for size in (1, 7, 8, 13, 20):
        assert tree.root(size) == ref_mth(d[:size])
        assert tree.inclusion_proof(size - 1, size) == ref_path(size - 1, d[:size])
