"""Personal data shown on request: a click (audited by the caller) reveals it for a while.

What is revealed is remembered in the signed session cookie per key ("case:12",
"bookings:east_center:2026-12-01"), so it ends with the session too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import session

REVEAL_FOR = timedelta(minutes=10)  # personal data stays visible this long after the click


def shown(key: str, now: datetime) -> bool:
    until = (session.get("reveal") or {}).get(key)
    return bool(until) and datetime.fromisoformat(until) > now


def show(key: str, now: datetime) -> None:
    revealed = _live(now)
    revealed[key] = (now + REVEAL_FOR).isoformat()
    session["reveal"] = revealed


def hide(key: str, now: datetime) -> None:
    revealed = _live(now)
    revealed.pop(key, None)
    session["reveal"] = revealed


def _live(now: datetime) -> dict[str, str]:
    """The reveals still running (expired ones are dropped so the cookie stays small)."""
    return {key: until for key, until in (session.get("reveal") or {}).items()
            if datetime.fromisoformat(until) > now}
