"""Who is making a request: a user, a guest from an invitation, or nobody."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server.models import Role

Via = Literal["anonymous", "cookie", "bearer", "guest"]


@dataclass(frozen=True)
class GuestScope:
    """The exact rights an invitation grants: one role at one site of one conference."""

    invitation_id: int
    conference_id: int
    site_id: int
    role: Role


@dataclass(frozen=True)
class Identity:
    via: Via
    user_id: int | None = None
    email: str | None = None
    display_name: str = ""
    roles: frozenset[Role] = frozenset()
    locale: str | None = None
    time_zone: str = "UTC"
    time_zone_chosen: bool = True  # (a user who never chose is proposed the browser's zone)
    session_id: int | None = None
    token_id: int | None = None  # the API token a script signed in with
    csrf_token: str | None = None
    guest: GuestScope | None = None

    @property
    def signed_in(self) -> bool:
        return self.via != "anonymous"

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def actor(self) -> str:
        """How the audit log names this identity."""
        if self.email:
            return self.email
        if self.guest:
            return f"guest:invitation/{self.guest.invitation_id}"
        return "anonymous"

    def has_any(self, wanted: frozenset[Role]) -> bool:
        return self.is_admin or not wanted or bool(self.roles & wanted)


ANONYMOUS = Identity(via="anonymous")
