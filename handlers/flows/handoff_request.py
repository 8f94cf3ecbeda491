"""Handing a resident over to a person on request: intent human, and the 人と話したい /
職員に聞く buttons. The hand-over itself (a case, honest words about when) is
handlers.case_filing, shared with the flows that open cases for other reasons.
"""

from __future__ import annotations

from handlers import registry
from handlers.case_filing import file_case, hand_over, hours_note, when_a_person_reads
from handlers.flows import english
from handlers.replies import Reply
from handlers.turn import Turn

# Older imports of the shared pieces from here keep working.
__all__ = ["file_case", "hand_over", "handoff_button", "hours_note", "human",
           "when_a_person_reads"]


@registry.intent("human")
def human(turn: Turn) -> list[Reply]:
    return hand_over(turn, reason="human")


@registry.postback("handoff")
def handoff_button(turn: Turn) -> list[Reply]:
    """The 「人と話したい」/「職員に聞く」 buttons offered by the FAQ and consult replies
    (and "Talk to a person", which answers in English)."""
    if turn.postback.arg(0) == "en":
        return english.hand_over(turn)
    return hand_over(turn, reason="human")
