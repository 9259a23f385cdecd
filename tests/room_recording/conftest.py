"""The live-room fixtures of tests/live (a real server, a chair, synthetic sites)."""

from tests.live.conftest import live

__all__ = ["live"]
