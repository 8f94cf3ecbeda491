"""How often a sign-in may be tried: per client address and per account, with back-off.

Neither limit is a hard block for everyone: an address that keeps failing waits longer and
longer before its next try, and so does an account, starting short. Behind a proxy the
address is the one the trusted proxy saw (TRUSTED_PROXY_COUNT), so one attacker slows
only themselves, not every coordinator in the city.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models.handoff import LoginAttempt

ADDRESS_WINDOW = timedelta(minutes=15)  # failures counted over this long
ADDRESS_FREE_FAILURES = 20  # per address in the window, across accounts, before back-off
ADDRESS_FIRST_WAIT = timedelta(seconds=10)
ACCOUNT_FREE_FAILURES = 5  # in a row, then the account waits
ACCOUNT_FIRST_LOCK = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)


def backoff(excess: int, first: timedelta) -> timedelta:
    """first, 2×first, 4×first … up to LONGEST_WAIT."""
    return min(first * (2 ** min(excess, 16)), LONGEST_WAIT)


def address_wait(session: Session, address_key: str, now: datetime) -> timedelta | None:
    """How long this address must still wait before its next try, or None."""
    count, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.created_at)).where(
            LoginAttempt.ip_key == address_key,
            LoginAttempt.created_at > now - ADDRESS_WINDOW)).one()
    if count < ADDRESS_FREE_FAILURES or latest is None:
        return None
    ready = latest + backoff(count - ADDRESS_FREE_FAILURES, ADDRESS_FIRST_WAIT)
    return ready - now if ready > now else None


def record_address_failure(session: Session, address_key: str, now: datetime) -> None:
    session.add(LoginAttempt(ip_key=address_key, created_at=now))


def forget_old_failures(session: Session, now: datetime) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - ADDRESS_WINDOW))


def account_lock(failures_in_a_row: int) -> timedelta | None:
    """How long an account waits after this many failures in a row, or None."""
    if failures_in_a_row < ACCOUNT_FREE_FAILURES:
        return None
    return backoff(failures_in_a_row - ACCOUNT_FREE_FAILURES, ACCOUNT_FIRST_LOCK)
