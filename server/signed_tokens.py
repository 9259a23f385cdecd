"""Signed values (invitation links) using itsdangerous with the application's secret key."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer


class TokenSigner:
    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key

    def dumps(self, purpose: str, value: Any) -> str:
        return URLSafeSerializer(self._secret, salt=f"concord.{purpose}").dumps(value)

    def loads(self, purpose: str, token: str) -> Any | None:
        """The signed value, or None when the token was not made by us for this purpose."""
        try:
            return URLSafeSerializer(self._secret, salt=f"concord.{purpose}").loads(token)
        except BadSignature:
            return None
