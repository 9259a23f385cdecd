"""Properties of the ledger's Merkle log, with hypothesis: whatever entries are appended, in
whatever batches, every inclusion proof and every consistency proof between any two of its
sizes verifies against the roots, matches an independent transcription of RFC 6962, and a
changed entry, root or proof step is refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from recordings.ledger.merkle import MerkleLog, leaf_hash, verify_consistency, verify_inclusion
from tests.ledger.test_merkle import flip, naive_mth

ENTRIES = st.lists(st.binary(max_size=40), min_size=1, max_size=70)
BATCHES = st.lists(st.lists(st.binary(max_size=16), min_size=1, max_size=9), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(ENTRIES, st.data())
def test_every_inclusion_proof_verifies_and_binds_its_entry(
    data: list[bytes], draw: st.DataObject
) -> None:
    log = MerkleLog()
    for entry in data:
        log.append(entry)
    size = draw.draw(st.integers(1, len(data)), label="tree size")
    root = log.root(size)
    assert root == naive_mth(data[:size])
    index = draw.draw(st.integers(0, size - 1), label="entry")
    proof = log.inclusion_proof(index, size)
    assert verify_inclusion(leaf_hash(data[index]), index, size, proof, root)
    assert not verify_inclusion(leaf_hash(data[index] + b"!"), index, size, proof, root)
    assert not verify_inclusion(leaf_hash(data[index]), index, size, proof, flip(root))
    if proof:
        step = draw.draw(st.integers(0, len(proof) - 1), label="proof step")
        bent = [*proof[:step], flip(proof[step]), *proof[step + 1 :]]
        assert not verify_inclusion(leaf_hash(data[index]), index, size, bent, root)


@settings(max_examples=60, deadline=None)
@given(BATCHES)
def test_any_sequence_of_appends_stays_consistent_with_every_earlier_head(
    batches: list[list[bytes]],
) -> None:
    log = MerkleLog()
    heads: list[tuple[int, bytes]] = []  # (size, root) after each batch: the signed heads
    for batch in batches:
        for entry in batch:
            log.append(entry)
        heads.append((len(log), log.root()))
        for old_size, old_root in heads:
            for new_size, new_root in heads:
                if old_size > new_size:
                    continue
                proof = log.consistency_proof(old_size, new_size)
                assert verify_consistency(old_size, new_size, old_root, new_root, proof)
                if old_size < new_size:
                    assert not verify_consistency(
                        old_size, new_size, flip(old_root), new_root, proof
                    )
                    assert not verify_consistency(
                        old_size, new_size, old_root, flip(new_root), proof
                    )
        # Every entry appended so far is still provable under the newest head.
        size, newest = heads[-1]
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert verify_inclusion(log.leaf_hash(index), index, size, proof, newest)


@settings(max_examples=40, deadline=None)
@given(ENTRIES, st.data())
def test_a_rewritten_history_is_not_consistent(data: list[bytes], draw: st.DataObject) -> None:
    if len(data) < 2:
        return
    old_size = draw.draw(st.integers(1, len(data) - 1), label="old size")
    changed = draw.draw(st.integers(0, old_size - 1), label="changed entry")
    honest = MerkleLog()
    rewritten = MerkleLog()
    for index, entry in enumerate(data):
        honest.append(entry)
        rewritten.append(entry + b"~" if index == changed else entry)
    old_root = honest.root(old_size)
    proof = rewritten.consistency_proof(old_size, len(data))
    assert not verify_consistency(old_size, len(data), old_root, rewritten.root(), proof)
