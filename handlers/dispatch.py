"""Route one turn to the flow that answers it.

Order matters and is the product's promise: safety first (an urgent message is
answered with emergency numbers whatever else is going on), then explicit button
answers, then a person who has taken the case, then a flow in progress, then the
message's intent.
"""

from __future__ import annotations

from handlers import registry
from handlers.inbound import FOLLOW, NON_TEXT, POSTBACK, TEXT
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from storage import conversation

MAIN_MENU = [
    QuickReply(label="相談したい", text="相談したい"),
    QuickReply(label="よくある質問", text="よくある質問"),
    QuickReply(label="予約する", text="予約したい"),
    QuickReply(label="人と話したい", text="人と話したい"),
]


def handle(turn: Turn) -> list[Reply]:
    _load_flows()
    kind = turn.inbound.kind
    if kind == FOLLOW:
        return [Reply("友だち追加ありがとうございます。まどぐちです。", MAIN_MENU)]
    if kind in NON_TEXT:
        return [Reply("ごめんなさい、文字で書いていただけますか。")]
    if kind == POSTBACK:
        return _postback(turn) or []
    if kind == TEXT:
        return _text(turn)
    return []


def _postback(turn: Turn) -> list[Reply] | None:
    data = turn.inbound.postback_data or ""
    prefix = data.split(":", 1)[0]
    handler = registry.POSTBACKS.get(prefix)
    return handler(turn) if handler else [Reply("選んでいただき、ありがとうございます。")]


def _text(turn: Turn) -> list[Reply]:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow and (handler := registry.FLOWS.get(state.flow)):
        replies = handler(turn)
        if replies is not None:
            return replies
    if turn.analysis is not None and (handler := registry.INTENTS.get(turn.analysis.intent)):
        replies = handler(turn)
        if replies is not None:
            return replies
    return [Reply(f"「{turn.inbound.text}」を受け取りました。", MAIN_MENU)]


def _load_flows() -> None:
    """Import the flow modules once; importing registers them."""
    import handlers.flows  # noqa: F401
