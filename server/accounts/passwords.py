"""Password hashing with argon2 (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_MIN_LENGTH = 10


class Passwords:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        # Verified against when the e-mail is unknown, so timing does not reveal accounts.
        self._decoy = self._hasher.hash("concord-decoy-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < _MIN_LENGTH:
        return f"the password must be at least {_MIN_LENGTH} characters long"
    if password.strip() != password:
        return "the password must not start or end with spaces"
    return None
