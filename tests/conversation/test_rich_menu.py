"""The LINE rich menu, tapped end to end: each area's action (postback or text) goes
through the webhook, the worker, the NLU and the flows, and answers what its label says."""

from __future__ import annotations

from bot.line_setup import menu_request


def tap_area(chat, label: str) -> list[str]:
    [action] = [a.action for a in menu_request().areas if a.action.label == label]
    if action.type == "postback":
        return chat.tap(action.data)
    return chat.say(action.text)


def test_the_faq_button_gives_the_faq_menu(chat, pack):
    texts = tap_area(chat, "よくある質問")
    assert texts == [pack.text("faq_menu")]
    questions = {entry.id: entry for entry in pack.faq}
    buttons = chat.buttons()
    assert len(buttons) >= 3
    for button in buttons:  # each is a listed question, answered when tapped
        assert button["data"].startswith("faq:") and button["data"][4:] in questions
    first = buttons[0]["data"][4:]
    assert chat.tap(buttons[0]["data"]) == [questions[first].answer]


def test_the_consult_button_asks_what_is_wrong(chat, pack):
    assert tap_area(chat, "相談したい") == [pack.text("consult_prompt")]


def test_the_booking_button_starts_a_booking(chat):
    texts = tap_area(chat, "予約")
    assert texts and "予約" in texts[-1]
    assert chat.state().flow == "booking"


def test_the_human_button_opens_a_case(chat):
    assert tap_area(chat, "人と話したい")
    [case] = chat.cases()
    assert case.opened_reason == "human"
