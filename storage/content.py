"""Content versions: the draft, the published version and the kept history.

Plain rows and JSON documents; what a document means (the content pack) is for
handlers.content to say. Every change happens in the caller's transaction, so an edit and
its audit entry commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import ContentVersion
from storage.models.content import DRAFT, PUBLISHED, RETIRED

Stamp = tuple[int, datetime | None]


class ContentStateError(ValueError):
    """The requested change does not fit the versions' current state (message for staff)."""


def published_stamp(session: Session) -> Stamp | None:
    """(number, published_at) of the published version: the cheap per-batch check."""
    row = session.execute(
        select(ContentVersion.number, ContentVersion.published_at)
        .where(ContentVersion.status == PUBLISHED)
    ).first()
    return (row[0], row[1]) if row else None


def published(session: Session) -> ContentVersion | None:
    return session.scalar(select(ContentVersion).where(ContentVersion.status == PUBLISHED))


def draft(session: Session, *, lock: bool = False) -> ContentVersion | None:
    """The open draft; ``lock`` holds its row until commit (publish, concurrent edits)."""
    query = select(ContentVersion).where(ContentVersion.status == DRAFT)
    return session.scalar(query.with_for_update() if lock else query)


def by_number(session: Session, number: int) -> ContentVersion | None:
    return session.scalar(select(ContentVersion).where(ContentVersion.number == number))


def history(session: Session, limit: int = 100) -> list[ContentVersion]:
    """Published and retired versions, newest first."""
    return list(session.scalars(
        select(ContentVersion).where(ContentVersion.status.in_((PUBLISHED, RETIRED)))
        .order_by(ContentVersion.number.desc()).limit(limit)
    ))


def _next_number(session: Session) -> int:
    return (session.scalar(select(func.max(ContentVersion.number))) or 0) + 1


def add_published(
    session: Session, payload: dict[str, Any], *, origin: str, now: datetime,
    staff_id: int | None = None, note: str | None = None, fingerprint: str | None = None,
    based_on: int | None = None,
) -> ContentVersion:
    """A new version, published at once (the seed, a rollback)."""
    _retire_published(session)
    version = ContentVersion(
        number=_next_number(session), status=PUBLISHED, origin=origin, payload=payload,
        fingerprint=fingerprint, note=note, edited_by=[], created_by=staff_id, created_at=now,
        updated_at=now, published_by=staff_id, published_at=now, based_on=based_on,
    )
    session.add(version)
    session.flush()
    return version


def start_draft(session: Session, base: ContentVersion, staff_id: int,
                now: datetime) -> ContentVersion:
    """The open draft, or a new one copied from ``base``."""
    existing = draft(session)
    if existing is not None:
        return existing
    version = ContentVersion(
        number=_next_number(session), status=DRAFT, origin="console", based_on=base.number,
        payload=base.payload, edited_by=[], created_by=staff_id, created_at=now, updated_at=now,
    )
    session.add(version)
    session.flush()
    return version


def save_draft(session: Session, version: ContentVersion, payload: dict[str, Any],
               staff_id: int, now: datetime, origin: str | None = None) -> None:
    if version.status != DRAFT:
        raise ContentStateError("この版は下書きではないため編集できません。")
    version.payload = payload
    version.updated_at = now
    if staff_id not in (version.edited_by or []):
        version.edited_by = [*(version.edited_by or []), staff_id]
    if origin:
        version.origin = origin
    session.flush()


def publish_draft(session: Session, version: ContentVersion, staff_id: int, now: datetime,
                  note: str | None) -> ContentVersion:
    if version.status != DRAFT:
        raise ContentStateError("公開できるのは下書きだけです。")
    _retire_published(session)
    version.status, version.published_by, version.published_at = PUBLISHED, staff_id, now
    version.note = note or version.note
    session.flush()
    return version


def discard_draft(session: Session, version: ContentVersion) -> None:
    if version.status != DRAFT:
        raise ContentStateError("破棄できるのは下書きだけです。")
    session.delete(version)
    session.flush()


def _retire_published(session: Session) -> None:
    # Before the new one is marked: the partial unique index allows one published row.
    session.execute(
        update(ContentVersion).where(ContentVersion.status == PUBLISHED).values(status=RETIRED)
    )
    session.flush()
