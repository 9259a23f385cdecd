"""JSON shapes of the accounts API; they validate requests and generate the OpenAPI document."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from server.fields import AccountEmail, Strict, TimeZone
from server.models import Role


class LoginRequest(Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginForm(LoginRequest):
    next: str = "/"


class SessionInfo(BaseModel):
    user_id: int | None
    email: str | None
    display_name: str
    roles: list[Role]
    locale: str
    time_zone: str
    via: str
    csrf_token: str | None = Field(
        description="Send back in the X-CSRF-Token header with every cookie-authenticated write"
    )
    guest_conference_id: int | None = None
    guest_site_id: int | None = None


class ProfileUpdate(Strict):
    locale: str | None = Field(default=None, pattern="^(en|vi|lo)$")
    time_zone: TimeZone | None = None


class ProfileForm(ProfileUpdate):
    next: str = "/account"  # where the page's form sends the browser back to


class UserCreate(Strict):
    email: AccountEmail
    roles: list[Role] = Field(min_length=1)
    password: str | None = Field(default=None, max_length=1024)
    display_name: str = Field(default="", max_length=200)
    locale: str = Field(default="en", pattern="^(en|vi|lo)$")


class UserUpdate(Strict):
    """An admin's change to a user: disable (or enable) the account, or replace its roles.
    Either ends the user's live connections that the change no longer allows."""

    active: bool | None = None
    roles: list[Role] | None = Field(default=None, min_length=1)


class UserForm(Strict):
    email: str = Field(min_length=3, max_length=320)
    role: Role
    password: str = Field(max_length=1024)
    display_name: str = Field(default="", max_length=200)


class PasswordChange(Strict):
    """The caller's own new password; the current one proves it is them."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChangeForm(PasswordChange):
    new_password_again: str = Field(min_length=1, max_length=1024)


class TemporaryPassword(BaseModel):
    temporary_password: str = Field(
        description="Shown once: pass it on to the user, who must replace it at sign-in"
    )


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    roles: list[Role]
    locale: str
    active: bool
    must_change_password: bool
    created_at: dt.datetime


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown once; Concord keeps only its SHA-256")
