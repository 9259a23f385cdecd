"""Persistent data. Importing this package registers every table on ``Base.metadata``."""

from server.models.accounts import ApiToken, LoginSession, Role, User, UserRole
from server.models.audit import AuditEntry
from server.models.base import Base, utcnow
from server.models.conferences import (
    AgendaSession,
    Conference,
    ConferenceKind,
    ConferenceLanguage,
    ConferenceMember,
    ConferenceStatus,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    Site,
)
from server.models.invitations import Invitation
from server.models.live import RoomEventRecord

__all__ = [
    "AgendaSession",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Conference",
    "ConferenceKind",
    "ConferenceLanguage",
    "ConferenceMember",
    "ConferenceStatus",
    "Delegation",
    "DelegationMember",
    "InterpreterAssignment",
    "Invitation",
    "LoginSession",
    "Role",
    "RoomEventRecord",
    "Site",
    "User",
    "UserRole",
    "utcnow",
]
