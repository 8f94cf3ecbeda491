"""Consent to share what the resident wrote with a case team, asked once per case.

granted  → the case may go to the 重層的支援会議 (information shared with consent);
declined → only the confidential 支援会議 path (members bound by 守秘義務) is open.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers import registry
from handlers.content import load_pack
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from storage.models import Case

ASKED, GRANTED, DECLINED = "asked", "granted", "declined"


def consent_question(case: Case) -> Reply | None:
    """The question, if this case has never asked it; marks it asked."""
    if case.consent != "unknown":
        return None
    case.consent = ASKED
    return Reply(
        load_pack().text("consent_explanation"),
        [
            QuickReply(label="はい、共有してよい", data=f"consent:yes:{case.id}", text="はい"),
            QuickReply(label="いいえ", data=f"consent:no:{case.id}", text="いいえ"),
        ],
    )


@registry.postback("consent")
def answer(turn: Turn) -> list[Reply] | None:
    parts = (turn.inbound.postback_data or "").split(":")
    if len(parts) != 3 or parts[1] not in ("yes", "no") or not parts[2].isdigit():
        return None
    # Only the resident's own case: a forged or stale postback changes nothing.
    case = turn.session.scalar(
        select(Case).where(Case.id == int(parts[2]), Case.resident_id == turn.resident.id)
    )
    if case is None:
        return [Reply(load_pack().text("consent_case_gone"))]
    case.consent = GRANTED if parts[1] == "yes" else DECLINED
    key = "consent_yes_thanks" if case.consent == GRANTED else "consent_no_ok"
    return [Reply(load_pack().text(key))]
