"""Staff see why: the case card shows the risk band, score and evidence; the dashboard counts
the answers to the safety check question so the city can tune the "check" band."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from scheduler.jobs import safety_checks as sweep
from tests.conversation.test_check_band import VAGUE, WEEKDAY_10, Bot, reading
from tests.staff.conftest import add_staff, login


def test_the_case_card_shows_risk_level_score_and_evidence(client, svc):
    bot = Bot(svc)
    bot.say(VAGUE, WEEKDAY_10, reading(VAGUE, score=0.61, topics=(("isolation", "疲れ"),)))
    sweep.run(svc.factory, WEEKDAY_10 + timedelta(minutes=10))
    [case] = bot.cases()
    add_staff(svc, "sato")
    login(client, "sato")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "危険度" in page and "確認が必要（スコア 0.61）" in page
    assert "確認の質問に10分応答なし" in page and "疲れ" in page  # the evidence
    assert "安全確認に応答なし" in page  # why the case was opened


def test_an_urgent_case_card_shows_its_reason_once(client, svc):
    bot = Bot(svc)
    bot.say("夫に殴られている", WEEKDAY_10, reading(
        "夫に殴られている", risk="urgent", score=0.93, urgent_kind="violence",
        urgent_reason="暴力を受けている可能性（根拠: 「殴られ」）"))
    [case] = bot.cases()
    add_staff(svc, "sato")
    login(client, "sato")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "緊急（スコア 0.93）" in page
    assert page.count("暴力を受けている可能性（根拠: 「殴られ」）") == 1


def test_the_dashboard_counts_the_check_answers(client, svc):
    for user, answer in [("U1", "danger"), ("U2", "fine"), ("U3", "fine"), ("U4", "person"),
                         ("U5", None)]:
        bot = Bot(svc, user)
        bot.say(VAGUE, WEEKDAY_10)
        if answer:
            asked = bot.checks()[-1]  # (checks() lists everyone's questions)
            bot.tap(f"safety:{answer}:{asked.id}", WEEKDAY_10 + timedelta(minutes=1))
    sweep.run(svc.factory, WEEKDAY_10 + timedelta(minutes=10))
    add_staff(svc, "sato")
    login(client, "sato")
    page = client.get("/staff/dashboard?fy=2026").get_data(as_text=True)
    section = page[page.index('id="check-answers"'):]
    for label, n in [("今、危ない", 1), ("そうではない", 2), ("人と話したい", 1), ("応答なし", 1)]:
        assert f"<td>{label}</td><td>{n}</td>" in section
    body = client.get("/staff/dashboard.csv?fy=2026").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert ["check_answer", "no_answer", "応答なし", "1"] in rows
    assert ["check_answer", "fine", "そうではない", "2"] in rows
