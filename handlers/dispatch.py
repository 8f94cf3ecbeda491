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
6. English → the English conversation (flows/english.py; its danger words are read before
   step 2 so the numbers come in English); other languages → やさしい日本語 with the
   window's number and a person, never a loop;
7. a flow in progress (registry.flow), then the message's intent (registry.intent);
8. words the bot cannot place → the consult path (acknowledge, ask the district, offer a
   person), then a person; never 「読み取れませんでした」 for a message with words in it.

Other flows plug in through handlers.registry; a handler returning None means "not mine".
"""

from __future__ import annotations

from handlers import casework
from handlers.case_filing import lines_open_now, when_a_person_reads
from handlers.content import load_pack
from handlers.flows import (
    booking,
    checkin,
    consult,
    english,
    fallback,
    language,
    safety,
    safety_check,
    welcome,
)
from handlers.hotlines import line_text
from handlers.hours import is_open, next_open
from handlers.inbound import FOLLOW, NON_TEXT, POSTBACK, TEXT
from handlers.menu import MAIN_MENU
from handlers.registry import FLOWS_REGISTRY, Registry
from handlers.replies import Reply
from handlers.turn import Turn
from storage import cases, conversation, privacy

# Intents the bot still answers while a person has the case.
_WHILE_CLAIMED = ("delete_data",)


def handle(turn: Turn, flows: Registry = FLOWS_REGISTRY) -> list[Reply]:
    _resume_after_deletion(turn)
    checkin.read_in_context(turn)
    kind = turn.inbound.kind
    if kind == FOLLOW:
        return welcome.welcome(turn)
    if kind == TEXT and safety_check.is_a_button_label(turn) and (
        answer := safety_check.typed(turn)
    ) is not None:
        return answer  # 「そうではない」 / "No, not now" is the answer, not words to read
    if kind == TEXT and english.is_english(turn) and (
        safety.is_urgent(turn) or english.danger(turn.inbound.text or "")
    ):
        return english.urgent(turn, english.danger(turn.inbound.text or "")
                              or (turn.analysis.urgent_kind if turn.analysis else None))
    if kind == TEXT and safety.is_urgent(turn):
        return safety.urgent(turn)
    if kind == TEXT and safety_check.is_check(turn) and not _asks_nothing_new(turn):
        return safety_check.check(turn)
    if kind == TEXT and (answer := safety_check.typed(turn)) is not None:
        return answer  # 「大丈夫です」 to the question just asked
    if kind == POSTBACK:
        return _postback(turn, flows)
    return handle_text(turn, flows)


def handle_text(turn: Turn, flows: Registry = FLOWS_REGISTRY) -> list[Reply]:
    """Everything after safety and buttons (also how a message carries on after the
    resident answered the check question 「そうではない」)."""
    kind = turn.inbound.kind
    if _claimed_by_person(turn):
        return _claimed_out_of_hours(turn)
    if kind in NON_TEXT:
        return [Reply(load_pack().text("please_write_text"))]
    if kind != TEXT:
        return []
    if fallback.nothing_to_read(turn.inbound.text):
        return fallback.gentle(turn)
    if english.is_english(turn):
        return english.reply(turn)
    if language.is_foreign(turn):
        return language.easy_japanese(turn)
    replies = _flow_or_intent(turn, flows)
    if replies is None:
        return fallback.not_understood(turn)
    fallback.understood(turn)
    return replies


def _asks_nothing_new(turn: Turn) -> bool:
    """A "check" reading the question 「今、危ないですか？」 would not help: the message is the
    town the bot just asked for, only the date a booking asked for, or in a language other
    than Japanese or English (their reply carries a line open now instead, in やさしい日本語)."""
    if consult.answers_the_town_question(turn) or booking.answers_with_only_a_date(turn):
        return True
    return language.is_foreign(turn) and not english.is_english(turn)


def _postback(turn: Turn, flows: Registry) -> list[Reply]:
    handler = flows.for_postback(turn)
    replies = handler(turn) if handler else None
    if replies is None:  # a button from an older version of the bot, or a forged one
        return [Reply(load_pack().text("button_expired"), MAIN_MENU)]
    return replies


def _flow_or_intent(turn: Turn, flows: Registry) -> list[Reply] | None:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if (handler := flows.for_flow(state.flow)) is not None:
        replies = handler(turn)
        if replies is not None:
            return replies
    for recognise in flows.requests:
        if (replies := recognise(turn)) is not None:
            return replies
    if turn.analysis is not None and (handler := flows.for_intent(turn.analysis.intent)):
        return handler(turn)
    return None


def _claimed_by_person(turn: Turn) -> bool:
    """While staff hold the case, the resident's words go to them, not to the bot."""
    case = cases.handled_by_person(turn.session, turn.resident)
    if case is None:
        return False
    if turn.analysis is not None and turn.analysis.intent in _WHILE_CLAIMED:
        return False
    casework.resident_wrote(turn.session, case, turn.message.id if turn.message else None,
                            turn.now)
    return True


def _claimed_out_of_hours(turn: Turn) -> list[Reply]:
    """Out of hours, once per closed period: when the person will read it, and a line open
    now. In hours the person is there to answer; the bot stays quiet."""
    pack = load_pack()
    if is_open(turn.now, pack):
        return []
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.claimed_ack_at is not None and next_open(state.claimed_ack_at, pack) > turn.now:
        return []  # already said during this closed period
    state.claimed_ack_at = turn.now
    case = cases.handled_by_person(turn.session, turn.resident)
    topics = list(case.topics or []) if case is not None else []
    lines = [line_text(h) for h in lines_open_now(topics, pack, turn.now)]
    text = "\n".join([pack.text("claimed_out_of_hours", next_open=when_a_person_reads(turn.now)),
                      *lines, pack.text("claimed_emergency_tail")])
    return [Reply(text)]


def _resume_after_deletion(turn: Turn) -> None:
    """A resident who deleted their data and writes again starts fresh, with their id kept
    (it is needed to answer them)."""
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if privacy.cancel_erasure(state, turn.now) and turn.inbound.user_id:
        turn.resident.channel_user_id = turn.inbound.user_id
