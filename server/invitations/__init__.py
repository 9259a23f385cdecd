"""Per-site invitations: signed, expiring, revocable links that open a scoped guest session."""
