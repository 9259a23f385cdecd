"""Concord's archive plane: recordings, minutes, the signing ledger, search and retention.

Never imports ``server``.
"""
