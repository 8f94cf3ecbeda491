"""Consent to share what the resident wrote with a case team, asked once per case.

granted  → the case may go to the 重層的支援会議 (information shared with consent);
declined → only the confidential 支援会議 path (members bound by 守秘義務) is open.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers import registry
from handlers.case_filing import CONSENT_ASKED, consent_question
from handlers.content import load_pack
from handlers.replies import Reply
from handlers.turn import Turn
from storage.models import Case

ASKED, GRANTED, DECLINED = CONSENT_ASKED, "granted", "declined"
__all__ = ["ASKED", "DECLINED", "GRANTED", "answer", "consent_question"]


@registry.postback("consent")
def answer(turn: Turn) -> list[Reply] | None:
    choice, case_id = turn.postback.arg(0), turn.postback.int_arg(1)
    if len(turn.postback.args) != 2 or choice not in ("yes", "no") or case_id is None:
        return None
    # Only the resident's own case: a forged or stale postback changes nothing.
    case = turn.session.scalar(
        select(Case).where(Case.id == case_id, Case.resident_id == turn.resident.id)
    )
    if case is None:
        return [Reply(load_pack().text("consent_case_gone"))]
    case.consent = GRANTED if choice == "yes" else DECLINED
    key = "consent_yes_thanks" if case.consent == GRANTED else "consent_no_ok"
    return [Reply(load_pack().text(key))]
