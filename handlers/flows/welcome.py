"""Follow (友だち追加) and greetings: what the bot does, who reads what, and the main menu's
answers (the menu itself is handlers.menu)."""

from __future__ import annotations

import re

from handlers import registry
from handlers.case_filing import hand_over
from handlers.content import load_pack
from handlers.flows.faq import faq_menu
from handlers.menu import MAIN_MENU
from handlers.replies import Reply
from handlers.turn import Turn
from storage import conversation


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
    choice = turn.postback.arg(0)
    if choice == "consult":
        return [Reply(load_pack().text("consult_prompt"))]
    if choice == "faq":
        return faq_menu()
    if choice == "human":
        return hand_over(turn, reason="human")
    return None
