"""The safety path: an urgent message is answered first with the right emergency numbers.

It runs before every other flow (a booking in progress, a case a person has claimed, out of
hours). Only after the numbers does it open an urgent case for staff and, if this case has
not asked yet, the consent question — nothing may delay the numbers.
"""

from __future__ import annotations

from handlers.case_filing import file_case, when_a_person_reads
from handlers.content import Hotline, load_pack
from handlers.hotlines import hotlines_for, rule_notes
from handlers.hours import is_open
from handlers.replies import Reply
from handlers.turn import Turn

# When nlu flags danger without a kind we know, the two numbers that always apply.
FALLBACK_LINES = ("fire_119", "police_110")


def is_urgent(turn: Turn) -> bool:
    return turn.analysis is not None and turn.analysis.urgent


def urgent(turn: Turn) -> list[Reply]:
    analysis = turn.analysis
    assert analysis is not None
    pack = load_pack()
    # A flow in progress (a booking) is left as it was: its buttons keep working afterwards.
    replies = [Reply(emergency_text(analysis.urgent_kind, analysis.topic_ids, analysis.about))]
    case, consent = file_case(
        turn, reason="urgent", priority="urgent", urgent_reason=analysis.urgent_reason,
    )
    key = "urgent_staff_open" if is_open(turn.now, pack) else "urgent_staff_closed"
    replies.append(Reply(pack.text(key, next_open=when_a_person_reads(turn.now))))
    if consent is not None:
        replies.append(consent)
    return replies


def emergency_text(urgent_kind: str | None, topic_ids: list[str], about: str = "self") -> str:
    """The numbers to call, in plain words, most important first. Someone reporting another
    person's danger is thanked, not told that their own safety matters most."""
    pack = load_pack()
    # Only lines meant for emergencies: "#7119 if unsure" has no place next to 119.
    lines = [h for h in hotlines_for(urgent_kind, topic_ids, pack) if h.urgent_kinds]
    if not lines or not urgent_kind:
        fallback = [pack.hotline(i) for i in FALLBACK_LINES]
        lines = list({h.id: h for h in [*lines, *fallback]}.values())
    intro = pack.text("urgent_intro_other" if about == "other" else "urgent_intro")
    parts = [intro, *(_line(h) for h in lines)]
    parts += rule_notes(urgent_kind, pack)
    return "\n".join(parts)


def _line(hotline: Hotline) -> str:
    # The bare number always stands alone: LINE turns it into a tap-to-call link.
    return f"・{hotline.name}：{hotline.number}（{hotline.hours}）"
