"""Safety triage end to end: LINE webhook → worker (real NLU) → fake LINE server on loopback,
the scheduler's sweep at chosen times, a worker restart in the middle of a question."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.worker import Worker
from common.clock import TOKYO
from scheduler.jobs import safety_checks as sweep
from storage.models import Message, SafetyCheck
from tests.conversation.conftest import Chat, joined

USER = "U00000000000000000000000000c0a77"
WEEKDAY_10 = datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO)  # Tuesday, office hours
WEEKDAY_02 = datetime(2026, 6, 9, 2, 0, tzinfo=TOKYO)  # Tuesday night
HOLIDAY_10 = datetime(2026, 7, 20, 10, 0, tzinfo=TOKYO)  # 海の日

# A message the trained reader is unsure about (tiredness, "nothing matters", no plan said):
# it reads "check". test_the_reader_is_unsure_about_the_check_message guards that premise.
CHECK_MESSAGE = "もう疲れました。何もかもどうでもよくなってきました"


def make_worker(svc: Any, clock: Any) -> Worker:
    return Worker(svc.factory, svc.channels, clock=clock, worker_id="safety-worker")


@pytest.fixture
def line_chat(client, fake_line, svc, clock) -> Chat:
    clock.now = WEEKDAY_10
    return Chat(client, make_worker(svc, clock), fake_line, svc, USER)


def test_the_reader_is_unsure_about_the_check_message():
    import nlu

    assert nlu.analyze(CHECK_MESSAGE).risk == "check"


def ask(chat: Chat) -> tuple[list[str], SafetyCheck]:
    texts = chat.say(CHECK_MESSAGE)
    with chat.svc.factory() as session:
        asked = session.scalars(select(SafetyCheck)).one()
    return texts, asked


def answer_of(chat: Chat) -> str | None:
    with chat.svc.factory() as session:
        return session.scalars(select(SafetyCheck.answer)).one()


# -- urgent ------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", [WEEKDAY_02, HOLIDAY_10])
def test_a_suicidal_message_out_of_hours_gets_a_24_hour_line_first(line_chat, clock, moment):
    clock.now = moment
    texts = line_chat.say("もう死にたい。消えてしまいたい")
    first = texts[0].splitlines()
    assert first[1] == "・よりそいホットライン：0120-279-338（24時間（通話料無料））"
    assert "119" in texts[0]
    assert "公式サイト" not in joined(texts)  # no line whose hours we cannot vouch for
    assert any("受付時間外" in t for t in texts)
    [case] = line_chat.cases()
    assert (case.priority, case.risk) == ("urgent", "urgent")


def test_an_overdose_gets_119_first_in_a_short_first_bubble(line_chat):
    texts = line_chat.say("薬をたくさん飲んでしまった")
    lines = texts[0].splitlines()
    assert lines[1].endswith("：119（24時間）")
    assert len(lines) <= 4  # the numbers only; the rest comes after


# -- check: each answer -----------------------------------------------------------------


def test_check_question_over_line_with_a_line_open_now_at_night(line_chat, clock, pack):
    clock.now = WEEKDAY_02
    texts, _ = ask(line_chat)
    assert len(texts) == 1 and pack.text("check_question") in texts[0]
    assert "0120-279-338（24時間" in texts[0]
    labels = [b["label"] for b in line_chat.buttons()]
    assert labels == ["今、危ない", "そうではない", "人と話したい"]


def test_check_answered_danger_goes_the_urgent_path(line_chat):
    _, asked = ask(line_chat)
    texts = line_chat.tap(f"safety:danger:{asked.id}")
    assert texts[0].startswith("あなたの安全がいちばん大切です")
    assert "110" in texts[0] or "119" in texts[0]
    [case] = line_chat.cases()
    assert case.priority == "urgent" and "今、危ない" in case.risk_reason
    assert answer_of(line_chat) == "danger"


def test_check_answered_not_now_continues_with_the_original_message(line_chat, pack):
    _, asked = ask(line_chat)
    texts = line_chat.tap(f"safety:fine:{asked.id}")
    assert texts[0] == pack.text("check_fine_thanks")
    # the original message got its normal answer: こころの健康 was read from it, a line is open
    assert texts[1].startswith(pack.text("consult_ack", topics="こころの健康"))
    assert "0120-279-338" in joined(texts)
    assert answer_of(line_chat) == "fine"
    with line_chat.svc.factory() as session:  # and it is still in the history
        written = session.scalars(select(Message.text).where(Message.direction == "in")).all()
    assert CHECK_MESSAGE in written


def test_check_answered_person_opens_a_case(line_chat):
    _, asked = ask(line_chat)
    texts = line_chat.tap(f"safety:person:{asked.id}")
    assert "職員におつなぎしました" in joined(texts)
    [case] = line_chat.cases()
    assert (case.priority, case.risk, case.opened_reason) == ("high", "check", "check_person")


def test_check_unanswered_for_ten_minutes_becomes_a_high_priority_case(line_chat, clock, pack):
    clock.now = WEEKDAY_02
    ask(line_chat)
    clock.advance(minutes=5)
    assert sweep.run(line_chat.svc.factory, clock()) == 0
    clock.advance(minutes=5)
    before = len(line_chat.line.calls)
    assert sweep.run(line_chat.svc.factory, clock()) == 1
    line_chat.worker.deliver()
    pushed = [t for c in line_chat.line.calls[before:] if c.to == USER for t in c.texts]
    assert any(pack.text("check_no_answer") in t and "0120-279-338" in t for t in pushed)
    [case] = line_chat.cases()
    assert (case.priority, case.risk, case.opened_reason) == ("high", "check", "check_no_answer")
    assert answer_of(line_chat) == "no_answer"


def test_a_worker_restart_between_question_and_answer_loses_nothing(line_chat, svc, clock, pack):
    _, asked = ask(line_chat)
    line_chat.worker = make_worker(svc, clock)  # a fresh process: nothing kept in memory
    texts = line_chat.say("大丈夫です")
    assert texts[0] == pack.text("check_fine_thanks")
    assert answer_of(line_chat) == "fine"


# -- no dead end -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["たすけてください…", "どうしたらいいのかわからない",
                                  "ぽんぽこぴー"])
def test_words_the_bot_cannot_place_never_get_could_not_read(line_chat, pack, text):
    texts = line_chat.say(text)
    assert "読み取れ" not in joined(texts)
    assert texts  # an answer, with a way to a person or a line that answers now
    to_a_person = any(b.get("data") == "handoff:consult" or b.get("text") == "人と話したい"
                      for b in line_chat.buttons())
    assert to_a_person or "0120-279-338" in joined(texts)


def test_only_punctuation_gets_the_gentle_request_to_write(line_chat, pack):
    assert line_chat.say("。。。！？") == [pack.text("emoji_only")]


def test_a_resident_who_keeps_being_unplaced_reaches_a_person(line_chat, clock):
    line_chat.say("ぽんぽこぴー")
    clock.advance(minutes=1)
    texts = line_chat.say("ぴーひゃら")
    assert "職員におつなぎしました" in joined(texts)
    assert line_chat.cases()[0].opened_reason == "not_understood"


def test_a_sweep_running_hours_late_still_opens_the_case(line_chat, clock):
    """The question's timer is a database row: a sweep hours late (after a restart) still
    finds it."""
    clock.now = WEEKDAY_02
    ask(line_chat)
    clock.advance(hours=5)
    assert sweep.run(line_chat.svc.factory, clock()) == 1
    assert line_chat.cases()[0].priority == "high"


def test_check_timer_counts_from_the_question(line_chat, clock):
    ask(line_chat)
    assert sweep.run(line_chat.svc.factory, clock() + timedelta(minutes=9)) == 0
