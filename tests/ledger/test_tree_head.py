"""Signed tree heads: signing, outsider verification and the key file's safety."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from recordings.ledger.merkle import MerkleLog
from recordings.ledger.tree_head import (
    KEY_FILE_NAME,
    LedgerKeyError,
    SignedTreeHead,
    TreeHeadSigner,
    verify_tree_head,
)

AT = datetime(2021, 11, 24, 8, 30, 15, 123456, tzinfo=UTC)


def test_round_trip(tmp_path: Path) -> None:
    signer = TreeHeadSigner(tmp_path)
    log = MerkleLog()
    for i in range(5):
        log.append(f"signing {i}".encode())
    head = signer.sign(len(log), log.root(), AT)
    assert head.tree_size == 5
    assert head.timestamp == 1637742615123  # whole milliseconds, UTC
    assert head.time == AT.replace(microsecond=123000)
    assert verify_tree_head(head, signer.public_key_pem())
    assert verify_tree_head(head, signer.public_key_pem().decode())
    assert SignedTreeHead.from_dict(head.to_dict()) == head


def test_canonical_encoding() -> None:
    head = SignedTreeHead(tree_size=2, timestamp=3, root_hash=b"\xaa" * 32, signature=b"")
    encoded = head.signed_bytes()
    assert encoded == b"\x00\x01" + (3).to_bytes(8, "big") + (2).to_bytes(8, "big") + b"\xaa" * 32
    assert len(encoded) == 50


def test_other_time_zones_are_converted_and_naive_refused(tmp_path: Path) -> None:
    signer = TreeHeadSigner(tmp_path)
    hanoi = AT.astimezone(timezone(timedelta(hours=7)))
    assert (
        signer.sign(1, b"\x00" * 32, hanoi).timestamp == signer.sign(1, b"\x00" * 32, AT).timestamp
    )
    with pytest.raises(ValueError):
        signer.sign(1, b"\x00" * 32, datetime(2021, 11, 24))


def test_tampered_head_fails(tmp_path: Path) -> None:
    signer = TreeHeadSigner(tmp_path)
    head = signer.sign(7, b"\x11" * 32, AT)
    key = signer.public_key_pem()
    assert not verify_tree_head(replace(head, tree_size=8), key)
    assert not verify_tree_head(replace(head, timestamp=head.timestamp + 1), key)
    assert not verify_tree_head(replace(head, root_hash=b"\x12" + b"\x11" * 31), key)
    assert not verify_tree_head(replace(head, signature=bytes(64)), key)
    assert not verify_tree_head(replace(head, signature=head.signature[:-1]), key)


def test_different_key_fails(tmp_path: Path) -> None:
    head = TreeHeadSigner(tmp_path / "a").sign(1, b"\x00" * 32, AT)
    other = TreeHeadSigner(tmp_path / "b").public_key_pem()
    assert not verify_tree_head(head, other)


def test_key_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    first = TreeHeadSigner(tmp_path / "data")
    path = tmp_path / "data" / KEY_FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert TreeHeadSigner(tmp_path / "data").public_key_pem() == first.public_key_pem()
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE_NAME]  # no temporary left


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_key_file_permissions_enforced(tmp_path: Path, mode: int) -> None:
    TreeHeadSigner(tmp_path)
    os.chmod(tmp_path / KEY_FILE_NAME, mode)
    with pytest.raises(LedgerKeyError, match="chmod 600"):
        TreeHeadSigner(tmp_path)


def test_key_of_wrong_kind_refused(tmp_path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / KEY_FILE_NAME
    path.write_bytes(pem)
    os.chmod(path, 0o600)
    with pytest.raises(LedgerKeyError, match="not an Ed25519 key"):
        TreeHeadSigner(tmp_path)
    path.write_bytes(b"not a key")
    with pytest.raises(LedgerKeyError, match="not an unencrypted PEM private key"):
        TreeHeadSigner(tmp_path)


def test_public_key_of_wrong_kind_refused(tmp_path: Path) -> None:
    head = TreeHeadSigner(tmp_path).sign(1, b"\x00" * 32, AT)
    ec_public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(LedgerKeyError):
        verify_tree_head(head, ec_public)
    with pytest.raises(LedgerKeyError):
        verify_tree_head(head, b"garbage")
