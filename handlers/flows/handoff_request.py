"""Handing a resident over to a person: a case for staff, and honest words about when.

Used for an explicit request (intent human, the 人と話したい button), after the bot failed
to understand twice in a row, and by other flows that open cases (safety, compound,
third-party reports) through ``file_case``.
"""

from __future__ import annotations

from datetime import datetime

from handlers import casework, registry
from handlers.content import load_pack
from handlers.hours import format_next_open, is_open, next_open
from handlers.replies import Reply
from handlers.routing import center_for_town
from handlers.turn import Turn
from storage import cases, conversation
from storage.models import Case


def when_a_person_reads(now: datetime) -> str:
    """E.g. "1月5日（月）8時30分" — the next time staff are at work (now, if open)."""
    return format_next_open(next_open(now, load_pack()))


def file_case(
    turn: Turn, *, reason: str, priority: str, urgent_reason: str | None = None,
    window_id: str | None = None, risk: str | None = None, risk_reason: str | None = None,
) -> tuple[Case, Reply | None]:
    """Open (or join) the resident's case with this message filed under it.

    The case keeps nlu's risk band and score (``risk`` overrides the band, e.g. when the
    resident answered the check question) and ``risk_reason`` for staff.
    Returns the case and the consent question when this case has not asked it yet.
    """
    from handlers.flows.consent import consent_question

    message_id = cases.latest_inbound_id(turn.session, turn.resident)
    case = casework.open_case(
        turn.session, turn.resident, reason=reason, priority=priority, now=turn.now,
        analysis=turn.analysis, message_id=message_id, urgent_reason=urgent_reason,
        window_id=window_id, risk=risk, risk_reason=risk_reason or urgent_reason,
    ).case
    return case, consent_question(case)


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


@registry.intent("human")
def human(turn: Turn) -> list[Reply]:
    return hand_over(turn, reason="human")


@registry.postback("handoff")
def handoff_button(turn: Turn) -> list[Reply]:
    """The 「人と話したい」/「職員に聞く」 buttons offered by the FAQ and consult replies."""
    return hand_over(turn, reason="human")


def hours_note(now: datetime) -> Reply | None:
    """Out of hours, when a person will read it (the urgent path stays live regardless)."""
    pack = load_pack()
    if is_open(now, pack):
        return None
    return Reply(pack.text("out_of_hours", next_open=when_a_person_reads(now)))
