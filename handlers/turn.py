"""Everything a handler needs to answer one inbound event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.inbound import Inbound
from nlu.analysis import Analysis
from storage.models import Resident


@dataclass
class Turn:
    session: Session  # the event's transaction: effects commit with the event
    resident: Resident
    inbound: Inbound
    analysis: Analysis | None  # None for postbacks, follows and non-text messages
    now: datetime  # aware; handlers convert to Asia/Tokyo for display
