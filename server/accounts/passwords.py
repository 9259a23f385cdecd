"""Password hashing with argon2id (argon2-cffi); the cost comes from the configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.config import Config

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.i18n_strings import N_

_MIN_LENGTH = 10  # (its messages below say 10: they are translated as they are)


class Passwords:
    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified against when the e-mail is unknown, so timing does not reveal accounts.
        self._decoy = self._hasher.hash("concord-decoy-password")

    @classmethod
    def from_config(cls, config: Config) -> Passwords:
        return cls(config.argon2_time_cost, config.argon2_memory_kib)

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
        return N_("the password must be at least 10 characters long")
    if password.strip() != password:
        return N_("the password must not start or end with spaces")
    return None
