"""When no flow understood the message: there is no dead end.

Words the bot cannot place go to the consult path (acknowledge, ask the district, offer a
person); if the next message cannot be placed either, a person takes over. Only a message
with nothing to read (only emoji, punctuation, spaces) gets the gentle request to write.
"""

from __future__ import annotations

import unicodedata

from handlers.case_filing import hand_over
from handlers.content import load_pack
from handlers.flows.consult import unplaced
from handlers.menu import MAIN_MENU
from handlers.replies import Reply
from handlers.turn import Turn
from storage import conversation

HAND_OVER_AFTER = 2  # misunderstandings in a row


def nothing_to_read(text: str | None) -> bool:
    """True for "", "😢😢", "。。。", "？" — no letter, kana, kanji or digit at all."""
    return not any(unicodedata.category(ch)[0] in ("L", "N") for ch in text or "")


def gentle(turn: Turn) -> list[Reply]:
    return [Reply(load_pack().text("emoji_only"), MAIN_MENU)]


def not_understood(turn: Turn) -> list[Reply]:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    state.not_understood = (state.not_understood or 0) + 1
    if state.not_understood >= HAND_OVER_AFTER:
        return hand_over(turn, reason="not_understood")
    return unplaced(turn)


def understood(turn: Turn) -> None:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    state.not_understood = 0
