"""Concord as a cluster: the nodes that share one PostgreSQL database and one Redis."""
