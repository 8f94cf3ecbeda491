"""Versions of the municipality's content (FAQ, windows, hours, hotlines, wording).

Each version holds the whole validated content-pack document as JSON, so the pack can gain
fields without a schema change here. At most one version is published and at most one is a
draft (partial unique indexes); every published version is kept (retired) for the diff view
and for rolling back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.core import BigId
from storage.types import UTCDateTime

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"


class ContentVersion(Base):
    __tablename__ = "content_versions"
    __table_args__ = (
        Index("uq_content_versions_one_published", "status", unique=True,
              sqlite_where=text("status = 'published'"),
              postgresql_where=text("status = 'published'")),
        Index("uq_content_versions_one_draft", "status", unique=True,
              sqlite_where=text("status = 'draft'"),
              postgresql_where=text("status = 'draft'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(16))  # draft | published | retired
    origin: Mapped[str] = mapped_column(String(16))  # seed | console | import | rollback
    based_on: Mapped[int | None] = mapped_column()  # the version number a draft copied
    # The pack document ({"pack": …, "retired_faq": […]}), as the pack's pydantic model dumps it.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the pack files (seeds)
    note: Mapped[str | None] = mapped_column(Text)
    edited_by: Mapped[list[int]] = mapped_column(JSON, default=list)  # staff ids (drafts)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
