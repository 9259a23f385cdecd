"""The ledger's Merkle tree, in the manner of RFC 6962 / RFC 9162 (Certificate Transparency).

Why a Merkle tree and not a plain hash chain: a chain proves an entry only by replaying every
entry before it, and proves "the log only grew" only by handing over the whole log. A Merkle
tree gives an outsider an *inclusion proof* (about log2(n) hashes) that one entry is in a
signed tree head, and a *consistency proof* (about log2(n) hashes) that a later signed tree
head extends an earlier one without rewriting anything. Those are the two questions a
delegation asks of the signing ledger years later.

Hashing follows RFC 6962 §2.1 with domain separation, so that a leaf can never be passed off
as an interior node (the second-preimage attack on naive Merkle trees):

- ``leaf_hash(d) = SHA-256(0x00 ‖ d)``
- ``node_hash(l, r) = SHA-256(0x01 ‖ l ‖ r)``
- the root of the empty tree is ``SHA-256("")``.

The proof algorithms are RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency), written as
loops rather than recursion so that no tree size can hit Python's recursion limit.

Everything here is pure: bytes in, bytes out; storage and signing live elsewhere
(``recordings.ledger.tree_head`` signs roots, ``recordings.ledger.verify`` checks a whole log).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "MerkleLog",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) of RFC 6962 §2.1: the root of a tree with no leaves."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry as a leaf: SHA-256(0x00 ‖ data).

    The 0x00 prefix keeps leaves and interior nodes in different hash domains.
    """
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 6962's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _push(stack: list[tuple[int, bytes]], level: int, value: bytes) -> None:
    """Push a complete subtree of height ``level`` and merge equal heights (binary counter)."""
    stack.append((level, value))
    while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
        right_level, right = stack.pop()
        _, left = stack.pop()
        stack.append((right_level + 1, node_hash(left, right)))


def _fold(stack: Sequence[tuple[int, bytes]]) -> bytes:
    """Fold a frontier of complete subtrees (left to right, strictly decreasing heights).

    RFC 6962 splits a tree of n leaves at the largest power of two below n; unrolled, the
    root is node(T1, node(T2, ... node(Tk-1, Tk))) over the complete subtrees given by the
    binary digits of n, which is exactly a right fold of the frontier.
    """
    if not stack:
        return EMPTY_ROOT
    acc = stack[-1][1]
    for _, value in reversed(stack[:-1]):
        acc = node_hash(value, acc)
    return acc


class Frontier:
    """The right edge of a tree of ``size`` leaves: the roots of its complete subtrees, one per
    binary digit of ``size`` that is 1, largest first. It is all an append needs: the next
    leaf merges into it like a carry in a binary counter (O(1) hashes amortised, O(log n) at
    worst), and the root is its right fold (O(log n)) — with no other leaf read.

    Stored beside each signed head (``to_bytes``: the hashes only, since the heights follow
    from ``size``), it lets the ledger append without reading every leaf. It is a cache, not
    evidence: a wrong frontier would sign a root that no honest log has, which the verifier,
    recomputing every root from the entries, reports."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
        if size < 0 or len(hashes) != len(heights):
            raise ValueError(f"a tree of {size} leaves has a frontier of {len(heights)} hashes")
        for value in hashes:
            _check_hash(value, "a frontier hash")
        self.size = size
        self._stack = list(zip(heights, hashes, strict=True))

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        """The frontier ``to_bytes`` wrote for a tree of ``size`` leaves."""
        if len(blob) % HASH_SIZE:
            raise ValueError(f"a frontier is whole {HASH_SIZE}-byte hashes, got {len(blob)} bytes")
        return cls(size, [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)])

    @classmethod
    def of(cls, leaf_hashes: Iterable[bytes]) -> Frontier:
        """The frontier of the tree over ``leaf_hashes`` (reads them all: O(n))."""
        frontier = cls()
        for value in leaf_hashes:
            frontier.append_leaf_hash(value)
        return frontier

    def to_bytes(self) -> bytes:
        return b"".join(value for _, value in self._stack)

    def append_leaf_hash(self, value: bytes) -> None:
        _check_hash(value, "a leaf hash")
        _push(self._stack, 0, value)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the tree's leaves, the same as ``root(leaves)``."""
        return _fold(self._stack)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of RFC 6962 §2.1 over ``leaves``, which are *leaf hashes* (``leaf_hash(data)``).

    Streaming: O(n) time, O(log n) memory, no recursion.
    """
    stack: list[tuple[int, bytes]] = []
    for value in leaves:
        _check_hash(value, "a leaf hash")
        _push(stack, 0, value)
    return _fold(stack)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """The audit path of RFC 9162 §2.1.3.1 for leaf ``index`` in the first ``tree_size`` leaves.

    Builds a :class:`MerkleLog` (O(n)); keep a ``MerkleLog`` around to answer many proofs.
    """
    return MerkleLog(leaf_hashes[:tree_size]).inclusion_proof(index, tree_size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof of RFC 9162 §2.1.4.1 between two sizes of the same log."""
    return MerkleLog(leaf_hashes[:new_size]).consistency_proof(old_size, new_size)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put ``leaf_hash`` at ``index`` of the tree ``root``?

    Needs nothing but the proof and the (signed) root: this is the check an outsider runs.
    """
    if index < 0 or index >= tree_size:
        return False
    if len(leaf_hash) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``new_root`` an append-only extension of ``old_root``?

    Conventions at the edges (RFC 9162 leaves them to the caller): equal sizes are
    consistent only with equal roots and an empty proof; the empty tree (size 0) is a prefix
    of every tree, with an empty proof; a shrinking log is never consistent.
    """
    if old_size < 0 or new_size < old_size:
        return False
    if len(old_root) != HASH_SIZE or len(new_root) != HASH_SIZE:
        return False
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
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
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class MerkleLog:
    """An append-only list of leaf hashes with every complete subtree's hash cached.

    Layout: ``levels[h][i]`` is the hash of the complete subtree of height ``h`` covering
    leaves ``[i·2^h, (i+1)·2^h)``; ``levels[0]`` are the leaf hashes. Any subtree the RFC
    algorithms ask for is either one of these or a "right edge" range that splits into at
    most log2(n) of them, and a complete subtree inside the first m leaves is the same for
    every tree size ≥ m, so one cache serves proofs against *any* earlier tree size.

    Complexity (n leaves):

    - ``append``: O(1) hashes amortised (a binary counter's carries), O(log n) worst case;
    - ``root(size)``: O(log n);
    - ``inclusion_proof`` / ``consistency_proof``: O(log² n) worst case, usually O(log n)
      (each of the ≤ log n path elements is a cached node or a right-edge fold);
    - memory: about 2n hashes (64 bytes per leaf): 6.4 MB for 100,000 entries.

    No method recurses, so there is no depth limit.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for value in leaf_hashes:
            self.append_leaf_hash(value)

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, data: bytes) -> int:
        """Append an entry's data (hashed as a leaf); returns its index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, value: bytes) -> int:
        """Append an already computed leaf hash; returns its index."""
        _check_hash(value, "a leaf hash")
        index = len(self._levels[0])
        self._levels[0].append(value)
        level, position, node = 0, index, value
        while position & 1:  # this node completes a pair: its parent is now complete too
            node = node_hash(self._levels[level][position - 1], node)
            level += 1
            position >>= 1
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(node)
        return index

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash stored at ``index``."""
        return self._levels[0][index]

    def leaf_hashes(self) -> Sequence[bytes]:
        """All leaf hashes, in order (a read-only view; do not modify)."""
        return self._levels[0]

    def _size(self, tree_size: int | None) -> int:
        size = len(self) if tree_size is None else tree_size
        if not 0 <= size <= len(self):
            raise ValueError(f"tree size {size} outside 0..{len(self)}")
        return size

    def _pieces(self, lo: int, hi: int) -> list[tuple[int, bytes]]:
        """The complete subtrees making up MTH(D[lo:hi]), left to right.

        Valid for the ranges the RFC recursion produces, where ``lo`` is a multiple of every
        piece's width (the recursion only ever starts a range at such a boundary).
        """
        pieces: list[tuple[int, bytes]] = []
        while lo < hi:
            n = hi - lo
            width = n if n & (n - 1) == 0 else _split(n)
            level = width.bit_length() - 1
            if lo & (width - 1):
                raise AssertionError(f"unaligned subtree [{lo}, {hi})")
            pieces.append((level, self._levels[level][lo >> level]))
            lo += width
        return pieces

    def _range_hash(self, lo: int, hi: int) -> bytes:
        return _fold(self._pieces(lo, hi))

    def root(self, tree_size: int | None = None) -> bytes:
        """MTH of the first ``tree_size`` leaves (default: all of them). O(log n)."""
        return self._range_hash(0, self._size(tree_size))

    def root_with(self, extra_leaf_hashes: Iterable[bytes]) -> bytes:
        """The root this log *would* have after appending ``extra_leaf_hashes``.

        Does not modify the log: O(log n + k) for k extra leaves. The audit uses it to test
        hypotheses ("is this row the next entry?") against a signed root.
        """
        stack = self._pieces(0, len(self))
        for value in extra_leaf_hashes:
            _check_hash(value, "a leaf hash")
            _push(stack, 0, value)
        return _fold(stack)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """PATH(index, D[tree_size]) of RFC 9162 §2.1.3.1, leaf-most hash first."""
        size = self._size(tree_size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} outside 0..{size - 1}")
        lo, hi = 0, size
        siblings: list[bytes] = []
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                siblings.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                siblings.append(self._range_hash(lo, lo + k))
                lo += k
        siblings.reverse()
        return siblings

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1 (empty when the sizes are equal).

        ``old_size`` 0 gives an empty proof: the empty tree is a prefix of every tree.
        """
        n = self._size(new_size)
        if not 0 <= old_size <= n:
            raise ValueError(f"old size {old_size} outside 0..{n}")
        if old_size in (0, n):
            return []
        lo, hi, m, complete = 0, n, old_size, True
        outer: list[bytes] = []
        while True:
            if m == hi - lo:
                base = [] if complete else [self._range_hash(lo, hi)]
                break
            k = _split(hi - lo)
            if m <= k:
                outer.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                outer.append(self._range_hash(lo, lo + k))
                lo += k
                m -= k
                complete = False
        outer.reverse()
        return base + outer
