"""Follow (友だち追加) and greetings: what the bot does, who reads what, and the main paths."""

from __future__ import annotations

import re

from handlers import registry
from handlers.content import load_pack
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from storage import conversation

# Booking is a text quick reply on purpose: the booking flow reads the message's analysis
# (dates like 来週火曜), which a postback would not carry.
MAIN_MENU = [
    QuickReply(label="相談したい", data="menu:consult", text="相談したい"),
    QuickReply(label="よくある質問", data="menu:faq", text="よくある質問"),
    QuickReply(label="予約する", text="予約したい"),
    QuickReply(label="人と話したい", data="menu:human", text="人と話したい"),
]


def welcome(turn: Turn) -> list[Reply]:
    """The follow message: what we do, anonymity, who reads, retention and deletion."""
    pack = load_pack()
    turn.resident.welcomed_at = turn.now
    conversation.clear(conversation.load(turn.session, turn.resident.id, turn.now), turn.now)
    privacy = "\n".join(
        (pack.text("anonymous_ok"), pack.text("who_reads"), pack.retention.text)
    )
    return [Reply(pack.text("welcome")), Reply(privacy, MAIN_MENU)]


# nlu files anything it cannot place under "greeting"; only real greetings get one back,
# the rest counts as not understood (and, twice in a row, reaches a person).
_GREETING = re.compile(
    r"こんにち|こんばん|おはよう|はじめまして|初めまして|よろしく|ありがと|お世話|どうも|"
    r"もしもし|hello|hi\b|thank",
    re.IGNORECASE,
)


@registry.intent("greeting")
def greeting(turn: Turn) -> list[Reply] | None:
    if not _GREETING.search(turn.inbound.text or ""):
        return None
    return [Reply(load_pack().text("greeting_reply"), MAIN_MENU)]


@registry.postback("menu")
def menu(turn: Turn) -> list[Reply] | None:
    choice = (turn.inbound.postback_data or "").split(":", 1)[-1]
    if choice == "consult":
        return [Reply(load_pack().text("consult_prompt"))]
    if choice == "faq":
        from handlers.flows.faq import faq_menu

        return faq_menu()
    if choice == "human":
        from handlers.flows.handoff_request import hand_over

        return hand_over(turn, reason="human")
    return None
