"""The ledger's cryptography, pure: the RFC 6962 Merkle tree (``merkle``), signed tree heads
(``tree_head``), checking a whole log against its heads (``verify``), and the witness file
that keeps every head outside the database (``witness``). ``server/ledger/`` stores the
entries and heads and serves them."""
