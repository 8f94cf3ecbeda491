"""All tables. Import models from here so every table is registered on Base.metadata."""

from storage.models.base import Base, utcnow
from storage.models.booking import Availability, Booking, CalendarFeed, ClosedDay, Slot  # noqa: F401,E501
from storage.models.cases import Case, CaseNote, Referral
from storage.models.checkins import Checkin, CheckinEnrolment  # noqa: F401
from storage.models.content import ContentVersion
from storage.models.core import ConversationState, InboundEvent, Message, Outbox, Resident
from storage.models.handoff import (
    CaseNotification,
    LoginAttempt,
    SlackEventSeen,
    SlackPost,
    SlackThread,
)
from storage.models.safety import SafetyCheck
from storage.models.staff import AuditEntry, StaffUser

__all__ = [
    "AuditEntry", "Base", "Case", "CaseNote", "ContentVersion", "ConversationState",
    "InboundEvent", "Message", "Outbox", "Referral", "Resident", "SafetyCheck", "StaffUser",
    "utcnow", "CaseNotification", "LoginAttempt", "SlackEventSeen", "SlackPost", "SlackThread",
]
