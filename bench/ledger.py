"""Timings of the signing ledger's Merkle core for a large log (``python -m bench.ledger``).

Appends 100,000 entries to a ``MerkleLog``, then times roots, inclusion and consistency
proofs and their verification, signing and verifying tree heads, and a full ``check_log`` of
an honest log (sparse heads: the signature checks, not the tree, dominate dense heads).
Prints the figures; asserts nothing about them.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from recordings.ledger.merkle import MerkleLog, leaf_hash, verify_consistency, verify_inclusion
from recordings.ledger.tree_head import TreeHeadSigner, verify_tree_head
from recordings.ledger.verify import StoredEntry, check_log


def timed(label: str, repeat: int, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        action()
    per = (time.perf_counter() - start) / repeat
    print(f"{label:<44} {per * 1e6:>12.1f} µs  (x{repeat})")


def main(size: int = 100_000) -> None:
    rng = random.Random(6962)
    data = [f'{{"kind": "signing", "n": {i}}}'.encode() for i in range(size)]
    log = MerkleLog()
    start = time.perf_counter()
    for item in data:
        log.append(item)
    elapsed = time.perf_counter() - start
    print(f"{'append (hash + cache), per entry':<44} {elapsed / size * 1e6:>12.1f} µs  (x{size})")
    print(f"{'append, all entries':<44} {elapsed * 1e3:>12.1f} ms")

    top = log.root()
    timed("root of the full log", 1000, log.root)
    timed("root at a random earlier size", 1000, lambda: log.root(rng.randrange(1, size)))
    indices = [rng.randrange(size) for _ in range(1000)]
    proofs = [log.inclusion_proof(i) for i in indices]
    it = iter(indices)
    timed("inclusion proof", 1000, lambda: log.inclusion_proof(next(it)))
    pairs = list(zip(indices, proofs, strict=True))
    pit = iter(pairs)

    def check_inclusion() -> None:
        index, proof = next(pit)
        assert verify_inclusion(log.leaf_hash(index), index, size, proof, top)

    timed("verify inclusion", 1000, check_inclusion)
    olds = [rng.randrange(1, size) for _ in range(1000)]
    oit = iter(olds)
    timed("consistency proof (random old size)", 1000, lambda: log.consistency_proof(next(oit)))
    cons = [(m, log.root(m), log.consistency_proof(m)) for m in olds]
    cit = iter(cons)

    def check_consistency() -> None:
        m, old_root, proof = next(cit)
        assert verify_consistency(m, size, old_root, top, proof)

    timed("verify consistency", 1000, check_consistency)

    with tempfile.TemporaryDirectory() as directory:
        signer = TreeHeadSigner(directory)
        now = datetime.now(UTC)
        timed("sign tree head", 1000, lambda: signer.sign(size, top, now))
        head = signer.sign(size, top, now)
        public = signer.public_key_pem()
        timed(
            "verify tree head (PEM parsed each time)", 1000, lambda: verify_tree_head(head, public)
        )

        entries = [StoredEntry(d, leaf_hash(d)) for d in data]
        heads = []
        for end in range(1000, size + 1, 1000):
            heads.append(signer.sign(end, log.root(end), now))
        start = time.perf_counter()
        findings = check_log(entries, heads, public)
        elapsed = time.perf_counter() - start
        assert findings == []
        print(f"{'check_log, honest, a head every 1,000':<44} {elapsed * 1e3:>12.1f} ms")
        heads = [signer.sign(end, log.root(end), now) for end in range(1, 20_001)]
        start = time.perf_counter()
        findings = check_log(entries[:20_000], heads, public)
        elapsed = time.perf_counter() - start
        assert findings == []
        print(f"{'check_log, honest, 20,000 entries, dense heads':<44} {elapsed * 1e3:>12.1f} ms")
        tampered = entries[:20_000]
        del tampered[10_000]
        start = time.perf_counter()
        findings = check_log(tampered, heads, public)
        elapsed = time.perf_counter() - start
        print(f"{'check_log, 20,000 dense, one removed':<44} {elapsed * 1e3:>12.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
