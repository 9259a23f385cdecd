"""Signed tree heads: the ledger's Ed25519 signature over (size, time, root).

Why sign heads and not entries: a signature on the root of a Merkle tree of n entries
commits to all n entries and their order at once, and with inclusion and consistency proofs
(``recordings.ledger.merkle``) an outsider holding only the public key can check one entry, or that
the log only grew, without trusting Concord's database. The key lives in the data directory;
its public half is published (the web layer serves :meth:`TreeHeadSigner.public_key_pem`).

What is signed is the RFC 6962 §3.5 ``TreeHeadSignature`` structure, byte for byte (50 bytes):

====== ====== =====================================================
offset length field
====== ====== =====================================================
0      1      version: 0 (RFC 6962 ``v1``)
1      1      signature type: 1 (RFC 6962 ``tree_hash``)
2      8      timestamp: milliseconds since the Unix epoch, UTC, big-endian uint64
10     8      tree size: number of entries, big-endian uint64
18     32     root hash: SHA-256 Merkle tree hash (``recordings.ledger.merkle.root``)
====== ====== =====================================================

Fixed-width fields and no text make the encoding canonical: one head has exactly one byte
string, so two implementations cannot disagree about what was signed. The two leading bytes
mean the same key can never be tricked into signing something that parses as a head.
"""

from __future__ import annotations

import base64
import os
import stat
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from recordings.ledger.merkle import HASH_SIZE

__all__ = [
    "KEY_FILE_NAME",
    "SIGNED_TREE_HEAD_VERSION",
    "LedgerKeyError",
    "SignedTreeHead",
    "TreeHeadSigner",
    "load_public_key",
    "verify_tree_head",
]

KEY_FILE_NAME = "ledger-ed25519.pem"
"""The private key's file name inside the data directory."""

SIGNED_TREE_HEAD_VERSION = 0
_SIGNATURE_TYPE_TREE_HASH = 1
_ENCODING = struct.Struct(">BBQQ32s")
_UINT64_MAX = 2**64 - 1
_SIGNATURE_SIZE = 64


class LedgerKeyError(Exception):
    """The ledger's key file is unusable (wrong permissions, wrong kind of key, unreadable)."""


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A signed statement "the ledger had ``tree_size`` entries with root ``root_hash``".

    ``timestamp`` is milliseconds since the Unix epoch in UTC: integers, not datetimes, so
    the signed bytes never depend on a time zone or on float rounding.
    """

    tree_size: int
    timestamp: int
    root_hash: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.tree_size <= _UINT64_MAX:
            raise ValueError(f"tree size {self.tree_size} is not a uint64")
        if not 0 <= self.timestamp <= _UINT64_MAX:
            raise ValueError(f"timestamp {self.timestamp} is not a uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"root hash must be {HASH_SIZE} bytes")

    def signed_bytes(self) -> bytes:
        """The canonical 50-byte encoding that the signature covers (see the module doc)."""
        return tree_head_bytes(self.tree_size, self.timestamp, self.root_hash)

    @property
    def time(self) -> datetime:
        """The timestamp as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (base64 for bytes), as published next to the public key."""
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "root_hash": base64.b64encode(self.root_hash).decode("ascii"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> SignedTreeHead:
        """Inverse of :meth:`to_dict`; raises ``ValueError``/``KeyError`` on malformed input."""
        return cls(
            tree_size=int(value["tree_size"]),
            timestamp=int(value["timestamp"]),
            root_hash=base64.b64decode(value["root_hash"], validate=True),
            signature=base64.b64decode(value["signature"], validate=True),
        )


def tree_head_bytes(tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
    """Encode a tree head canonically (RFC 6962 §3.5 ``TreeHeadSignature``)."""
    return _ENCODING.pack(
        SIGNED_TREE_HEAD_VERSION, _SIGNATURE_TYPE_TREE_HASH, timestamp, tree_size, root_hash
    )


def _to_millis(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("tree head time must be timezone-aware (UTC)")
    # Integer arithmetic, not at.timestamp() * 1000: floats would round some instants.
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


class TreeHeadSigner:
    """Holds the ledger's Ed25519 private key, kept in ``directory`` as PKCS#8 PEM.

    The key is created on first use: written to a temporary file opened with mode 0600 and
    then hard-linked into place, so a crash or a second process never leaves a partial or
    world-readable key, and a concurrent creator simply loads the winner's key. An existing
    key file is refused if group or others may access it (a leaked ledger key would let
    anyone forge tree heads) or if it is not an Ed25519 key.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.key_path = self.directory / KEY_FILE_NAME
        self._key = self._load_or_create()

    def _load_or_create(self) -> Ed25519PrivateKey:
        if not self.key_path.exists():
            self._create()
        return self._load()

    def _create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = self.directory / f".{KEY_FILE_NAME}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, self.key_path)  # atomic, and never replaces an existing key
            except FileExistsError:
                pass  # another process created it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)

    def _load(self) -> Ed25519PrivateKey:
        try:
            mode = self.key_path.stat().st_mode
        except OSError as error:
            raise LedgerKeyError(f"cannot read ledger key {self.key_path}: {error}") from error
        if not stat.S_ISREG(mode):
            raise LedgerKeyError(f"ledger key {self.key_path} is not a regular file")
        if mode & 0o077:
            raise LedgerKeyError(
                f"ledger key {self.key_path} has permissions {stat.S_IMODE(mode):04o}; "
                "it must be readable by its owner only (chmod 600)"
            )
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as error:
            raise LedgerKeyError(
                f"ledger key {self.key_path} is not an unencrypted PEM private key: {error}"
            ) from error
        if not isinstance(key, Ed25519PrivateKey):
            raise LedgerKeyError(
                f"ledger key {self.key_path} is a {type(key).__name__}, not an Ed25519 key"
            )
        return key

    def public_key_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM: what the well-known URL publishes."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, size: int, root: bytes, at: datetime) -> SignedTreeHead:
        """Sign the head of a tree of ``size`` entries with ``root``, at UTC time ``at``.

        ``at`` must be timezone-aware; it is stored truncated to whole milliseconds.
        """
        timestamp = _to_millis(at)
        unsigned = SignedTreeHead(size, timestamp, root, b"")
        return SignedTreeHead(size, timestamp, root, self._key.sign(unsigned.signed_bytes()))


def load_public_key(public_key_pem: bytes | str) -> Ed25519PublicKey:
    """Parse a published ledger public key; raises :class:`LedgerKeyError` if unusable."""
    data = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else public_key_pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise LedgerKeyError(f"not a PEM public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise LedgerKeyError(f"the ledger public key is a {type(key).__name__}, not Ed25519")
    return key


def verify_tree_head(head: SignedTreeHead, public_key_pem: bytes | str | Ed25519PublicKey) -> bool:
    """Is ``head`` signed by the ledger key? Needs only the public key (an outsider's check).

    Returns ``False`` for a wrong or malformed signature; raises :class:`LedgerKeyError` only
    when the key itself is unusable (that is the caller's mistake, not a forged head).
    """
    key = (
        public_key_pem
        if isinstance(public_key_pem, Ed25519PublicKey)
        else load_public_key(public_key_pem)
    )
    if len(head.signature) != _SIGNATURE_SIZE:
        return False
    try:
        key.verify(head.signature, head.signed_bytes())
    except InvalidSignature:
        return False
    return True
