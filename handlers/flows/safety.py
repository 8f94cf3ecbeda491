"""The safety path: an urgent message is answered first with the right emergency numbers.

It runs before every other flow (a booking in progress, a case a person has claimed, out of
hours). The first bubble holds only the numbers open now, most important first (the
situation → line table in the pack, then the clock: handlers/hotlines.py); the rest — the
notes, lines whose hours we do not know, the city's windows — comes after. Only then does
it open an urgent case for staff and, if this case has not asked yet, the consent question:
nothing may delay the numbers.
"""

from __future__ import annotations

from handlers.case_filing import file_case, when_a_person_reads
from handlers.content import load_pack
from handlers.hotlines import Lines, choose, line_text, window_text
from handlers.hours import is_open
from handlers.replies import Reply
from handlers.routing import center_for_town
from handlers.turn import Turn
from nlu.analysis import Analysis


def is_urgent(turn: Turn) -> bool:
    return turn.analysis is not None and turn.analysis.urgent


def urgent(turn: Turn, risk_reason: str | None = None) -> list[Reply]:
    """The numbers, the rest, an urgent case. ``turn.analysis`` is the message's reading
    (for a 「今、危ない」 answer: the message the question was about)."""
    from handlers.flows import safety_check

    analysis = turn.analysis or Analysis(text="")
    pack = load_pack()
    # A flow in progress (a booking) is left as it was: its buttons keep working afterwards.
    lines = lines_for(turn, analysis, urgent=True)
    replies = [Reply(numbers_text(lines, analysis.about))]
    if more := more_text(lines):
        replies.append(Reply(more))
    safety_check.answered_in_words(turn)
    case, consent = file_case(
        turn, reason="urgent", priority="urgent", urgent_reason=analysis.urgent_reason,
        risk="urgent", risk_reason=risk_reason or analysis.urgent_reason,
    )
    key = "urgent_staff_open" if is_open(turn.now, pack) else "urgent_staff_closed"
    replies.append(Reply(pack.text(key, next_open=when_a_person_reads(turn.now))))
    if consent is not None:
        replies.append(consent)
    return replies


def lines_for(turn: Turn, analysis: Analysis, *, urgent: bool) -> Lines:
    pack = load_pack()
    district = turn.resident.district
    center = center_for_town(pack, district) if district else None
    return choose(pack, turn.now, urgent_kind=analysis.urgent_kind,
                  topic_ids=analysis.topic_ids, text=analysis.text, urgent=urgent,
                  district_center=center)


def numbers_text(lines: Lines, about: str = "self") -> str:
    """The first bubble: what to call now, and nothing else. Someone reporting another
    person's danger is thanked, not told that their own safety matters most."""
    pack = load_pack()
    intro = pack.text("urgent_intro_other" if about == "other" else "urgent_intro")
    return "\n".join([intro, *(line_text(h) for h in lines.open_now)])


def more_text(lines: Lines) -> str | None:
    """The second bubble: when to call which, lines whose hours we do not know, windows."""
    pack = load_pack()
    parts = list(lines.notes)
    if lines.hours_unknown:
        parts += [pack.text("lines_hours_unknown"), *(line_text(h) for h in lines.hours_unknown)]
    if lines.windows:
        parts += [pack.text("situation_windows"),
                  *(window_text(a, phone) for a, phone in lines.windows)]
    return "\n".join(parts) if parts else None
