"""Template filters and globals shared by every console page (dates in Tokyo time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from bot.staff import labels
from bot.staff.forms import ActionForm
from common.clock import TOKYO
from storage import cases
from storage.models import utcnow


def tokyo(value: datetime | None, fmt: str = "%m/%d %H:%M") -> str:
    """A moment in Tokyo time; "" for none (write `x | tokyo or '-'` for a dash)."""
    return value.astimezone(TOKYO).strftime(fmt) if value else ""


def age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the units a coordinator thinks in (minutes, hours, days)."""
    if value is None:
        return ""
    minutes = int(((now or utcnow()) - value).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)}分"
    if minutes < 48 * 60:
        return f"{minutes // 60}時間{minutes % 60}分"
    return f"{minutes // (24 * 60)}日"


def template_globals() -> dict[str, Any]:
    return {
        "topic_label": labels.topic_label, "status_labels": cases.STATUS_LABELS,
        "priority_labels": cases.PRIORITY_LABELS, "outcome_labels": cases.OUTCOMES,
        "about_labels": labels.ABOUT_LABELS, "consent_labels": labels.CONSENT_LABELS,
        "reason_labels": labels.REASON_LABELS, "referral_labels": labels.REFERRAL_LABELS,
        "urgent_kind_labels": labels.URGENT_KIND_LABELS, "action_form": ActionForm,
        "audit_labels": labels.AUDIT_LABELS,
    }


def install(app: Flask) -> None:
    app.add_template_filter(tokyo, "tokyo")
    app.add_template_filter(age, "age")
    app.context_processor(template_globals)
