"""Erase the LINE user id of residents who deleted their data, once the confirmation is out.

storage/privacy.delete_resident_data keeps the id so the worker can still deliver
「ご相談の記録を削除しました」 (by reply token, or by push when the token has lapsed);
this sweep erases it as soon as nothing is pending for that resident (24 h at the latest).
"""

from __future__ import annotations

from datetime import datetime

from scheduler.context import JobServices
from scheduler.runner import register_sweep
from storage.db import transaction
from storage.models import utcnow
from storage.privacy import erase_user_ids

SWEEP_SECONDS = 60


def run(svc: JobServices, now: datetime | None = None) -> int:
    with transaction(svc.factory) as session:
        return erase_user_ids(session, now or utcnow())


def sweep() -> None:
    """The APScheduler entry point (jobs are stored by path, so no arguments)."""
    from scheduler.context import services

    run(services())


register_sweep("privacy_erase_user_ids", sweep, SWEEP_SECONDS)
