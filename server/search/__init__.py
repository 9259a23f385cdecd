"""Full-text search over conferences, their agenda and their delegations (issue 7)."""
