"""Everything a handler needs to answer one inbound event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.inbound import Inbound
from handlers.postback import Postback, decode
from nlu.analysis import Analysis
from storage.models import Message, Resident


@dataclass
class Turn:
    session: Session  # the event's transaction: effects commit with the event
    resident: Resident
    inbound: Inbound
    analysis: Analysis | None  # None for postbacks, follows and non-text messages
    now: datetime  # aware; handlers convert to Asia/Tokyo for display
    # The inbound message as the worker stored it (None for follows and in tests of rules
    # that file nothing): what a case files, what staff see.
    message: Message | None = None

    @property
    def postback(self) -> Postback:
        """The button's data, decoded (an empty prefix for anything but a postback)."""
        return decode(self.inbound.postback_data)
