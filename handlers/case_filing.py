"""Filing the resident's concern as a case for staff, from any flow, and saying honestly
when a person will read it. Shared by the hand-off request, safety, consult, check-ins and
the not-understood path; the case itself changes through the case service (casework).
"""

from __future__ import annotations

from datetime import datetime

from handlers import casework
from handlers.content import ContentPack, Hotline, load_pack
from handlers.hotlines import choose, listening_line
from handlers.hours import format_next_open, is_open, next_open
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.routing import center_for_town
from handlers.turn import Turn
from storage import conversation
from storage.models import Case

CONSENT_ASKED = "asked"


def when_a_person_reads(now: datetime) -> str:
    """E.g. "1月5日（月）8時30分" — the next time staff are at work (now, if open)."""
    return format_next_open(next_open(now, load_pack()))


def hours_note(now: datetime) -> Reply | None:
    """Out of hours, when a person will read it (the urgent path stays live regardless)."""
    pack = load_pack()
    if is_open(now, pack):
        return None
    return Reply(pack.text("out_of_hours", next_open=when_a_person_reads(now)))


def consent_question(case: Case) -> Reply | None:
    """The question whether staff may share what was written, if this case has never asked
    it; marks it asked (the answer is handlers.flows.consent)."""
    if case.consent != "unknown":
        return None
    case.consent = CONSENT_ASKED
    return Reply(
        load_pack().text("consent_explanation"),
        [
            QuickReply(label="はい、共有してよい", data=encode("consent", "yes", case.id),
                       text="はい"),
            QuickReply(label="いいえ", data=encode("consent", "no", case.id), text="いいえ"),
        ],
    )


def file_case(
    turn: Turn, *, reason: str, priority: str, urgent_reason: str | None = None,
    window_id: str | None = None, ask_consent: bool = True, about: str | None = None,
    risk: str | None = None, risk_reason: str | None = None,
) -> tuple[Case, Reply | None]:
    """Open (or join) the resident's case with this message filed under it.

    Returns the case and the consent question when this case has not asked it yet. A
    report about someone else (about "other") is never asked: consent is the person's.
    The case keeps nlu's risk band and score; ``risk`` overrides the band (the resident
    answered the safety check) and ``risk_reason`` tells staff why.
    """
    case = casework.open_case(
        turn.session, turn.resident, reason=reason, priority=priority, now=turn.now,
        analysis=turn.analysis, message_id=turn.message.id if turn.message else None,
        urgent_reason=urgent_reason, window_id=window_id, risk=risk,
        risk_reason=risk_reason or urgent_reason,
    ).case
    if about == "other":  # a reporter recognised by the flow, though nlu read "self"
        case.about = "other"
    if case.about == "other" or not ask_consent:
        return case, None
    return case, consent_question(case)


def lines_open_now(topics: list[str], pack: ContentPack, now: datetime) -> list[Hotline]:
    """Up to two lines for the topics that answer now (not 110/119), else the pack's
    24-hour line — from the one open-now chooser (handlers/hotlines.py)."""
    emergency = set(pack.open_now.emergency)
    lines = [h for h in choose(pack, now, topic_ids=topics).open_now if h.id not in emergency]
    return lines[:2] or [listening_line(pack, now)]


def hand_over(turn: Turn, *, reason: str, priority: str = "normal",
              risk: str | None = None, risk_reason: str | None = None) -> list[Reply]:
    """Open a case for a person and say who will read it, and when."""
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    conversation.clear(state, turn.now)
    state.not_understood = 0
    center = center_for_town(pack, turn.resident.district) if turn.resident.district else None
    case, consent = file_case(
        turn, reason=reason, priority=priority, window_id=center.id if center else None,
        risk=risk, risk_reason=risk_reason,
    )
    if center is not None:
        replies = [Reply(pack.text("handoff_received", center_name=center.name))]
    else:
        replies = [Reply(pack.text("handoff_received_generic"))]
    if (note := hours_note(turn.now)) is not None:
        replies.append(note)
    if consent is not None:
        replies.append(consent)
    return replies
