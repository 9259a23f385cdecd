"""Concord's control plane: the web application, accounts, scheduling and persistence."""

__version__ = "0.1.0"
