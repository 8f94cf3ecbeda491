"""All tables. Import models from here so every table is registered on Base.metadata."""

from storage.models.base import Base, utcnow
from storage.models.cases import Case, CaseNote, Referral
from storage.models.core import ConversationState, InboundEvent, Message, Outbox, Resident
from storage.models.staff import AuditEntry, StaffUser

__all__ = [
    "AuditEntry", "Base", "Case", "CaseNote", "ConversationState", "InboundEvent", "Message",
    "Outbox", "Referral", "Resident", "StaffUser", "utcnow",
]
