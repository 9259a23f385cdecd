"""The ledger: an append-only, signed Merkle log of signings, final minutes, permit decisions
and recordings, checkable by outsiders with the published public key alone (issue 7)."""
