"""The Merkle tree against an independent, naive transcription of RFC 6962 §2.1."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from recordings.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleLog,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def naive_mth(data: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1 word for word, recursive, over the entries' data."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def hashes(n: int) -> list[bytes]:
    return [leaf_hash(d) for d in entries(n)]


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_hashing_has_domain_separation() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_known_vector() -> None:
    # RFC 6962 reference tests (certificate-transparency-go): the empty tree and 8 leaves.
    leaves = [
        bytes.fromhex(h)
        for h in [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
    ]
    assert root([leaf_hash(d) for d in leaves]).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


@pytest.mark.parametrize("n", range(71))
def test_root_matches_naive(n: int) -> None:
    assert root(hashes(n)) == naive_mth(entries(n))
    assert MerkleLog(hashes(n)).root() == naive_mth(entries(n))


def test_root_of_every_earlier_size() -> None:
    log = MerkleLog(hashes(70))
    for size in range(71):
        assert log.root(size) == naive_mth(entries(size))


def test_merkle_log_after_each_of_1000_appends() -> None:
    log = MerkleLog()
    data: list[bytes] = []
    for i in range(1000):
        data.append(f"append {i}".encode())
        assert log.append(data[-1]) == i
        assert log.root() == naive_mth(data)
    assert len(log) == 1000


def test_root_with_does_not_modify() -> None:
    log = MerkleLog(hashes(13))
    extra = hashes(20)[13:]
    assert log.root_with(extra) == naive_mth(entries(20))
    assert len(log) == 13
    assert log.root() == naive_mth(entries(13))


@pytest.mark.parametrize("size", range(1, 71))
def test_inclusion_proofs_for_every_index(size: int) -> None:
    leaves = hashes(size)
    top = naive_mth(entries(size))
    log = MerkleLog(leaves)
    for index in range(size):
        proof = log.inclusion_proof(index, size)
        assert proof == inclusion_proof(leaves, index, size)
        assert verify_inclusion(leaves[index], index, size, proof, top)
        if size > 1:
            other = (index + 1) % size
            assert not verify_inclusion(leaves[index], other, size, proof, top)  # wrong index
            assert not verify_inclusion(leaves[other], index, size, proof, top)  # wrong leaf
        assert not verify_inclusion(leaves[index], index, size, proof, flip(top))  # wrong root
        # (A wrong tree size is not always caught: the path of a leaf in a left-most full
        # subtree is the same for several sizes. The size is bound by the signed head.)
        if proof:
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], top)
            tampered = [*proof[:-1], flip(proof[-1])]
            assert not verify_inclusion(leaves[index], index, size, tampered, top)
        assert not verify_inclusion(leaves[index], index, size, [*proof, top], top)


def test_inclusion_index_out_of_range() -> None:
    log = MerkleLog(hashes(4))
    with pytest.raises(ValueError):
        log.inclusion_proof(4, 4)
    assert not verify_inclusion(hashes(4)[0], 4, 4, [], log.root())
    assert not verify_inclusion(hashes(4)[0], -1, 4, [], log.root())


def test_inclusion_proofs_against_earlier_sizes() -> None:
    log = MerkleLog(hashes(70))
    for size in (1, 5, 33, 64):
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert verify_inclusion(log.leaf_hash(index), index, size, proof, log.root(size))


def test_consistency_proofs_for_every_pair() -> None:
    leaves = hashes(40)
    log = MerkleLog(leaves)
    for n in range(1, 41):
        new_root = naive_mth(entries(n))
        for m in range(1, n + 1):
            old_root = naive_mth(entries(m))
            proof = log.consistency_proof(m, n)
            assert proof == consistency_proof(leaves, m, n)
            assert verify_consistency(m, n, old_root, new_root, proof), (m, n)
            assert not verify_consistency(m, n, flip(old_root), new_root, proof)
            assert not verify_consistency(m, n, old_root, flip(new_root), proof)
            if m < n:
                assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
                for i in range(len(proof)):
                    tampered = list(proof)
                    tampered[i] = flip(tampered[i])
                    assert not verify_consistency(m, n, old_root, new_root, tampered), (m, n, i)
                assert not verify_consistency(m, n, old_root, new_root, [*proof, new_root])
            # a different history of the same length is never consistent
            forged_old = naive_mth([b"forged", *entries(m)[1:]])
            assert not verify_consistency(m, n, forged_old, new_root, proof)


def test_consistency_edges() -> None:
    log = MerkleLog(hashes(8))
    assert log.consistency_proof(0, 8) == []
    assert verify_consistency(0, 8, EMPTY_ROOT, log.root(), [])
    assert verify_consistency(8, 8, log.root(), log.root(), [])
    assert not verify_consistency(8, 8, log.root(), log.root(), [log.root()])
    assert not verify_consistency(8, 4, log.root(), log.root(4), [])
    with pytest.raises(ValueError):
        log.consistency_proof(9, 8)


def test_large_log_has_no_recursion_limit() -> None:
    log = MerkleLog()
    for i in range(5000):
        log.append(i.to_bytes(4, "big"))
    top = log.root()
    proof = log.inclusion_proof(4321)
    assert verify_inclusion(log.leaf_hash(4321), 4321, 5000, proof, top)
    assert verify_consistency(3000, 5000, log.root(3000), top, log.consistency_proof(3000))


def test_the_frontier_gives_every_size_s_root_and_survives_storage() -> None:
    """Appending to a frontier stored and read back at each size (as the ledger does between
    appends) gives the same root as the whole tree, and holds one hash per 1 bit of the size."""
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, value in enumerate(hashes(300), start=1):
        frontier = Frontier.from_bytes(frontier.size, frontier.to_bytes())
        frontier.append_leaf_hash(value)
        assert frontier.size == n
        assert frontier.root() == naive_mth(entries(n)), n
        assert len(frontier.to_bytes()) == 32 * bin(n).count("1")
    assert Frontier.of(hashes(300)).to_bytes() == frontier.to_bytes()


def test_a_frontier_that_does_not_fit_its_size_is_refused() -> None:
    three = Frontier.of(hashes(3)).to_bytes()  # two hashes: 2 + 1
    with pytest.raises(ValueError, match="a tree of 4 leaves has a frontier of 1 hashes"):
        Frontier.from_bytes(4, three)
    with pytest.raises(ValueError, match="whole 32-byte hashes"):
        Frontier.from_bytes(3, three[:-1])
