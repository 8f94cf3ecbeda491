"""Messages in a language other than Japanese or English: やさしい日本語 with the window's
phone number and a person to ask for — never the same answer twice (the second time a
person is asked for on the resident's behalf)."""

from __future__ import annotations

from handlers.case_filing import hand_over, lines_open_now
from handlers.content import load_pack
from handlers.hotlines import line_text
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.routing import center_for_town
from handlers.turn import Turn
from storage import conversation

PERSON = QuickReply(label="ひとと はなしたい", data=encode("handoff", "easy"), text="人と話したい")


def is_foreign(turn: Turn) -> bool:
    return turn.analysis is not None and turn.analysis.language == "other"


def easy_japanese(turn: Turn) -> list[Reply]:
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if turn.resident.language == "other" and state.not_understood:
        state.not_understood = 0
        return hand_over(turn, reason="human")
    turn.resident.language = "other"
    state.not_understood = 1
    center = center_for_town(pack, turn.resident.district) if turn.resident.district else None
    centers = [center] if center else pack.centers
    lines = "\n".join(f"・{c.district_label or c.name}　{c.phone}" for c in centers)
    text = pack.text("easy_japanese_window", lines=lines)
    if turn.analysis is not None and turn.analysis.risk == "check":
        # The reader is unsure whether this is danger: a line that answers now, too.
        open_now = lines_open_now(turn.analysis.topic_ids, pack, turn.now)
        text = "\n".join([text, pack.text("consult_open_lines"),
                          *(line_text(h) for h in open_now)])
    return [Reply(text, [PERSON])]
