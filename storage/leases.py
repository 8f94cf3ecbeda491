"""Claiming work rows (events, outbox, staff notices) in order per resident (or per case),
safely across processes.

A row is claimable when it is pending, or its holder's lease ran out (the holder
crashed). Only the oldest unfinished row of each group (a resident; a case for staff
notices) is claimable, so a resident's events are handled, and their replies sent, in
order. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers claim at once without
blocking.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased


def claim_heads(
    session: Session,
    model: Any,
    *,
    active_status: str,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    ready: ColumnElement[bool] | None = None,
    group: str = "resident_key",
) -> list[int]:
    earlier = aliased(model)
    unfinished = ("pending", active_status)
    blocked = exists().where(
        getattr(earlier, group) == getattr(model, group),
        earlier.id < model.id,
        earlier.status.in_(unfinished),
    )
    claimable = or_(
        model.status == "pending",
        and_(model.status == active_status, model.lease_until < now),
    )
    conditions = [claimable, ~blocked]
    if ready is not None:
        conditions.append(ready)
    stmt = (
        select(model.id)
        .where(*conditions)
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=model)
    )
    ids = list(session.scalars(stmt))
    if ids:
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(
                status=active_status,
                claimed_by=worker_id,
                lease_until=now + lease,
                attempts=model.attempts + 1,
            )
        )
    return ids


def still_holds(row: Any, worker_id: str, active_status: str) -> bool:
    """After a long step: is this row still ours (our lease did not lapse and pass on)?"""
    return row.status == active_status and row.claimed_by == worker_id
