"""Residents by pseudonym; the alias is what staff see."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Resident


def alias_for(resident_key: str) -> str:
    """A short, stable, speakable alias such as R-7KQ2M (derived from the pseudonym)."""
    digest = bytes.fromhex(resident_key[:16])
    return "R-" + base64.b32encode(digest).decode("ascii")[:6]


def fresh_alias(session: Session) -> str:
    """A new random alias (after a deletion: nothing links it to the old one)."""
    while True:
        alias = "R-" + base64.b32encode(secrets.token_bytes(5)).decode("ascii")[:6]
        if session.scalar(select(Resident.id).where(Resident.alias == alias)) is None:
            return alias


def get_or_create(
    session: Session, *, resident_key: str, channel: str, user_id: str, now: datetime
) -> Resident:
    resident = session.scalar(select(Resident).where(Resident.resident_key == resident_key))
    if resident is None:
        resident = Resident(
            resident_key=resident_key, alias=alias_for(resident_key), channel=channel,
            channel_user_id=user_id, created_at=now, last_seen_at=now,
        )
        try:
            with session.begin_nested():
                session.add(resident)
        except IntegrityError:  # another worker created it a moment ago
            resident = session.scalars(
                select(Resident).where(Resident.resident_key == resident_key)
            ).one()
    resident.last_seen_at = now
    if resident.channel_user_id is None:  # after a data deletion the resident came back
        resident.channel_user_id = user_id
    return resident


def by_key(session: Session, resident_key: str) -> Resident | None:
    return session.scalar(select(Resident).where(Resident.resident_key == resident_key))
