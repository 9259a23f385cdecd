"""Persistent data. Importing this package registers every table on ``Base.metadata``."""

from server.models.accounts import ApiToken, LoginSession, Role, User, UserRole
from server.models.agreements import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementVersion,
    OneTimeCode,
    Signatory,
    Signing,
)
from server.models.audit import AuditEntry
from server.models.base import Base, utcnow
from server.models.calendars import (
    CalendarDispatch,
    CalendarFeed,
    CalendarRender,
    CalendarSendLock,
)
from server.models.conferences import (
    AgendaSession,
    Booking,
    BookingKind,
    Conference,
    ConferenceKind,
    ConferenceLanguage,
    ConferenceMember,
    ConferenceStatus,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    SessionStatus,
    Site,
    Venue,
)
from server.models.invitations import Invitation
from server.models.ledger import LEDGER_KINDS, LedgerEntry, LedgerHead
from server.models.live import LiveRoomState, RoomEventRecord, RoomHeartbeat
from server.models.minutes import MinutesComment, MinutesDocument, MinutesRevision
from server.models.monitoring import HealthSample, SiteCheck
from server.models.permits import (
    ConsultationAnswer,
    DecidingLevel,
    PermitApplication,
    PermitAttachment,
    PermitConsultation,
    PermitParticipant,
    PermitStatus,
    PermitStep,
)
from server.models.recordings import Recording, RecordingFile
from server.models.search import SEARCH_KINDS, SearchDocument

__all__ = [
    "LEDGER_KINDS",
    "SEARCH_KINDS",
    "AgendaSession",
    "Agreement",
    "AgreementKind",
    "AgreementParty",
    "AgreementStatus",
    "AgreementVersion",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingKind",
    "CalendarDispatch",
    "CalendarFeed",
    "CalendarRender",
    "CalendarSendLock",
    "Conference",
    "ConferenceKind",
    "ConferenceLanguage",
    "ConferenceMember",
    "ConferenceStatus",
    "ConsultationAnswer",
    "DecidingLevel",
    "Delegation",
    "DelegationMember",
    "HealthSample",
    "InterpreterAssignment",
    "Invitation",
    "LedgerEntry",
    "LedgerHead",
    "LiveRoomState",
    "LoginSession",
    "MinutesComment",
    "MinutesDocument",
    "MinutesRevision",
    "OneTimeCode",
    "PermitApplication",
    "PermitAttachment",
    "PermitConsultation",
    "PermitParticipant",
    "PermitStatus",
    "PermitStep",
    "Recording",
    "RecordingFile",
    "Role",
    "RoomEventRecord",
    "RoomHeartbeat",
    "SearchDocument",
    "SessionStatus",
    "Signatory",
    "Signing",
    "Site",
    "SiteCheck",
    "User",
    "UserRole",
    "Venue",
    "utcnow",
]
