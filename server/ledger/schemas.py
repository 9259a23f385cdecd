"""What the ledger's public API answers (documented in the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class HeadOut(BaseModel):
    """A signed tree head in the form ``recordings.ledger.tree_head.SignedTreeHead.to_dict`` gives
    (and ``from_dict`` reads): hashes and signature in base64."""

    tree_size: int
    timestamp: int = Field(description="milliseconds since the Unix epoch, UTC")
    root_hash: str = Field(description="base64 of the 32-byte Merkle root")
    signature: str = Field(description="base64 of the Ed25519 signature (RFC 6962 §3.5 bytes)")


class EntryOut(BaseModel):
    position: int
    kind: str
    ref: str
    payload: dict[str, Any]
    data: str = Field(description="the exact UTF-8 JSON that was hashed")
    leaf_hash: str = Field(description="hex of SHA-256(0x00 ‖ data)")
    appended_at: dt.datetime


class EntryProofOut(BaseModel):
    entry: EntryOut
    leaf_hash: str = Field(description="hex of SHA-256(0x00 ‖ data)")
    head: HeadOut
    inclusion_proof: list[str] = Field(
        description="hex hashes, leaf-most first (RFC 9162 §2.1.3), of the entry in head"
    )
