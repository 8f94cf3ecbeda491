"""Route one turn to the flow that answers it.

Order matters and is the product's promise:

1. follow → the welcome;
2. an urgent message → the safety path (emergency numbers first), whatever else is going
   on: a booking in progress, a case a person has claimed, any hour; a message in the
   "check" band → the plain question 「今、危ないですか？」 with a line open now;
3. a button (postback) → the flow that sent it (registry.postback);
4. a case a staff member has claimed → the message goes to that case and the bot stays
   quiet (a request to delete data is still honoured);
5. nothing to read (stickers, only emoji) → a gentle request to write;
6. not Japanese → やさしい日本語 with an English line;
7. a flow in progress (registry.flow), then the message's intent (registry.intent);
8. words the bot cannot place → the consult path (acknowledge, ask the district, offer a
   person), then a person; never 「読み取れませんでした」 for a message with words in it.

Other flows plug in through handlers.registry; a handler returning None means "not mine".
"""

from __future__ import annotations

from handlers import casework, registry
from handlers.inbound import FOLLOW, NON_TEXT, POSTBACK, TEXT
from handlers.replies import Reply
from handlers.turn import Turn
from storage import cases, conversation, privacy

# Intents the bot still answers while a person has the case.
_WHILE_CLAIMED = ("delete_data",)


def handle(turn: Turn) -> list[Reply]:
    _load_flows()
    from handlers.flows import safety, safety_check, welcome

    _resume_after_deletion(turn)
    kind = turn.inbound.kind
    if kind == FOLLOW:
        return welcome.welcome(turn)
    if kind == TEXT and safety.is_urgent(turn):
        return safety.urgent(turn)
    if kind == TEXT and safety_check.is_check(turn):
        return safety_check.check(turn)
    if kind == POSTBACK:
        return _postback(turn)
    return handle_text(turn)


def handle_text(turn: Turn) -> list[Reply]:
    """Everything after safety and buttons (also used to carry on with a message after the
    resident answered the check question 「そうではない」)."""
    _load_flows()
    from handlers.flows import fallback, language

    kind = turn.inbound.kind
    if _claimed_by_person(turn):
        return []
    if kind in NON_TEXT:
        from handlers.content import load_pack

        return [Reply(load_pack().text("please_write_text"))]
    if kind != TEXT:
        return []
    if fallback.nothing_to_read(turn.inbound.text):
        return fallback.gentle(turn)
    if language.is_foreign(turn):
        return language.easy_japanese(turn)
    replies = _flow_or_intent(turn)
    if replies is None:
        return fallback.not_understood(turn)
    fallback.understood(turn)
    return replies


def _postback(turn: Turn) -> list[Reply]:
    data = turn.inbound.postback_data or ""
    handler = registry.POSTBACKS.get(data.split(":", 1)[0])
    replies = handler(turn) if handler else None
    if replies is None:  # a button from an older version of the bot, or a forged one
        from handlers.content import load_pack
        from handlers.flows.welcome import MAIN_MENU

        return [Reply(load_pack().text("button_expired"), MAIN_MENU)]
    return replies


def _flow_or_intent(turn: Turn) -> list[Reply] | None:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow and (handler := registry.FLOWS.get(state.flow)):
        replies = handler(turn)
        if replies is not None:
            return replies
    for recognise in registry.REQUESTS:
        if (replies := recognise(turn)) is not None:
            return replies
    if turn.analysis is not None and (handler := registry.INTENTS.get(turn.analysis.intent)):
        return handler(turn)
    return None


def _claimed_by_person(turn: Turn) -> bool:
    """While staff hold the case, the resident's words go to them, not to the bot."""
    case = cases.handled_by_person(turn.session, turn.resident)
    if case is None:
        return False
    if turn.analysis is not None and turn.analysis.intent in _WHILE_CLAIMED:
        return False
    message_id = cases.latest_inbound_id(turn.session, turn.resident)
    casework.resident_wrote(turn.session, case, message_id, turn.now)
    return True


def _resume_after_deletion(turn: Turn) -> None:
    """A resident who deleted their data and writes again starts fresh, with their id kept
    (it is needed to answer them)."""
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if privacy.cancel_erasure(state, turn.now) and turn.inbound.user_id:
        turn.resident.channel_user_id = turn.inbound.user_id


def _load_flows() -> None:
    """Import the flow modules once; importing registers them."""
    import handlers.flows  # noqa: F401
