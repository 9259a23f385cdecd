"""Concord's media plane: bridge rooms over aiortc that forward encoded RTP (see DESIGN.md).

Never imports ``server``; it reports back through return values, callbacks and events.
"""
