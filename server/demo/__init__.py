"""Demo data: the two real conferences Concord grew out of, and one user per role."""
