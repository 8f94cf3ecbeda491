"""Messages not in Japanese: an answer in やさしい日本語 with an English line."""

from __future__ import annotations

from handlers.content import load_pack
from handlers.menu import MAIN_MENU
from handlers.replies import Reply
from handlers.turn import Turn


def is_foreign(turn: Turn) -> bool:
    return turn.analysis is not None and turn.analysis.language == "other"


def easy_japanese(turn: Turn) -> list[Reply]:
    turn.resident.language = "other"
    return [Reply(load_pack().text("easy_japanese_with_english"), MAIN_MENU)]
