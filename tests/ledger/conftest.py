"""The permit tests' people (API tokens per role), to drive decisions through the API."""

from tests.permits.conftest import people

__all__ = ["people"]
