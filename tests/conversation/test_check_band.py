"""The three risk bands through the flows, with a stub reading (Analysis) and a real database.

nlu's lexicon reader only says "urgent" or "none" today; a trained model will also say
"check" (possible danger it is not sure of). These tests give the flows a hand-made
Analysis, so the rules are specified independently of any reader."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import handlers
from common.clock import TOKYO
from handlers import registry
from handlers.inbound import POSTBACK, TEXT, Inbound
from handlers.replies import Reply
from handlers.turn import Turn
from nlu.analysis import Analysis, TopicHit
from scheduler.jobs import safety_checks as sweep
from storage import conversation, crypto, residents
from storage import safety_checks as store
from storage.db import transaction
from storage.models import Case, ConversationState, Message, Outbox, SafetyCheck

USER = "U0000000000000000000000000000c4e1"
OTHER = "U0000000000000000000000000000c4e2"
WEEKDAY_10 = datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO)  # Tuesday, office hours
WEEKDAY_02 = datetime(2026, 6, 9, 2, 0, tzinfo=TOKYO)  # Tuesday night
HOLIDAY_10 = datetime(2026, 7, 20, 10, 0, tzinfo=TOKYO)  # 海の日
WRITTEN = (Message.kind == TEXT) & (Message.direction == "in")  # the resident's texts
VAGUE = "もう疲れました。いままでありがとう"  # a farewell tone: the reader is not sure


def reading(text: str, risk: str = "check", score: float = 0.55, topics: tuple = (),
            intent: str = "consult", urgent_kind: str | None = None,
            urgent_reason: str | None = None, about: str = "self") -> Analysis:
    return Analysis(
        text=text, risk=risk, risk_score=score, urgent=risk == "urgent",
        urgent_kind=urgent_kind, urgent_reason=urgent_reason, intent=intent, about=about,
        topics=[TopicHit(t, 0.9, [w]) for t, w in topics],
    )


class Bot:
    """One resident's turns straight into handlers.handle, each in its own transaction,
    stored as the worker stores them (the inbound Message first)."""

    def __init__(self, svc: Any, user: str = USER) -> None:
        self.svc, self.user = svc, user

    def _turn(self, session: Any, inbound: Inbound, analysis: Analysis | None,
              now: datetime) -> list[Reply]:
        resident = residents.get_or_create(
            session, resident_key=crypto.resident_key("line", self.user), channel="line",
            user_id=self.user, now=now)
        message = Message(resident_id=resident.id, direction="in", sender="resident",
                          kind=inbound.kind, text=inbound.text, created_at=now)
        session.add(message)
        session.flush()
        return handlers.handle(Turn(session, resident, inbound, analysis, now, message))

    def say(self, text: str, now: datetime, analysis: Analysis | None = None) -> list[Reply]:
        inbound = Inbound(kind=TEXT, channel="line", user_id=self.user, occurred_at=now,
                          text=text)
        with transaction(self.svc.factory) as session:
            return self._turn(session, inbound, analysis or reading(text), now)

    def tap(self, data: str, now: datetime) -> list[Reply]:
        inbound = Inbound(kind=POSTBACK, channel="line", user_id=self.user, occurred_at=now,
                          postback_data=data)
        with transaction(self.svc.factory) as session:
            return self._turn(session, inbound, None, now)

    def checks(self) -> list[SafetyCheck]:
        with self.svc.factory() as session:
            return list(session.scalars(select(SafetyCheck).order_by(SafetyCheck.id)))

    def cases(self) -> list[Case]:
        with self.svc.factory() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def state(self) -> ConversationState:
        with self.svc.factory() as session:
            return session.scalars(select(ConversationState)).one()


@pytest.fixture
def bot(svc) -> Bot:
    return Bot(svc)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def button(replies: list[Reply], label: str) -> str:
    [data] = [q.data for q in replies[-1].quick_replies if q.label == label]
    return data


# -- the question ------------------------------------------------------------------------


@pytest.mark.parametrize("now", [WEEKDAY_10, WEEKDAY_02, HOLIDAY_10])
def test_check_asks_plainly_once_with_a_line_open_now_in_the_same_message(bot, pack, now):
    replies = bot.say(VAGUE, now)
    [question] = replies
    assert question.text.startswith(pack.text("check_question"))
    assert "0120-279-338（24時間" in question.text  # open at any hour
    labels = [q.label for q in question.quick_replies]
    assert labels == ["今、危ない", "そうではない", "人と話したい"]
    [asked] = bot.checks()
    assert asked.answer is None and asked.due_at == now + timedelta(minutes=10)
    assert bot.state().flow == "safety_check"
    assert bot.cases() == []  # nobody is paged yet


def test_the_line_in_the_question_fits_the_situation(bot):
    replies = bot.say("夫がこわい", WEEKDAY_02,
                      reading("夫がこわい", topics=(("domestic_violence", "夫"),)))
    assert "DV相談＋" in replies[0].text and "0120-279-889" in replies[0].text


def test_the_question_is_never_asked_twice(bot):
    bot.say(VAGUE, WEEKDAY_02)
    replies = bot.say("やっぱり何でもないです", WEEKDAY_02 + timedelta(minutes=1))
    assert len(bot.checks()) == 1
    assert "今、あなたや誰かの命や安全が危ない" not in text_of(replies)
    again = bot.say(VAGUE, WEEKDAY_02 + timedelta(minutes=2))
    assert len(bot.checks()) == 1
    assert "今、あなたや誰かの命や安全が危ない" not in text_of(again)
    assert "0120-279-338" in text_of(again)  # every check reply names a line open now


# -- the answers -------------------------------------------------------------------------


def test_danger_takes_the_urgent_path(bot):
    question = bot.say("もう限界。ベランダにいます", WEEKDAY_02)
    replies = bot.tap(button(question, "今、危ない"), WEEKDAY_02 + timedelta(minutes=1))
    assert replies[0].text.startswith("あなたの安全がいちばん大切です")
    [case] = bot.cases()
    assert (case.priority, case.risk, case.opened_reason) == ("urgent", "urgent", "urgent")
    assert "今、危ない" in case.risk_reason
    assert bot.checks()[0].answer == "danger"
    with bot.svc.factory() as session:  # staff see the message the question was about
        filed = session.scalars(select(Message).where(WRITTEN)).one()
        assert filed.case_id == case.id


def test_not_now_carries_on_with_the_original_message(bot, pack):
    original = "母の介護のことで、もう疲れました"
    bot.say(original, WEEKDAY_10, reading(original, topics=(("elderly_care", "介護"),)))
    [asked] = bot.checks()
    replies = bot.tap(f"safety:fine:{asked.id}", WEEKDAY_10 + timedelta(minutes=2))
    assert replies[0].text == pack.text("check_fine_thanks")
    assert pack.text("consult_ack", topics="介護") in text_of(replies)  # the original, answered
    assert bot.cases() == []
    [asked] = bot.checks()
    assert asked.answer == "fine" and asked.analysis is None  # the text is not kept
    # a second tap does not answer the message twice
    assert [r.text for r in bot.tap(f"safety:fine:{asked.id}", WEEKDAY_10)] == [
        pack.text("check_fine_thanks")]


def test_not_now_resumes_the_flow_the_question_interrupted(bot, svc, monkeypatch):
    monkeypatch.setitem(registry.FLOWS_REGISTRY.flows, "fake", lambda turn: [Reply("FAKE FLOW")])
    bot.say("こんにちは", WEEKDAY_10, reading("こんにちは", risk="none", intent="greeting"))
    with transaction(svc.factory) as session:
        state = session.scalars(select(ConversationState)).one()
        conversation.enter(state, "fake", "step", WEEKDAY_10)
    bot.say(VAGUE, WEEKDAY_10)
    [asked] = bot.checks()
    replies = bot.tap(f"safety:fine:{asked.id}", WEEKDAY_10 + timedelta(minutes=1))
    assert replies[-1].text == "FAKE FLOW"  # the booking (or whatever it was) goes on
    assert bot.state().flow == "fake"


def test_wanting_a_person_opens_a_high_priority_case_and_gives_the_line(bot):
    bot.say(VAGUE, WEEKDAY_02)
    [asked] = bot.checks()
    replies = bot.tap(f"safety:person:{asked.id}", WEEKDAY_02 + timedelta(minutes=1))
    [case] = bot.cases()
    assert (case.priority, case.risk, case.opened_reason) == ("high", "check", "check_person")
    assert "人と話したい" in case.risk_reason and case.risk_score == pytest.approx(0.55)
    assert "0120-279-338" in text_of(replies)
    assert "受付時間外" in text_of(replies)  # and honest about when a person reads it
    assert bot.checks()[0].answer == "person" and bot.checks()[0].case_id == case.id


@pytest.mark.parametrize(("typed", "answer"), [
    ("大丈夫です", "fine"), ("そうではないです", "fine"), ("いいえ", "fine"),
    ("大丈夫じゃない", "danger"), ("危ないです", "danger"), ("職員の人と話したい", "person"),
])
def test_answers_can_be_typed(bot, typed, answer):
    bot.say(VAGUE, WEEKDAY_10)
    bot.say(typed, WEEKDAY_10 + timedelta(minutes=1),
            reading(typed, risk="none", intent="consult"))
    assert bot.checks()[0].answer == answer


def test_an_urgent_message_while_the_question_waits_answers_it(bot):
    bot.say(VAGUE, WEEKDAY_02)
    replies = bot.say("薬をたくさん飲んだ", WEEKDAY_02 + timedelta(minutes=1), reading(
        "薬をたくさん飲んだ", risk="urgent", score=0.97, urgent_kind="suicide",
        urgent_reason="自殺・自傷（根拠: 「薬をたくさん飲」）",
        topics=(("suicide_risk", "薬をたくさん飲"),)))
    assert replies[0].text.splitlines()[1].endswith("：119（24時間）")
    assert bot.checks()[0].answer == "danger"
    assert bot.cases()[0].risk == "urgent"


def test_a_button_of_someone_else_s_question_is_refused(bot, svc, pack):
    bot.say(VAGUE, WEEKDAY_10)
    [asked] = bot.checks()
    replies = Bot(svc, OTHER).tap(f"safety:danger:{asked.id}", WEEKDAY_10)
    assert [r.text for r in replies] == [pack.text("button_expired")]
    assert bot.checks()[0].answer is None


# -- no answer ---------------------------------------------------------------------------


def test_no_answer_in_ten_minutes_opens_a_high_priority_case_once(bot, svc, pack):
    bot.say(VAGUE, WEEKDAY_02, reading(VAGUE, score=0.61, topics=(("isolation", "疲れ"),)))
    assert sweep.run(svc.factory, WEEKDAY_02 + timedelta(minutes=9, seconds=59)) == 0
    assert bot.cases() == []
    assert sweep.run(svc.factory, WEEKDAY_02 + timedelta(minutes=10)) == 1
    [case] = bot.cases()
    assert (case.priority, case.risk, case.opened_reason) == ("high", "check", "check_no_answer")
    assert "応答なし" in case.risk_reason and "疲れ" in case.risk_reason
    assert case.risk_score == pytest.approx(0.61)
    [asked] = bot.checks()
    assert (asked.answer, asked.case_id) == ("no_answer", case.id)
    with svc.factory() as session:
        [push] = session.scalars(select(Outbox).where(Outbox.inbound_event_id.is_(None))).all()
        pushed = "\n".join(m["text"] for m in push.messages)
        filed = session.scalars(select(Message).where(WRITTEN)).one()
    assert pack.text("check_no_answer") in pushed and "0120-279-338" in pushed
    assert filed.case_id == case.id  # staff see the message
    # a second sweep (or one running late, after a restart) does nothing more
    assert sweep.run(svc.factory, WEEKDAY_02 + timedelta(hours=3)) == 0
    assert len(bot.cases()) == 1


def test_an_answer_after_the_sweep_is_still_acted_on_but_counted_once(bot, svc):
    bot.say(VAGUE, WEEKDAY_02)
    sweep.run(svc.factory, WEEKDAY_02 + timedelta(minutes=11))
    [asked] = bot.checks()
    replies = bot.tap(f"safety:danger:{asked.id}", WEEKDAY_02 + timedelta(minutes=12))
    assert replies[0].text.startswith("あなたの安全がいちばん大切です")
    [case] = bot.cases()
    assert case.priority == "urgent"
    assert bot.checks()[0].answer == "no_answer"


def test_the_counts_for_the_dashboard(bot, svc):
    for user, answer in [("U1", "danger"), ("U2", "fine"), ("U3", "person"), ("U4", None)]:
        other = Bot(svc, user)
        other.say(VAGUE, WEEKDAY_10)
        if answer:
            [asked] = [c for c in other.checks() if c.answer is None]
            other.tap(f"safety:{answer}:{asked.id}", WEEKDAY_10 + timedelta(minutes=1))
    Bot(svc, "U5").say(VAGUE, WEEKDAY_10 + timedelta(minutes=5))
    sweep.run(svc.factory, WEEKDAY_10 + timedelta(minutes=11))
    with svc.factory() as session:
        counts = store.answer_counts(session, WEEKDAY_10 - timedelta(days=1),
                                     WEEKDAY_10 + timedelta(days=1))
    assert counts == {"danger": 1, "fine": 1, "person": 1, "no_answer": 1, "waiting": 1}


# -- none and urgent still behave ---------------------------------------------------------


def test_none_is_not_asked(bot):
    replies = bot.say("母の介護が心配です", WEEKDAY_10, reading(
        "母の介護が心配です", risk="none", score=0.02, topics=(("elderly_care", "介護"),)))
    assert bot.checks() == []
    assert "今、あなたや誰かの命や安全が危ない" not in text_of(replies)


def test_urgent_cases_carry_their_risk_score_and_evidence(bot):
    bot.say("夫に殴られている", WEEKDAY_10, reading(
        "夫に殴られている", risk="urgent", score=0.93, urgent_kind="violence",
        urgent_reason="暴力を受けている可能性（根拠: 「殴られ」）",
        topics=(("domestic_violence", "夫"),)))
    [case] = bot.cases()
    assert (case.risk, case.risk_score) == ("urgent", pytest.approx(0.93))
    assert "殴られ" in case.risk_reason


def test_deleting_ones_data_leaves_only_the_count(bot, svc):
    from storage.models import Resident
    from storage.privacy import delete_resident_data

    bot.say(VAGUE, WEEKDAY_10, reading(VAGUE, topics=(("isolation", "疲れ"),)))
    with transaction(svc.factory) as session:
        delete_resident_data(session, session.scalars(select(Resident)).one(), WEEKDAY_10)
    [asked] = bot.checks()
    assert (asked.resident_id, asked.message_id, asked.analysis, asked.evidence) == (
        None, None, None, None)
    with svc.factory() as session:
        assert store.answer_counts(session, WEEKDAY_10 - timedelta(hours=1),
                                   WEEKDAY_10 + timedelta(hours=1))["waiting"] == 1
    assert sweep.run(svc.factory, WEEKDAY_10 + timedelta(minutes=10)) == 0  # nobody to page


def test_a_person_holding_the_case_sees_the_message_and_the_bot_still_asks(bot, svc):
    bot.say("人と話したい", WEEKDAY_02, reading("人と話したい", risk="none", intent="human"))
    with transaction(svc.factory) as session:
        session.scalars(select(Case)).one().status = "claimed"
    replies = bot.say(VAGUE, WEEKDAY_02 + timedelta(minutes=5))
    assert "今、あなたや誰かの命や安全が危ない" in replies[0].text  # nobody may be at work
    [case] = bot.cases()
    with svc.factory() as session:
        filed = session.scalars(select(Message.case_id).where(WRITTEN)).all()
    assert filed == [case.id, case.id]


def test_the_sweep_is_registered_with_the_scheduler_and_runs_from_its_entry_point(
        bot, svc, monkeypatch):
    from scheduler import context
    from scheduler.runner import SWEEPS, load_jobs

    load_jobs()
    assert ("safety_checks", "scheduler.jobs.safety_checks:sweep", 30) in SWEEPS
    bot.say(VAGUE, WEEKDAY_10)  # long before the real clock: due by now
    monkeypatch.setattr(context, "_services", svc)
    sweep.sweep()
    assert bot.checks()[0].answer == "no_answer"


def test_after_a_day_only_the_labels_of_a_question_stay(bot, svc):
    bot.say(VAGUE, WEEKDAY_10, reading(VAGUE, topics=(("isolation", "疲れ"),)))
    sweep.run(svc.factory, WEEKDAY_10 + timedelta(hours=23))
    [asked] = bot.checks()
    assert asked.answer == "no_answer" and asked.analysis is not None  # a late answer still works
    sweep.run(svc.factory, WEEKDAY_10 + timedelta(days=1))
    [asked] = bot.checks()
    assert (asked.analysis, asked.evidence) == (None, None)
    assert (asked.answer, asked.topics) == ("no_answer", ["isolation"])


# -- English writers are asked in English ----------------------------------------------------

EN_VAGUE = "I am so tired of everything. Thank you for all you did"


def test_an_english_writer_is_asked_in_english_with_a_line_open_now(bot, pack):
    [question] = bot.say(EN_VAGUE, WEEKDAY_02)
    assert question.text.startswith(pack.text("en_check_question"))
    assert "Yorisoi Hotline (any worry): 0120-279-338 (24 hours)" in question.text
    assert [q.label for q in question.quick_replies] == [
        "In danger now", "No, not now", "Talk to a person"]


def test_an_english_writer_in_danger_gets_the_numbers_in_english(bot, pack):
    question = bot.say(EN_VAGUE, WEEKDAY_02)
    replies = bot.tap(button(question, "In danger now"), WEEKDAY_02 + timedelta(minutes=1))
    assert replies[0].text.startswith(pack.text("en_urgent_intro"))
    assert "0120-279-338" in replies[0].text or "119" in replies[0].text
    [case] = bot.cases()
    assert (case.priority, case.risk) == ("urgent", "urgent") and "今、危ない" in case.risk_reason


@pytest.mark.parametrize(("typed", "answer"), [
    ("No, I'm fine", "fine"), ("I'm not in danger", "fine"), ("yes", "danger"),
    ("I want to talk to a person", "person"),
])
def test_english_answers_can_be_typed(bot, typed, answer):
    bot.say(EN_VAGUE, WEEKDAY_10)
    bot.say(typed, WEEKDAY_10 + timedelta(minutes=1), reading(typed, risk="none"))
    assert bot.checks()[0].answer == answer


def test_no_answer_from_an_english_writer_is_told_in_english(bot, svc, pack):
    bot.say(EN_VAGUE, WEEKDAY_02)
    sweep.run(svc.factory, WEEKDAY_02 + timedelta(minutes=10))
    with svc.factory() as session:
        [push] = session.scalars(select(Outbox).where(Outbox.inbound_event_id.is_(None))).all()
    pushed = "\n".join(m["text"] for m in push.messages)
    assert pack.text("en_check_no_answer") in pushed and "The office is closed now" in pushed
