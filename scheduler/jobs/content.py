"""Follow the published content version, so sweeps (SLA business hours, reminders, check-in
wording) use what staff published without a restart."""

from __future__ import annotations

from handlers.content import live
from scheduler import context
from scheduler.runner import register_sweep

SWEEP_SECONDS = 5


def follow_content() -> None:
    live.refresh(context.services().factory)


register_sweep("content_follow", follow_content, SWEEP_SECONDS)
